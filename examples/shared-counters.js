'use strict'
// A parent and 4 child processes increment the same counters with Atomics on
// an Int32Array over one MAP_SHARED mapping. Every increment is counted.
//   node examples/shared-counters.js [increments per process]
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn } = require('child_process')
const mmap = require('mmap-io')

const COUNTERS = 8
const [, , role, file, given] = process.argv

function work (counters, increments) {
  for (let i = 0; i < increments; i++) Atomics.add(counters, i % COUNTERS, 1)
}

if (role === 'child') {
  const buf = mmap.open(file, { mode: 'r+' })
  work(new Int32Array(buf.buffer, buf.byteOffset, COUNTERS), Number(given))
  mmap.unmap(buf)
} else {
  const increments = Number(role || 1000000)
  const shared = path.join(os.tmpdir(), `mmap-io-counters-${process.pid}.bin`)
  const buf = mmap.open(shared, { mode: 'w+', size: mmap.PAGESIZE })
  const counters = new Int32Array(buf.buffer, buf.byteOffset, COUNTERS)
  const children = Array.from({ length: 4 }, () =>
    spawn(process.execPath, [__filename, 'child', shared, String(increments)], { stdio: 'inherit' }))
  work(counters, increments) // the parent counts too, meanwhile
  Promise.all(children.map((c) => new Promise((resolve) => c.on('exit', resolve)))).then((codes) => {
    const total = counters.reduce((a, b) => a + b, 0)
    const expected = 5 * increments
    console.log(JSON.stringify({ processes: 5, increments, counters: [...counters], total, expected, exact: total === expected && codes.every((c) => c === 0) }))
    mmap.unmap(buf)
    fs.unlinkSync(shared)
  })
}
