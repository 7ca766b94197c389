'use strict'
// Event-loop delay while flushing dirty pages: promises.sync (threadpool)
// against sync(buf, true) (on the event loop). Run alone with
// `node bench/eventloop.js [MiB]`, or from bench/index.js.
const fs = require('fs')
const os = require('os')
const path = require('path')
const { monitorEventLoopDelay } = require('perf_hooks')
const mmap = require('..')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Dirty every page of a fresh `bytes`-long file, then flush it with `flush`
// while a 1 ms-resolution histogram watches the event loop.
async function measure (dir, bytes, flush, seed) {
  const file = path.join(dir, `eventloop-${process.pid}.bin`)
  const buf = mmap.open(file, { mode: 'w+', size: bytes })
  try {
    for (let i = 0; i < bytes; i += mmap.PAGESIZE) buf[i] = (i / mmap.PAGESIZE + seed) & 255
    const h = monitorEventLoopDelay({ resolution: 1 })
    h.enable()
    await sleep(20) // the histogram records from its second tick on
    const start = process.hrtime.bigint()
    await flush(buf)
    const flushMs = Number(process.hrtime.bigint() - start) / 1e6
    await sleep(5)
    h.disable()
    return { flushMs, maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 }
  } finally {
    mmap.unmap(buf)
    fs.rmSync(file, { force: true })
  }
}

async function eventLoopDelay ({ dir = os.tmpdir(), mib = 512, repeats = 3 } = {}) {
  const bytes = mib * 2 ** 20
  const runs = { promises: [], blocking: [] }
  for (let r = 0; r < repeats; r++) {
    runs.promises.push(await measure(dir, bytes, (b) => mmap.promises.sync(b), 2 * r))
    runs.blocking.push(await measure(dir, bytes, async (b) => mmap.sync(b, true), 2 * r + 1))
  }
  return runs
}

module.exports = { eventLoopDelay }

if (require.main === module) {
  const mib = Number(process.argv[2] || 512)
  eventLoopDelay({ mib }).then((runs) => {
    for (const [name, list] of Object.entries(runs)) {
      for (const r of list) {
        console.log(`${name.padEnd(9)} flush ${r.flushMs.toFixed(1)} ms, event-loop delay max ${r.maxMs.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms`)
      }
    }
  })
}
