#!/usr/bin/env node
'use strict'
// mmap-io stat | warm | evict PATH...: see and control what of a file sits in
// the page cache, in the spirit of vmtouch.
const fs = require('fs')
const path = require('path')
const mmap = require('..')
const { version } = require('../package.json')
const { fileKind } = require('../lib/errors')

const HELP = `usage: mmap-io <command> [--json] PATH...

commands:
  stat    pages of each file resident in the page cache, with a residency bar
  warm    bring each file into the page cache (promises.prefetch)
  evict   drop each file from the page cache (posix_fadvise POSIX_FADV_DONTNEED)

A directory counts every regular file under it, recursively, as vmtouch
does; symbolic links and special files inside it are skipped. A special
file (FIFO, socket, device) named on the command line is an error. An entry
under a directory that cannot be read (a directory that cannot be listed, a
file that cannot be opened) gets an error line, and the rest is counted.

Names are printed with control characters escaped, as ls -b does: \\\\ for a
backslash (but on Windows, where it separates a path's parts); \\a \\b \\t
\\n \\v \\f \\r; \\ooo (octal, one per UTF-8 byte) for the other C0 controls,
DEL, the C1 controls U+0080 to U+009F and bytes that
are not UTF-8. --json gives names exactly, but for names found in a
directory that are not UTF-8, given as printed. (Node decodes its command
line as UTF-8: a PATH named there must be UTF-8.)

options:
  --json     print the results as a JSON array, one object per PATH:
               file      the PATH as given
               size      bytes
               pages     pages of PAGESIZE bytes
               resident  pages resident in the page cache (after the command)
               percent   100 * resident / pages, to 2 decimals
               files     regular files counted (directories only)
               errors    entries under the directory that could not be read,
                         as [{ file, error }] (directories only)
               error     why the PATH failed (then the only other field is file)
  -q, --quiet
             print nothing (the exit status tells); warm and evict then skip
             counting the resident pages afterwards, as vmtouch -q does
  --version  print the version
  --help     show this help

On a terminal, long commands show their progress on stderr (not with --json).
Exit status: 0 on success, 1 if a PATH or an entry under it could not be
handled, 2 on bad usage.
`

// Files are mapped up to 16 GiB at a time (less where a Buffer cannot be
// that long): any size works. Mapping costs address space, not memory.
const CHUNK = Math.min(2 ** 34, Math.floor(require('buffer').constants.MAX_LENGTH / 2 ** 16) * 2 ** 16)
// Work is done (and progress shown) 64 MiB at a time.
const STEP = 64 * 2 ** 20

class UsageError extends Error {}

// `name` (a string, or the bytes of a name read from a directory) safe for a
// terminal and unambiguous, as ls -b prints it: a backslash doubled, C
// escapes where C has one, else \ooo for each byte of C0 controls, DEL, C1
// controls (U+0080-U+009F, which some terminals obey) and bytes that are not
// UTF-8. On Windows a backslash separates a path's parts, and is left as
// it is.
const SHORT = { '\\': '\\\\', '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r' }
// eslint-disable-next-line no-control-regex
const ESCAPED = process.platform === 'win32' ? /[\x00-\x1f\x7f-\x9f]/g : /[\\\x00-\x1f\x7f-\x9f]/g
const octal = (bytes) => [...bytes].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')
function escape (name) {
  const text = typeof name === 'string' ? name : utf8OrNull(name)
  if (text === null) return escapeBytes(name)
  return text.replace(ESCAPED, (c) => SHORT[c] || octal(Buffer.from(c)))
}

// The name as a string, or null when its bytes are not UTF-8.
function utf8OrNull (bytes) {
  const text = bytes.toString('utf8')
  return Buffer.from(text).equals(bytes) ? text : null
}

// Byte by byte: each valid UTF-8 sequence escaped as above, each other byte
// as \ooo.
function escapeBytes (bytes) {
  let out = ''
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]
    const n = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0
    const seq = n === 0 ? null : bytes.subarray(i, i + n)
    if (seq !== null && seq.length === n && utf8OrNull(seq) !== null) {
      out += escape(seq.toString('utf8'))
      i += n
    } else {
      out += octal([b])
      i++
    }
  }
  return out
}

// A name for --json: the string, or as ls -b prints it when its bytes are
// not UTF-8 (JSON has no way to carry them).
const jsonName = (name) => typeof name === 'string' ? name : (utf8OrNull(name) ?? escapeBytes(name))

// Why `err` happened, without the path that Node's fs messages end with
// ("ENOENT: no such file or directory, stat '<path>'"): the line names it.
function reasonOf (err) {
  if (!err.code) return err.message
  return `${err.code}: ${err.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '[\s\S]*'$/, '')}`
}

