'use strict'
// A parent and 4 child processes increment the same counters with Atomics in
// named shared memory: no file, found by name. The parent creates it and
// removes the name; the children open it by name.
//   node examples/shm-counters.js [increments per process]
const { spawn } = require('child_process')
const mmap = require('mmap-io')

const COUNTERS = 8
const [, , role, name, given] = process.argv

function work (counters, increments) {
  for (let i = 0; i < increments; i++) Atomics.add(counters, i % COUNTERS, 1)
}

if (role === 'child') {
  const buf = mmap.shm.open(name)
  work(new Int32Array(buf.buffer, buf.byteOffset, COUNTERS), Number(given))
  mmap.unmap(buf)
} else {
  const increments = Number(role || 1000000)
  const shared = `mmap-io-counters-${process.pid}`
  const buf = mmap.shm.create(shared, COUNTERS * 4)
  const counters = new Int32Array(buf.buffer, buf.byteOffset, COUNTERS)
  const children = Array.from({ length: 4 }, () =>
    spawn(process.execPath, [__filename, 'child', shared, String(increments)], { stdio: 'inherit' }))
  work(counters, increments) // the parent counts too, meanwhile
  Promise.all(children.map((c) => new Promise((resolve) => c.on('exit', resolve)))).then((codes) => {
    const total = counters.reduce((a, b) => a + b, 0)
    const expected = 5 * increments
    mmap.shm.remove(shared)
    console.log(JSON.stringify({ processes: 5, increments, counters: [...counters] }))
    console.log(`total ${total} of ${expected}; removed ${shared}`)
    mmap.unmap(buf)
    process.exitCode = total === expected && codes.every((c) => c === 0) ? 0 : 1
  })
}
