#!/usr/bin/env node
'use strict'
// mmap-io stat | warm | evict FILE...: see and control what of a file sits in
// the page cache, in the spirit of vmtouch.
const fs = require('fs')
const path = require('path')
const mmap = require('..')

const HELP = `usage: mmap-io <command> [--json] FILE...

commands:
  stat    pages of each file resident in the page cache, with a residency bar
  warm    bring each file into the page cache (promises.prefetch)
  evict   drop each file from the page cache (posix_fadvise POSIX_FADV_DONTNEED)

options:
  --json  print the results as JSON: [{ file, pages, resident, percent }]
  --help  show this help

Exit status: 0 on success, 1 if a file could not be handled, 2 on bad usage.
`

// Files are mapped a gigabyte at a time: any size works, whatever
// buffer.constants.MAX_LENGTH is, and memory use stays bounded.
const CHUNK = 2 ** 30

class UsageError extends Error {}

function parse (argv) {
  const args = { command: null, json: false, files: [] }
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') args.help = true
    else if (arg === '--json') args.json = true
    else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`)
    else if (args.command === null) args.command = arg
    else args.files.push(arg)
  }
  if (args.help) return args
  if (args.command === null) throw new UsageError('missing command')
  if (!['stat', 'warm', 'evict'].includes(args.command)) throw new UsageError(`unknown command ${args.command}`)
  if (args.files.length === 0) throw new UsageError('missing FILE')
  return args
}

// Calls fn(buf, offset) for each piece of the file, mapped read-only.
async function eachPiece (file, size, fn) {
  for (let offset = 0; offset < size; offset += CHUNK) {
    const buf = mmap.open(file, { offset, length: Math.min(CHUNK, size - offset) })
    try {
      await fn(buf, offset)
    } finally {
      mmap.unmap(buf)
    }
  }
}

// Only regular files have pages in the page cache to show: a FIFO, a
// socket or a device is refused (a FIFO would block the open forever).
function sizeOf (file) {
  const st = fs.statSync(file)
  if (st.isFile()) return st.size
  const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket'
    : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : 'not a regular file'
  const code = st.isDirectory() ? 'EISDIR' : 'ENODEV'
  const err = new Error(`${code}: not a regular file but ${kind}`)
  err.code = code
  throw err
}

async function stat (file) {
  const size = sizeOf(file)
  const pages = Math.ceil(size / mmap.PAGESIZE)
  const map = new Uint8Array(pages)
  await eachPiece(file, size, (buf, offset) => map.set(mmap.residency(buf), offset / mmap.PAGESIZE))
  let resident = 0
  for (const r of map) resident += r
  return { file, size, pages, resident, percent: pages === 0 ? 0 : (100 * resident) / pages, map }
}

async function warm (file, progress) {
  const size = sizeOf(file)
  await eachPiece(file, size, async (buf, offset) => {
    // 64 MiB at a time, so that progress can be shown.
    const step = 64 * 2 ** 20
    for (let at = 0; at < buf.length; at += step) {
      await mmap.promises.prefetch(buf, at, Math.min(step, buf.length - at))
      progress(offset + Math.min(at + step, buf.length), size)
    }
  })
}

function evict (file) {
  sizeOf(file)
  // Non-blocking: should the file have become a FIFO since, do not wait.
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK || 0))
  try {
    fs.fdatasyncSync(fd) // dirty pages cannot be dropped
    mmap.fadvise(fd, 0, 0, mmap.POSIX_FADV_DONTNEED)
  } finally {
    fs.closeSync(fd)
  }
}

// vmtouch-style bar: 'O' all pages of a cell resident, 'o' some, ' ' none.
function bar (map, width = 60) {
  if (map.length === 0) return '[' + ' '.repeat(width) + ']'
  let out = ''
  const cells = Math.min(width, map.length)
  for (let c = 0; c < cells; c++) {
    const from = Math.floor((c * map.length) / cells)
    const to = Math.floor(((c + 1) * map.length) / cells)
    let n = 0
    for (let i = from; i < to; i++) n += map[i]
    out += n === to - from ? 'O' : n > 0 ? 'o' : ' '
  }
  return `[${out}]`
}

function human (bytes) {
  const units = ['B', 'K', 'M', 'G', 'T']
  let i = 0
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++ }
  return `${bytes >= 10 || i === 0 ? Math.round(bytes) : bytes.toFixed(1)}${units[i]}`
}

async function main (argv) {
  let args
  try {
    args = parse(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`mmap-io: ${err.message}\n\n${HELP}`)
    return 2
  }
  if (args.help) {
    process.stdout.write(HELP)
    return 0
  }
  const tty = process.stderr.isTTY && !args.json
  let status = 0
  const results = []
  for (const file of args.files) {
    try {
      if (args.command === 'warm') {
        await warm(file, (done, total) => {
          if (!tty) return
          const width = 40
          const filled = total === 0 ? width : Math.round((width * done) / total)
          process.stderr.write(`\r${path.basename(file)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${human(done)}/${human(total)}`)
        })
        if (tty) process.stderr.write('\n')
      } else if (args.command === 'evict') {
        evict(file)
      }
      const s = await stat(file)
      results.push({ file: s.file, size: s.size, pages: s.pages, resident: s.resident, percent: Number(s.percent.toFixed(2)) })
      if (!args.json) {
        process.stdout.write(`${s.file}\n${bar(s.map)} ${s.resident}/${s.pages} pages  ` +
          `${human(s.resident * mmap.PAGESIZE)}/${human(s.size)}  ${s.percent.toFixed(1)}%\n`)
      }
    } catch (err) {
      status = 1
      const reason = err.code ? `${err.code}: ${err.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}` : err.message
      if (args.json) results.push({ file, error: reason })
      else process.stderr.write(`mmap-io: ${file}: ${reason}\n`)
    }
  }
  if (args.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n')
  return status
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err) => {
  process.stderr.write(`mmap-io: ${err.stack || err}\n`)
  process.exitCode = 1
})
