'use strict'
// A read-only lookup table: a sorted file of fixed-width records (8-byte key,
// 8-byte value, big-endian), built once, then served by 4 worker threads and
// 2 child processes that each open() it and binary-search it. Every one
// answers the same queries; all answers must agree.
//   node examples/lookup-table.js [records] [queries]
const fs = require('fs')
const os = require('os')
const path = require('path')
const { Worker, isMainThread, workerData, parentPort } = require('worker_threads')
const { execFileSync } = require('child_process')
const mmap = require('mmap-io')

const RECORD = 16

// The value stored under `key`, or null: a binary search over the mapping.
function lookup (table, key) {
  let lo = 0
  let hi = table.length / RECORD - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const k = table.readBigUInt64BE(mid * RECORD)
    if (k === key) return table.readBigUInt64BE(mid * RECORD + 8)
    if (k < key) lo = mid + 1
    else hi = mid - 1
  }
  return null
}

// Answers, as strings, for the queries: open the table, search, unmap.
function serve (file, queries) {
  const table = mmap.open(file)
  const answers = queries.map((q) => { const v = lookup(table, BigInt(q)); return v === null ? null : String(v) })
  mmap.unmap(table)
  return answers
}

// Keys are the multiples of 3 (sorted); the value is key * 7 + 1.
function build (file, records) {
  const buf = mmap.open(file, { mode: 'w+', size: records * RECORD })
  for (let i = 0; i < records; i++) {
    buf.writeBigUInt64BE(BigInt(i * 3), i * RECORD)
    buf.writeBigUInt64BE(BigInt(i * 3 * 7 + 1), i * RECORD + 8)
  }
  mmap.sync(buf, true)
  mmap.unmap(buf)
}

if (!isMainThread) {
  parentPort.postMessage(serve(workerData.file, workerData.queries))
} else if (process.argv[2] === 'child') {
  const { file, queries } = JSON.parse(fs.readFileSync(0, 'utf8'))
  process.stdout.write(JSON.stringify(serve(file, queries)))
} else {
  const records = Number(process.argv[2] || 100000)
  const count = Number(process.argv[3] || 1000)
  const file = path.join(os.tmpdir(), `mmap-io-table-${process.pid}.bin`)
  build(file, records)
  // Queries: present keys, absent keys between them, and keys past the end.
  let seed = 7
  const queries = Array.from({ length: count }, () => { seed = (seed * 48271) % 2147483647; return seed % (records * 3 + 10) })
  const expected = queries.map((q) => q % 3 === 0 && q / 3 < records ? String(q * 7 + 1) : null)
  const workers = Array.from({ length: 4 }, () => new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: { file, queries } })
    w.once('message', resolve)
    w.once('error', reject)
  }))
  const children = Array.from({ length: 2 }, () => JSON.parse(execFileSync(process.execPath, [__filename, 'child'],
    { input: JSON.stringify({ file, queries }), encoding: 'utf8' })))
  Promise.all(workers).then((fromWorkers) => {
    const all = [serve(file, queries), ...fromWorkers, ...children]
    const agree = all.every((a) => JSON.stringify(a) === JSON.stringify(expected))
    const found = expected.filter((v) => v !== null).length
    console.log(JSON.stringify({ records, queries: count, found, servers: { threads: 4, processes: 2, parent: 1 }, agree }))
    fs.unlinkSync(file)
  })
}
