'use strict'
// An append-only log of variable-length records in a mapped file, written by
// one process and read, while it grows, by others.
//
// Layout: a 4 KiB header, then records. The header holds a magic number and
// the committed length (a 64-bit byte count). A record is a 4-byte length,
// its bytes, and padding to 4 bytes. The writer appends records past the
// committed length; commit() makes them durable (sync) and only then
// publishes the new committed length (and syncs the header). Readers parse
// records up to the committed length, so they never see a half-written one,
// and after a crash every committed record is intact. When the file is
// full, the writer doubles it (remap with { grow: true }); readers remap when
// the committed length passes the end of their mapping.
//
//   node examples/append-log.js demo [records]     writer + 2 reader processes
//   node examples/append-log.js write FILE N [every]  append N records, commit every `every`
//   node examples/append-log.js read FILE [expect]    follow the log until `expect` records
const { spawn } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const mmap = require('mmap-io')

const HEADER = 4096
const MAGIC = 0x4d4d4c47 // "MMLG"
const INITIAL = 64 * 1024

// The committed length, read and written whole: another process reads it
// while this one writes it, and readBigUInt64LE() reads byte by byte (a torn
// read could pass the records written so far). At byte 8 of the mapping,
// 8-byte aligned.
const committedOf = (buf) => new BigUint64Array(buf.buffer, buf.byteOffset + 8, 1)

class LogWriter {
  constructor (file) {
    this.buf = mmap.open(file, { mode: 'w+', size: INITIAL })
    if (this.buf.readUInt32LE(0) !== MAGIC) {
      this.buf.writeUInt32LE(MAGIC, 0)
      Atomics.store(committedOf(this.buf), 0, 0n)
      mmap.sync(this.buf, 0, HEADER, true)
    }
    this.committed = Number(Atomics.load(committedOf(this.buf), 0))
    this.end = this.committed // appended, not yet committed
  }

  append (record) {
    const need = 4 + record.length + ((4 - (record.length % 4)) % 4)
    if (HEADER + this.end + need > this.buf.length) {
      let size = this.buf.length * 2
      while (HEADER + this.end + need > size) size *= 2
      this.buf = mmap.remap(this.buf, size, { grow: true }) // the file doubles too
    }
    const at = HEADER + this.end
    this.buf.writeUInt32LE(record.length, at)
    this.buf.set(record, at + 4)
    this.end += need
  }

  // Durable, then visible: the records first, the committed length after.
  commit () {
    if (this.end === this.committed) return
    mmap.sync(this.buf, HEADER + this.committed, this.end - this.committed, true)
    Atomics.store(committedOf(this.buf), 0, BigInt(this.end))
    mmap.sync(this.buf, 0, 16, true)
    this.committed = this.end
  }

  close () {
    this.commit()
    mmap.unmap(this.buf)
  }
}

class LogReader {
  constructor (file) {
    this.file = file
    this.buf = mmap.open(file)
    this.offset = 0 // records parsed up to here
  }

  // The records committed since the last call.
  * poll () {
    const committed = Number(Atomics.load(committedOf(this.buf), 0))
    if (HEADER + committed > this.buf.length) {
      // The writer grew the file: map the rest of it.
      this.buf = mmap.remap(this.buf, fs.statSync(this.file).size)
    }
    while (this.offset < committed) {
      const at = HEADER + this.offset
      const length = this.buf.readUInt32LE(at)
      yield this.buf.subarray(at + 4, at + 4 + length)
      this.offset += 4 + length + ((4 - (length % 4)) % 4)
    }
  }

  close () {
    mmap.unmap(this.buf)
  }
}

// Record i: "record <i> " and then i % 200 bytes of (i % 251).
function record (i) {
  const head = Buffer.from(`record ${i} `)
  return Buffer.concat([head, Buffer.alloc(i % 200, i % 251)])
}

function check (bytes, i) {
  const want = record(i)
  return bytes.length === want.length && bytes.equals(want)
}

// With an IPC channel (a parent that spawned it with 'ipc'), each commit is
// acknowledged with its record count, and the next append waits until the
// message is sent: Deno sends IPC messages only from its event loop, not
// from inside a synchronous loop as Node does.
async function write (file, count, every = 100) {
  const log = new LogWriter(file)
  for (let i = 0; i < count; i++) {
    log.append(record(i))
    if ((i + 1) % every === 0) {
      log.commit()
      if (process.send) await acknowledge(i + 1) // durable
    }
  }
  log.close()
}

const acknowledge = (n) => new Promise((resolve, reject) => process.send(n, (err) => err ? reject(err) : resolve()))

async function read (file, expect) {
  const log = new LogReader(file)
  let n = 0
  let remaps = 0
  let last = log.buf.length
  while (n < expect) {
    for (const bytes of log.poll()) {
      if (!check(bytes, n)) throw new Error(`record ${n} is wrong`)
      n++
    }
    if (log.buf.length !== last) { remaps++; last = log.buf.length }
    if (n < expect) await new Promise((resolve) => setTimeout(resolve, 1))
  }
  log.close()
  return { records: n, remaps }
}

async function demo (count) {
  const file = path.join(os.tmpdir(), `mmap-io-log-${process.pid}.bin`)
  new LogWriter(file).close() // the header, so readers can start now
  const child = (...args) => new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [__filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', (d) => { out += d })
    p.on('exit', (code) => code === 0 ? resolve(out.trim()) : reject(new Error(`${args[0]} exited ${code}`)))
  })
  const started = Date.now()
  const readers = [child('read', file, String(count)), child('read', file, String(count))]
  await child('write', file, String(count))
  const results = (await Promise.all(readers)).map((r) => JSON.parse(r))
  console.log(`${count} records written and committed in ${Date.now() - started} ms; ` +
    `file ${fs.statSync(file).size} bytes; readers: ${results.map((r) => `${r.records} records, ${r.remaps} remaps`).join('; ')}`)
  fs.unlinkSync(file)
}

module.exports = { LogWriter, LogReader, record, check }

if (require.main === module) {
  const [command, ...args] = process.argv.slice(2)
  if (command === 'write') write(args[0], Number(args[1]), args[2] ? Number(args[2]) : undefined).catch((err) => { console.error(err); process.exitCode = 1 })
  else if (command === 'read') read(args[0], Number(args[1] || Infinity)).then((r) => console.log(JSON.stringify(r)))
  else demo(Number(args[0] || 100000)).catch((err) => { console.error(err); process.exitCode = 1 })
}