// JSON, with DEL and C1 controls as \u escapes too (JSON.stringify escapes
// only C0 ones): the same values, safe on a terminal.
function toJSON (value) {
  return JSON.stringify(value, null, 2).replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

function parse (argv) {
  const args = { command: null, json: false, paths: [] }
  let options = true
  for (const arg of argv) {
    if (options && arg === '--') options = false
    else if (options && (arg === '--help' || arg === '-h')) args.help = true
    else if (options && (arg === '--version' || arg === '-V')) args.version = true
    else if (options && arg === '--json') args.json = true
    else if (options && (arg === '--quiet' || arg === '-q')) args.quiet = true
    else if (options && arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${escape(arg)}`)
    else if (args.command === null) args.command = arg
    else args.paths.push(arg)
  }
  if (args.help || args.version) return args
  if (args.command === null) throw new UsageError('missing command')
  if (!['stat', 'warm', 'evict'].includes(args.command)) throw new UsageError(`unknown command ${escape(args.command)}`)
  if (args.paths.length === 0) throw new UsageError('missing PATH')
  return args
}

function notRegular (st) {
  const err = new Error(`ENODEV: not a regular file but ${fileKind(st)}`)
  err.code = 'ENODEV'
  return err
}

// The regular files a PATH stands for: itself, or those under it. Only
// regular files have pages in the page cache to show; a FIFO would block
// the open forever. An entry under the PATH that cannot be read goes to
// onError(file, err), and the walk goes on, as vmtouch's does.
function filesOf (arg, onError) {
  const st = fs.statSync(arg)
  if (st.isFile()) return { directory: false, files: [{ file: arg, size: st.size }] }
  if (!st.isDirectory()) throw notRegular(st)
  const files = []
  // Names as bytes: one that is not UTF-8 would not survive a string. Each
  // entry's type from lstat(), as vmtouch takes it (Bun gives no Dirents
  // with byte names).
  const walk = (dir) => {
    let names
    try {
      names = fs.readdirSync(dir, { encoding: 'buffer' })
    } catch (err) {
      if (dir === arg) throw err
      return onError(dir, err)
    }
    names.sort(Buffer.compare)
    const prefix = typeof dir === 'string' ? Buffer.from(path.join(dir, '\0').slice(0, -1)) : Buffer.concat([dir, Buffer.from(path.sep)])
    for (const name of names) {
      const full = Buffer.concat([prefix, name])
      let st
      try {
        st = fs.lstatSync(full)
      } catch (err) {
        onError(full, err)
        continue
      }
      if (st.isDirectory()) walk(full)
      else if (st.isFile()) files.push({ file: full, size: st.size })
    }
  }
  walk(arg)
  return { directory: true, files }
}

// Progress on stderr, at most ten times a second, for a terminal only.
function progressBar (enabled, label, total) {
  let last = 0
  let shown = false
  return {
    update (done) {
      if (!enabled) return
      const now = Date.now()
      if (now - last < 100 && done < total) return
      last = now
      shown = true
      const width = 30
      const filled = total === 0 ? width : Math.min(width, Math.round((width * done) / total))
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
        `${human(done)}/${human(total)}\x1b[K`)
    },
    // Clears the bar (for the end, or a line to print); update() redraws it.
    end () {
      if (shown) process.stderr.write('\r\x1b[K')
      shown = false
      last = 0
    }
  }
}

// Calls fn(buf, at, length, offset) for each 64 MiB of the file, mapped
// read-only CHUNK bytes at a time.
async function eachStep (file, size, fn) {
  for (let offset = 0; offset < size; offset += CHUNK) {
    const buf = mmap.open(file, { offset, length: Math.min(CHUNK, size - offset) })
    try {
      for (let at = 0; at < buf.length; at += STEP) {
        await fn(buf, at, Math.min(STEP, buf.length - at), offset)
      }
    } finally {
      mmap.unmap(buf)
    }
  }
}

// One byte per page: 1 if resident. `done(bytes)` is told as it goes, when
// progress is shown; else each CHUNK is read at once.
async function residencyOf ({ file, size }, done) {
  const map = new Uint8Array(Math.ceil(size / mmap.PAGESIZE))
  if (done === null) {
    for (let offset = 0; offset < size; offset += CHUNK) {
      const buf = mmap.open(file, { offset, length: Math.min(CHUNK, size - offset) })
      map.set(mmap.residency(buf), offset / mmap.PAGESIZE)
      mmap.unmap(buf)
    }
    return map
  }
  await eachStep(file, size, async (buf, at, length, offset) => {
    map.set(await mmap.promises.residency(buf, at, length), (offset + at) / mmap.PAGESIZE)
    done(offset + at + length)
  })
  return map
}

// [resident, pages] without a map: what warm and evict report.
function countResident ({ file, size }) {
  let resident = 0
  let pages = 0
  for (let offset = 0; offset < size; offset += CHUNK) {
    const buf = mmap.open(file, { offset, length: Math.min(CHUNK, size - offset) })
    const [out, inCore] = mmap.incore(buf)
    mmap.unmap(buf)
    resident += inCore
    pages += out + inCore
  }
  return [resident, pages]
}

function sum (map) {
  let n = 0
  for (let i = 0; i < map.length; i++) n += map[i]
  return n
}

async function warm ({ file, size }, done) {
  await eachStep(file, size, async (buf, at, length, offset) => {
    await mmap.promises.prefetch(buf, at, length)
    done(offset + at + length)
  })
}

function evict ({ file }) {
  // Non-blocking: should the file have become a FIFO since, do not wait.
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK || 0))
  try {
    const st = fs.fstatSync(fd)
    if (!st.isFile()) throw notRegular(st)
    fs.fdatasyncSync(fd) // dirty pages cannot be dropped
    mmap.fadvise(fd, 0, 0, mmap.POSIX_FADV_DONTNEED)
  } finally {
    fs.closeSync(fd)
  }
}

// vmtouch's bar, cell for cell: one page per cell up to 60 pages; beyond,
// floor(pages / 60) + 1 pages per cell, the last cell holding the rest.
// 'O' every page of a cell resident, 'o' some, ' ' none.
function bar (map, width = 60) {
  const per = map.length <= width ? 1 : Math.floor(map.length / width) + 1
  let out = ''
  for (let from = 0; from < map.length; from += per) {
    const to = Math.min(from + per, map.length)
    let n = 0
    for (let i = from; i < to; i++) n += map[i]
    out += n === to - from ? 'O' : n > 0 ? 'o' : ' '
  }
  return `[${out}]`
}

// `pages` pages as vmtouch prints sizes: in whole units, truncated (4K,
// 196M, 2G; 0 for none), so that the columns read the same in both.
function pagesSize (pages) {
  const units = ['', 'K', 'M', 'G', 'T']
  let size = pages * mmap.PAGESIZE
  let i = 0
  while (size >= 1024 && i < units.length - 1) {
    size /= 1024
    i++
  }
  return `${Math.floor(size)}${units[i]}`
}

function human (bytes) {
  const units = ['B', 'K', 'M', 'G', 'T']
  let i = 0
  while (bytes >= 1024 && i < units.length - 1) {
    bytes /= 1024
    i++
  }
  return `${bytes >= 10 || i === 0 ? Math.round(bytes) : bytes.toFixed(1)}${units[i]}`
}

// Runs the command on one PATH; returns its result row and, for stat of a
// single file, its residency map. `quiet`: warm and evict count nothing.
// A file under a directory that fails goes to onError(file, err) and is
// not counted; a PATH that fails throws.
async function run (command, arg, showProgress, quiet, onError) {
  const { directory, files } = filesOf(arg, onError)
  const total = files.reduce((n, f) => n + f.size, 0)
  const verb = { stat: 'stat', warm: 'warming', evict: 'evicting' }[command]
  const progress = progressBar(showProgress, `${verb} ${escape(path.basename(arg))}`, total)
  let before = 0
  let size = 0
  let counted = 0
  let pages = 0
  let resident = 0
  let map = null
  try {
    for (const f of files) {
      try {
        if (command === 'warm') await warm(f, (bytes) => progress.update(before + bytes))
        if (command === 'evict') {
          evict(f)
          progress.update(before + f.size)
        }
        if (command === 'stat') {
          const m = await residencyOf(f, showProgress ? (bytes) => progress.update(before + bytes) : null)
          pages += m.length
          resident += sum(m)
          if (!directory) map = m
        } else if (!quiet) {
          const [r, p] = countResident(f)
          resident += r
          pages += p
        }
        size += f.size
        counted++
      } catch (err) {
        if (!directory) throw err
        progress.end()
        onError(f.file, err)
      }
      before += f.size
    }
  } finally {
    progress.end()
  }
  const row = { file: arg, size, pages, resident, percent: pages === 0 ? 0 : Number(((100 * resident) / pages).toFixed(2)) }
  if (directory) row.files = counted
  return { row, map }
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
  if (args.version) {
    process.stdout.write(`mmap-io ${version}\n`)
    return 0
  }
  const showProgress = Boolean(process.stderr.isTTY) && !args.json && !args.quiet
  let status = 0
  const results = []
  for (const arg of args.paths) {
    const errors = []
    const onError = (file, err) => {
      status = 1
      if (args.json) errors.push({ file: jsonName(file), error: reasonOf(err) })
      else if (!args.quiet) process.stderr.write(`mmap-io: ${escape(file)}: ${escape(reasonOf(err))}\n`)
    }
    try {
      const { row, map } = await run(args.command, arg, showProgress, args.quiet && args.command !== 'stat', onError)
      if (row.files !== undefined) row.errors = errors
      results.push(row)
      if (args.quiet) continue
      if (!args.json) {
        const what = row.files === undefined ? escape(row.file) : `${escape(row.file)} (${row.files} files)`
        const shown = map === null ? '' : `${bar(map)} `
        process.stdout.write(`${what}\n${shown}${row.resident}/${row.pages} pages  ` +
          `${pagesSize(row.resident)}/${pagesSize(row.pages)}  ${((100 * row.resident) / (row.pages || 1)).toFixed(1)}%\n`)
      }
    } catch (err) {
      status = 1
      if (args.json) results.push({ file: arg, error: reasonOf(err) })
      else if (!args.quiet) process.stderr.write(`mmap-io: ${escape(arg)}: ${escape(reasonOf(err))}\n`)
    }
  }
  if (args.json && !args.quiet) process.stdout.write(toJSON(results) + '\n')
  return status
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err) => {
  process.stderr.write(`mmap-io: ${err.stack || err}\n`)
  process.exitCode = 1
})
