'use strict'
// Bench scenario 7, run in a child of bench/index.js by a runtime that has
// SharedArrayBuffer mappings: 8 worker threads get a view of one file, and
// each reads one byte per page.
//   node workers-view.js <mode> <file> <root>
// mode: shared (one SharedArrayBuffer mapping, sent with postMessage),
//       own (each worker maps the file), read (each worker readFileSync),
//       post (one ordinary mapping of the file and 8 postMessage calls of a
//       small Buffer: the floor for 'shared').
// Prints JSON: { ms: time from 'go' until all 8 have their view,
//                pssMiB: the process's PSS growth once all 8 have read }.
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads')
const fs = require('fs')

const PAGE = 4096

if (isMainThread) {
  const [mode, file, root] = process.argv.slice(2)
  const mmap = require(root)
  const pss = () => Number(/^Pss:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]) / 1024
  const workers = Array.from({ length: 8 }, () => new Worker(__filename, { workerData: { mode, file, root } }))
  let ready = 0
  let viewed = 0
  let read = 0
  let started = 0n
  let ms = 0
  const base = { pss: 0 }
  for (const w of workers) {
    w.on('error', (e) => { console.error(e); process.exit(1) })
    w.on('message', (m) => {
      if (m === 'ready' && ++ready === 8) {
        base.pss = pss()
        started = process.hrtime.bigint()
        if (mode === 'shared') {
          const buf = mmap.open(file, { sharedArrayBuffer: true })
          for (const x of workers) x.postMessage(buf)
        } else if (mode === 'post') {
          mmap.open(file)
          const small = Buffer.alloc(64)
          for (const x of workers) x.postMessage(small)
        } else {
          for (const x of workers) x.postMessage('go')
        }
      } else if (m === 'viewed' && ++viewed === 8) {
        ms = Number(process.hrtime.bigint() - started) / 1e6
        for (const x of workers) x.postMessage('read')
      } else if (typeof m === 'number' && ++read === 8) {
        console.log(JSON.stringify({ ms, pssMiB: pss() - base.pss }))
        process.exit(0)
      }
    })
  }
} else {
  const { mode, file, root } = workerData
  const mmap = require(root)
  let view = null
  parentPort.on('message', (m) => {
    if (m === 'read') {
      let sum = 0
      if (view.length > 64) for (let i = 0; i < view.length; i += PAGE) sum += view[i]
      parentPort.postMessage(sum)
      return
    }
    if (mode === 'own') view = mmap.open(file)
    else if (mode === 'read') view = fs.readFileSync(file)
    else view = m // shared, post: what was sent
    parentPort.postMessage('viewed')
  })
  parentPort.postMessage('ready')
}
