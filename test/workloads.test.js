'use strict'
// Real workloads: the examples, crash durability, Python interop, the CLI.
const assert = require('assert')
const fs = require('fs')
const path = require('path')
const { spawn, spawnSync } = require('child_process')
const mmap = require('..')
const { tmpFile, scratch, isLinux, skip, scriptArgs, emulated, qemuGaps } = require('./helpers')
const { record, parse } = require('./fixtures/records')

const root = path.join(__dirname, '..')
const runNode = ([file, ...args], opts = {}) => spawnSync(process.execPath, scriptArgs(file, args), { cwd: root, encoding: 'utf8', ...opts })

describe('examples', function () {
  it('shared counters: a parent and 4 children count exactly with Atomics over MAP_SHARED', function () {
    const r = runNode(['examples/shared-counters.js', '200000'])
    assert.strictEqual(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    process.stdout.write(`      ${out.processes} processes x ${out.increments} increments: total ${out.total} of ${out.expected}\n`)
    assert.strictEqual(out.total, 1000000)
    assert.ok(out.counters.every((c) => c === 125000))
    assert.strictEqual(out.exact, true)
  })

  it('lookup table: 4 worker threads and 2 processes answer the same queries identically', function () {
    const r = runNode(['examples/lookup-table.js', '100000', '2000'])
    assert.strictEqual(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    process.stdout.write(`      ${out.queries} queries over ${out.records} records (${out.found} found) by 7 servers\n`)
    assert.deepStrictEqual(out.servers, { threads: 4, processes: 2, parent: 1 })
    assert.ok(out.found > 0 && out.found < out.queries)
    assert.strictEqual(out.agree, true)
  })
})

describe('crash durability', function () {
  it('every batch acknowledged after sync(buf, true) survives SIGKILL, and no garbage parses as a record', async function () {
    const file = path.join(scratch, 'durable.log')
    const child = spawn(process.execPath, scriptArgs(path.join(__dirname, 'fixtures', 'appender.js'), [file, String(64 << 20), '50']),
      { env: { ...process.env, MMAP_IO_ROOT: root }, stdio: ['ignore', 'pipe', 'inherit'] })
    const acks = []
    let pending = ''
    await new Promise((resolve) => {
      child.stdout.on('data', (d) => {
        pending += d
        const lines = pending.split('\n')
        pending = lines.pop()
        for (const line of lines) {
          const [, batch, end, seq] = line.split(' ').map(Number)
          acks.push({ batch, end, seq })
        }
        // Kill it mid-run, while it is writing.
        if (acks.length >= 40 && !child.killed) child.kill('SIGKILL')
      })
      child.on('exit', resolve)
    })
    assert.strictEqual(child.signalCode, 'SIGKILL')
    const last = acks[acks.length - 1]
    const log = fs.readFileSync(file)
    let at = 0
    let seq = 0
    for (let r; (r = parse(log, at)) !== null; at += r.length, seq++) {
      assert.strictEqual(r.seq, seq)
      assert.ok(log.subarray(at, at + r.length).equals(record(seq)), `record ${seq} byte-exact`)
    }
    // Every acknowledged record is there, byte for byte.
    assert.ok(seq >= last.seq, `${seq} records parsed, ${last.seq} acknowledged`)
    assert.ok(at >= last.end)
    // After the last valid record: no offset starts something that parses.
    let phantom = 0
    for (let i = at; i < Math.min(log.length, at + (1 << 20)); i++) if (parse(log, i) !== null) phantom++
    process.stdout.write(`      ${acks.length} batches acknowledged (${last.seq} records); ${seq} records intact after SIGKILL; ${phantom} garbage records\n`)
    assert.strictEqual(phantom, 0)
  })
})

describe('Python interop (standard-library mmap)', function () {
  const python = spawnSync('python3', ['--version']).status === 0
  const G = mmap.ALLOCATIONGRANULARITY
  const at = 2 ** 31 + 16 * G // past 2 GiB

  it('Python writes and flushes, Node reads; Node writes and syncs, Python reads, past 2 GiB in a sparse file', function () {
    if (!python) skip(this, 'python3 is not installed')
    const file = path.join(scratch, 'interop.bin')
    const py = (code) => {
      const r = spawnSync('python3', ['-c', code, file, String(at), String(G)], { encoding: 'utf8' })
      assert.strictEqual(r.status, 0, r.stderr)
      return r.stdout
    }
    py(`
import mmap, os, sys
path, at, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, at + size)
m = mmap.mmap(fd, size, offset=at)
m[0:24] = b'written by python mmap!!'
m.flush()
m.close(); os.close(fd)
`)
    assert.ok(fs.statSync(file).blocks * 512 < 2 ** 30, 'sparse')
    const fd = fs.openSync(file, 'r+')
    const buf = mmap.map(G, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, at)
    fs.closeSync(fd)
    assert.strictEqual(buf.toString('latin1', 0, 24), 'written by python mmap!!')
    buf.write('and node answers through mmap-io', 100, 'latin1')
    mmap.sync(buf, true)
    mmap.unmap(buf)
    const back = py(`
import mmap, os, sys
path, at, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fd = os.open(path, os.O_RDONLY)
m = mmap.mmap(fd, size, offset=at, access=mmap.ACCESS_READ)
sys.stdout.write(m[100:132].decode('latin1'))
`)
    assert.strictEqual(back, 'and node answers through mmap-io')
  })
})

describe('CLI: mmap-io stat | warm | evict', function () {
  const cli = (...args) => runNode([path.join(root, 'bin', 'mmap-io.js'), ...args])
  const json = (...args) => {
    const r = cli('--json', ...args)
    assert.strictEqual(r.status, 0, r.stderr)
    return JSON.parse(r.stdout)
  }

  it('evict drops a file from the page cache, warm brings it back, stat counts both', function () {
    if (!isLinux) skip(this, 'posix_fadvise and the page cache are Linux\'s here')
    if (emulated) skip(this, qemuGaps.madvise)
    const file = tmpFile(16 << 20) // 4,096 pages, just written: resident
    // Written back first: fadvise(DONTNEED) cannot drop a page still under
    // writeback, and one dropped when its writeback ends could go after warm.
    const wfd = fs.openSync(file, 'r+')
    fs.fsyncSync(wfd)
    fs.closeSync(wfd)
    const pages = (16 << 20) / mmap.PAGESIZE
    const [before] = json('stat', file)
    assert.strictEqual(before.pages, pages)
    assert.strictEqual(before.resident, pages)
    const [evicted] = json('evict', file)
    assert.ok(evicted.percent < 5, `after evict: ${evicted.percent}%`)
    const [warmed] = json('warm', file)
    assert.strictEqual(warmed.resident, pages)
    assert.strictEqual(warmed.percent, 100)
    process.stdout.write(`      ${pages} pages: stat ${before.percent}%, evict -> ${evicted.percent}%, warm -> ${warmed.percent}%\n`)
  })

  it('prints a vmtouch-style residency bar', function () {
    const file = tmpFile(1 << 20)
    const r = cli('stat', file)
    assert.strictEqual(r.status, 0, r.stderr)
    const [name, line] = r.stdout.trim().split('\n')
    assert.strictEqual(name, file)
    assert.match(line, /^\[[Oo ]{60}\] \d+\/256 pages {2}\S+\/1\.0M {2}\d+\.\d%$/)
  })

  it('half a file resident shows in the bar and the numbers', function () {
    if (!isLinux) skip(this, 'posix_fadvise and the page cache are Linux\'s here')
    const file = tmpFile(1 << 20)
    json('evict', file)
    const fd = fs.openSync(file, 'r')
    fs.readSync(fd, Buffer.alloc(1 << 19), 0, 1 << 19, 0) // the first half
    fs.closeSync(fd)
    const r = cli('stat', file)
    const line = r.stdout.trim().split('\n')[1]
    const [, cells, resident] = /^\[([Oo ]+)\] (\d+)\/256/.exec(line)
    assert.ok(Number(resident) >= 128, line)
    assert.ok(cells.startsWith('O'.repeat(30)), line)
  })

  it('reports missing files and directories, and exits 1; bad usage exits 2; --help exits 0', function () {
    const file = tmpFile(mmap.PAGESIZE)
    const missing = path.join(scratch, 'missing-file')
    const r = cli('stat', file, missing, scratch)
    assert.strictEqual(r.status, 1)
    assert.ok(r.stderr.includes(`${missing}: ENOENT`), r.stderr)
    assert.match(r.stderr, /EISDIR/)
    // The good file is still reported (resident on Linux: just written; on
    // Windows only pages this process touched count).
    assert.match(r.stdout, isLinux ? /1\/1 pages/ : /\d\/1 pages/)
    const j = cli('--json', 'stat', missing)
    assert.strictEqual(j.status, 1)
    assert.match(JSON.parse(j.stdout)[0].error, /^ENOENT/)
    for (const args of [[], ['frobnicate', file], ['stat'], ['stat', '--bogus', file]]) {
      const u = cli(...args)
      assert.strictEqual(u.status, 2, args.join(' '))
      assert.match(u.stderr, /usage: mmap-io/)
    }
    const h = cli('--help')
    assert.strictEqual(h.status, 0)
    assert.match(h.stdout, /usage: mmap-io <command> \[--json\] FILE/)
  })

  it('handles an empty file', function () {
    const [s] = json('stat', tmpFile(''))
    assert.deepStrictEqual([s.pages, s.resident, s.percent], [0, 0, 0])
  })
})
