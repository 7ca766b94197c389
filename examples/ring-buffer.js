'use strict'
// A single-producer, single-consumer ring buffer between the main thread and
// a worker over one SharedArrayBuffer mapping of anonymous shared memory.
// The producer waits while the ring is full and the consumer while it is
// empty, both with Atomics.wait/notify; nothing is copied between threads.
//   node examples/ring-buffer.js [messages]
// Needs SharedArrayBuffer mappings (Node 22.23+, 24.21+, 26, Bun).
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads')
const mmap = require('mmap-io')

const SLOTS = 8192 // 8-byte slots: a 64 KiB ring
const HEAD = 0 // messages written so far (free-running)
const TAIL = 1 // messages read so far

function consume (buf, count) {
  const header = new Int32Array(buf.buffer, buf.byteOffset, 2)
  const ring = new Float64Array(buf.buffer, buf.byteOffset + 8, SLOTS)
  let sum = 0
  for (let read = 0; read < count; read++) {
    // Wait while the ring is empty (head == tail).
    while (Atomics.load(header, HEAD) === read) Atomics.wait(header, HEAD, read)
    sum += ring[read % SLOTS]
    Atomics.store(header, TAIL, read + 1)
    Atomics.notify(header, TAIL)
  }
  return sum
}

function produce (buf, count) {
  const header = new Int32Array(buf.buffer, buf.byteOffset, 2)
  const ring = new Float64Array(buf.buffer, buf.byteOffset + 8, SLOTS)
  let sum = 0
  for (let written = 0; written < count; written++) {
    // Wait while the ring is full (head - tail == SLOTS).
    let tail
    while (written - (tail = Atomics.load(header, TAIL)) === SLOTS) Atomics.wait(header, TAIL, tail)
    const value = written * 1.5
    ring[written % SLOTS] = value
    sum += value
    Atomics.store(header, HEAD, written + 1)
    Atomics.notify(header, HEAD)
  }
  return sum
}

if (isMainThread) {
  const count = Number(process.argv[2] || 1000000)
  if (!mmap.features.sharedArrayBuffer) {
    console.log('this runtime has no SharedArrayBuffer mappings (Node 22.23+, 24.21+ and 26 do)')
    process.exit(0)
  }
  const size = 8 + 8 * SLOTS
  const buf = mmap.map(size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED | mmap.MAP_ANONYMOUS, -1, 0, 0,
    { sharedArrayBuffer: true })
  const worker = new Worker(__filename, { workerData: { buf, count } })
  const started = process.hrtime.bigint()
  const produced = produce(buf, count)
  worker.once('message', (consumed) => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    console.log(`${count} messages through a 64 KiB ring, checksum ${consumed === produced ? 'ok' : 'WRONG'}, ` +
      `${(count / ms * 1000).toFixed(0)} messages/s`)
    mmap.unmap(buf)
    process.exitCode = consumed === produced ? 0 : 1
  })
} else {
  parentPort.postMessage(consume(workerData.buf, workerData.count))
}
