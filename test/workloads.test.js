'use strict'
// Real workloads: the examples, crash durability, Python interop, the CLI.
const assert = require('assert')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn, spawnSync } = require('child_process')
const mmap = require('..')
const { tmpFile, scratch, isLinux, isWindows, skip, scriptArgs, runScript, emulated, qemuGaps } = require('./helpers')
const { record, parse } = require('./fixtures/records')

const root = path.join(__dirname, '..')

describe('examples', function () {
  it('shared counters: a parent and 4 children count exactly with Atomics over MAP_SHARED', function () {
    const r = runScript('examples/shared-counters.js', ['200000'])
    assert.strictEqual(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    process.stdout.write(`      ${out.processes} processes x ${out.increments} increments: total ${out.total} of ${out.expected}\n`)
    assert.strictEqual(out.total, 1000000)
    assert.ok(out.counters.every((c) => c === 125000))
    assert.strictEqual(out.exact, true)
  })

  it('lookup table: 4 worker threads and 2 processes answer the same queries identically', function () {
    const r = runScript('examples/lookup-table.js', ['100000', '2000'])
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
  const cli = (...args) => runScript(path.join(root, 'bin', 'mmap-io.js'), args)
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
    // As vmtouch groups them: 256 pages, 5 a cell (floor(256 / 60) + 1), 52 cells.
    assert.match(line, /^\[[Oo ]{52}\] \d+\/256 pages {2}\S+\/1M {2}\d+\.\d%$/)
  })

  it('half a file resident shows in the bar and the numbers', function () {
    if (!isLinux) skip(this, 'posix_fadvise and the page cache are Linux\'s here')
    if (emulated) skip(this, qemuGaps.madvise) // MADV_RANDOM: no read-ahead past the pages locked
    const file = tmpFile(1 << 20)
    json('evict', file)
    // The first half, read in and locked: the page cache is the machine's,
    // and a busy machine evicts unlocked pages between two looks.
    const held = holdResident(file, (p) => p < 128)
    let line
    try {
      line = cli('stat', file).stdout.trim().split('\n')[1]
    } finally {
      mmap.unmap(held)
    }
    const [, cells, resident] = /^\[([Oo ]+)\] (\d+)\/256/.exec(line)
    // 5 pages a cell: 25 cells all resident, the 26th 3 of 5, 26 empty.
    assert.strictEqual(Number(resident), 128, line)
    assert.strictEqual(cells, 'O'.repeat(25) + 'o' + ' '.repeat(26), line)
  })

  it('reports missing and special files, and exits 1; bad usage exits 2; --help and --version exit 0', function () {
    const file = tmpFile(mmap.PAGESIZE)
    const missing = path.join(scratch, 'missing-file')
    const specials = isLinux ? ['/dev/null'] : []
    const r = cli('stat', file, missing, ...specials)
    assert.strictEqual(r.status, 1)
    assert.ok(r.stderr.includes(`${missing}: ENOENT`), r.stderr)
    if (isLinux) assert.ok(r.stderr.includes('/dev/null: ENODEV: not a regular file but a character device'), r.stderr)
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
    assert.match(h.stdout, /usage: mmap-io <command> \[--json\] PATH/)
    const q = cli('-q', 'evict', file, missing)
    assert.deepStrictEqual([q.status, q.stdout, q.stderr], [1, '', ''])
    const v = cli('--version')
    assert.strictEqual(v.status, 0)
    assert.strictEqual(v.stdout, `mmap-io ${require('../package.json').version}\n`)
  })

  it('--help lists exactly the fields that --json prints', function () {
    const help = cli('--help').stdout
    const documented = [...help.matchAll(/^ {15}(\w+) /gm)].map((m) => m[1]).sort()
    const dir = fs.mkdtempSync(path.join(scratch, 'fields-'))
    fs.writeFileSync(path.join(dir, 'a'), 'a')
    const r = cli('--json', 'stat', tmpFile('x'), dir, path.join(scratch, 'missing-file'))
    const printed = [...new Set(JSON.parse(r.stdout).flatMap((row) => Object.keys(row)))].sort()
    assert.deepStrictEqual(documented, printed)
  })

  it('a directory counts every regular file under it, recursively; links and special files in it are skipped', function () {
    const dir = fs.mkdtempSync(path.join(scratch, 'tree-'))
    fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'one'), Buffer.alloc(3 * mmap.PAGESIZE, 1))
    fs.writeFileSync(path.join(dir, 'a', 'two'), Buffer.alloc(mmap.PAGESIZE + 1, 2))
    fs.writeFileSync(path.join(dir, 'a', 'b', 'three'), Buffer.alloc(10, 3))
    fs.writeFileSync(path.join(dir, 'a', 'b', 'empty'), '')
    const outside = tmpFile(Buffer.alloc(8 * mmap.PAGESIZE, 4))
    try {
      fs.symlinkSync(outside, path.join(dir, 'link'))
    } catch (err) {
      if (err.code !== 'EPERM') throw err // Windows without the privilege
    }
    if (isLinux) assert.strictEqual(spawnSync('mkfifo', [path.join(dir, 'a', 'fifo')]).status, 0)
    const r = cli('--json', 'stat', dir)
    assert.strictEqual(r.status, 0, r.stderr)
    const [row] = JSON.parse(r.stdout)
    assert.deepStrictEqual([row.file, row.files, row.size, row.pages], [dir, 4, 4 * mmap.PAGESIZE + 11, 3 + 2 + 1 + 0])
    if (isLinux) assert.strictEqual(row.resident, row.pages) // just written
    const text = cli('stat', dir).stdout
    assert.match(text, new RegExp(`\\(4 files\\)\n${row.resident}/6 pages`))
    if (!vmtouch()) return
    const v = spawnSync('vmtouch', [dir], { encoding: 'utf8' }).stdout
    assert.match(v, /Files: 4\b/)
    assert.match(v, new RegExp(`Resident Pages: ${row.resident}/6\\b`))
  })

  // A byte no line of human output may hold: C0 controls but the line end,
  // DEL, and C1 controls (U+0080-U+009F).
  // eslint-disable-next-line no-control-regex
  const control = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/

  it('prints names with control characters escaped, as ls -b does, and exactly in --json', function () {
    if (isWindows) skip(this, 'Windows file names cannot hold control characters')
    const dir = fs.mkdtempSync(path.join(scratch, 'names-'))
    const evil = path.join(dir, 'evil\n\x1b[31mred\x07.bin')
    const sub = path.join(dir, 'sub\x1b]0;title\x07\t\x7f\u009b\\')
    const missing = path.join(dir, 'missing\r\x1b[2K\b')
    fs.writeFileSync(evil, 'x')
    fs.mkdirSync(sub)
    fs.writeFileSync(path.join(sub, 'f'), 'y')
    const shown = {
      evil: `${dir}/evil\\n\\033[31mred\\a.bin`,
      sub: `${dir}/sub\\033]0;title\\a\\t\\177\\302\\233\\\\`,
      missing: `${dir}/missing\\r\\033[2K\\b`
    }
    const r = cli('stat', evil, dir, sub, missing)
    assert.strictEqual(r.status, 1, r.stderr)
    assert.doesNotMatch(r.stdout, control)
    assert.doesNotMatch(r.stderr, control)
    const lines = r.stdout.split('\n')
    for (const line of [shown.evil, `${dir} (2 files)`, `${shown.sub} (1 files)`]) assert.ok(lines.includes(line), `${line} in\n${r.stdout}`)
    // The reason does not repeat the path (Node's message ends with it).
    assert.strictEqual(r.stderr, `mmap-io: ${shown.missing}: ENOENT: no such file or directory\n`)
    const j = cli('--json', 'stat', evil, sub, missing)
    assert.strictEqual(j.status, 1)
    assert.doesNotMatch(j.stdout, control)
    assert.deepStrictEqual(JSON.parse(j.stdout).map((row) => row.file), [evil, sub, missing])
    assert.strictEqual(JSON.parse(j.stdout)[2].error, 'ENOENT: no such file or directory')
    // The progress label on a terminal: its own "\r" and "\x1b[K" only.
    if (!isLinux || emulated || spawnSync('script', ['-V']).error !== undefined) return
    const command = [process.execPath, ...scriptArgs(path.join(root, 'bin', 'mmap-io.js'))].map((a) => JSON.stringify(a)).join(' ')
    const tty = spawnSync('script', ['-qec', `${command} stat "$MMAP_IO_NAME"`, '/dev/null'],
      { encoding: 'utf8', timeout: 60000, env: { ...process.env, MMAP_IO_NAME: evil } })
    assert.strictEqual(tty.status, 0, tty.stdout)
    assert.ok(tty.stdout.includes(`\rstat ${path.basename(shown.evil)} [#`), JSON.stringify(tty.stdout))
    assert.doesNotMatch(tty.stdout.replaceAll('\r', '').replaceAll('\x1b[K', ''), control)
  })

  it('counts a file whose name is not UTF-8 under a directory, as vmtouch does, and prints its bytes as ls -b does', function () {
    if (!isLinux) skip(this, 'file names as bytes (ext4)')
    // Not under scratch (0700): the command may run as another user.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-bytes-'))
    try {
      fs.chmodSync(dir, 0o755)
      const name = Buffer.concat([Buffer.from(`${dir}/bad`), Buffer.from([0xff, 0x1b]), Buffer.from('name.bin')])
      fs.writeFileSync(name, 'x') // a Buffer path: the bytes as they are
      fs.writeFileSync(path.join(dir, 'ok.bin'), 'y')
      fs.chmodSync(path.join(dir, 'ok.bin'), 0o644)
      const r = cli('stat', dir)
      assert.strictEqual(r.status, 0, r.stderr)
      assert.ok(r.stdout.split('\n').includes(`${dir} (2 files)`), r.stdout)
      // Unreadable for another user (or this one): an error line names it.
      fs.chmodSync(name, 0)
      let opts = {}
      try {
        fs.readFileSync(name)
        opts = { uid: 65534, gid: 65534 }
      } catch {}
      if (opts.uid !== undefined) {
        // Root reads what mode 000 forbids; nobody may not run this runtime.
        let v
        try {
          v = runScript(path.join(root, 'bin', 'mmap-io.js'), ['--version'], opts)
        } catch (err) {
          v = { status: err.code }
        }
        if (v.status !== 0) skip(this, `mode 000 does not stop this user, and uid 65534 cannot run ${process.execPath} (${v.status})`)
      }
      const other = runScript(path.join(root, 'bin', 'mmap-io.js'), ['stat', dir], opts)
      assert.strictEqual(other.status, 1, other.stderr)
      assert.strictEqual(other.stderr, `mmap-io: ${dir}/bad\\377\\033name.bin: EACCES: permission denied\n`)
      const j = runScript(path.join(root, 'bin', 'mmap-io.js'), ['--json', 'stat', dir], opts)
      assert.deepStrictEqual(JSON.parse(j.stdout)[0].errors, [{ file: `${dir}/bad\\377\\033name.bin`, error: 'EACCES: permission denied' }])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('an entry under a directory that cannot be read gets an error line, the rest is counted, and the exit status is 1', function () {
    if (isWindows) skip(this, 'POSIX permissions')
    // Not under scratch (0700): the command may run as another user.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-walk-'))
    const locked = path.join(dir, 'locked') // cannot be listed
    const noexec = path.join(dir, 'noexec') // listed, but its files cannot be statted
    const secret = path.join(dir, 'sub', 'secret') // cannot be opened
    try {
      fs.chmodSync(dir, 0o755)
      fs.mkdirSync(locked)
      fs.mkdirSync(noexec)
      fs.mkdirSync(path.join(dir, 'sub'))
      fs.writeFileSync(path.join(dir, 'a'), Buffer.alloc(3 * mmap.PAGESIZE, 1))
      fs.writeFileSync(path.join(locked, 'hidden'), Buffer.alloc(5 * mmap.PAGESIZE, 2))
      fs.writeFileSync(path.join(noexec, 'c'), Buffer.alloc(5 * mmap.PAGESIZE, 3))
      fs.writeFileSync(path.join(dir, 'sub', 'b'), Buffer.alloc(mmap.PAGESIZE + 1, 4))
      fs.writeFileSync(secret, Buffer.alloc(5 * mmap.PAGESIZE, 5))
      fs.writeFileSync(path.join(dir, 'z'), Buffer.alloc(10, 6)) // after them all
      for (const f of ['a', 'sub/b', 'z']) fs.chmodSync(path.join(dir, f), 0o644)
      fs.chmodSync(path.join(dir, 'sub'), 0o755)
      fs.chmodSync(locked, 0)
      fs.chmodSync(noexec, 0o644)
      fs.chmodSync(secret, 0)
      // Root reads what mode 000 forbids: then run the command as nobody.
      let opts = {}
      try {
        fs.readFileSync(secret)
        opts = { uid: 65534, gid: 65534 }
      } catch (err) {
        if (err.code !== 'EACCES') throw err
      }
      const run = (...args) => runScript(path.join(root, 'bin', 'mmap-io.js'), args, opts)
      if (opts.uid !== undefined) {
        let v
        try {
          v = run('--version')
        } catch (err) {
          skip(this, `mode 000 does not stop this user, and a child cannot run as uid 65534 (${err.code})`)
        }
        if (v.status !== 0) skip(this, `mode 000 does not stop this user, and uid 65534 cannot run the command: ${v.stderr}`)
      }
      const failing = [locked, path.join(noexec, 'c'), secret]
      for (const command of isLinux ? ['stat', 'warm', 'evict'] : ['stat']) {
        const j = run('--json', command, dir)
        assert.strictEqual(j.status, 1, `${command}: ${j.stderr}`)
        const [row] = JSON.parse(j.stdout)
        // a, sub/b and z: 3 + 2 + 1 pages.
        assert.deepStrictEqual([row.file, row.files, row.size, row.pages], [dir, 3, 4 * mmap.PAGESIZE + 11, 6], command)
        assert.deepStrictEqual(row.errors.map((e) => e.file).sort(), failing.sort(), command)
        for (const e of row.errors) assert.strictEqual(e.error, 'EACCES: permission denied', command)
        const h = run(command, dir)
        assert.strictEqual(h.status, 1, command)
        assert.match(h.stdout, new RegExp(`^${dir} \\(3 files\\)\n\\d+/6 pages`), command)
        assert.deepStrictEqual(h.stderr.split('\n').filter(Boolean).sort(),
          failing.map((f) => `mmap-io: ${f}: EACCES: permission denied`).sort(), command)
        const q = run('-q', command, dir)
        assert.deepStrictEqual([q.status, q.stdout, q.stderr], [1, '', ''], `${command} -q`)
      }
      // A PATH that fails itself is a row of its own, as before.
      const own = run('--json', 'stat', locked, secret)
      assert.strictEqual(own.status, 1)
      assert.deepStrictEqual(JSON.parse(own.stdout), [
        { file: locked, error: 'EACCES: permission denied' },
        { file: secret, error: 'EACCES: permission denied' }
      ])
      process.stdout.write(`      ${failing.length} unreadable entries reported, 3 files counted${opts.uid === undefined ? '' : ' (run as uid 65534)'}\n`)
    } finally {
      for (const d of [locked, noexec]) try { fs.chmodSync(d, 0o755) } catch {}
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  const vmtouch = () => isLinux && !emulated && spawnSync('vmtouch', ['-h']).error === undefined

  // Evicts `file`, then reads and locks the pages that `pick` chooses through
  // a mapping with MADV_RANDOM (no read-ahead), so that no other process's
  // demand for memory evicts them while the test looks; returns the mapping.
  function holdResident (file, pick) {
    let sum = 0
    const wfd = fs.openSync(file, 'r+')
    fs.fsyncSync(wfd)
    mmap.fadvise(wfd, 0, 0, mmap.POSIX_FADV_DONTNEED)
    const size = fs.fstatSync(wfd).size
    const buf = mmap.map(size, mmap.PROT_READ, mmap.MAP_SHARED, wfd, 0, mmap.MADV_RANDOM)
    fs.closeSync(wfd)
    try {
      for (let p = 0; p * mmap.PAGESIZE < size; p++) {
        if (!pick(p)) continue
        mmap.lock(buf, p * mmap.PAGESIZE, mmap.PAGESIZE)
        // Read as well: AddressSanitizer's runtime makes mlock() a no-op
        // (npm run test:asan), and then only this read brings the page in.
        sum += buf[p * mmap.PAGESIZE]
      }
    } catch (err) {
      mmap.unmap(buf)
      throw err
    }
    assert.ok(sum >= 0)
    return buf
  }

  it('stat agrees with vmtouch page for page on a partly resident file', function () {
    if (!vmtouch()) skip(this, 'needs vmtouch (Debian package vmtouch), Linux, not emulated')
    const lastBar = (text) => [...text.matchAll(/\[([Oo ]*)\] (\d+)\/(\d+)/g)].pop().slice(1)
    const rows = []
    // 60 pages: one cell per page in both bars; then larger files, where
    // each cell is several pages.
    for (const [pages, pick] of [[60, (p) => p % 3 === 0], [60, (p) => p > 40], [600, (p) => p % 7 < 3], [6000, (p) => p < 1000 || p % 50 === 0]]) {
      const file = tmpFile(pages * mmap.PAGESIZE)
      const held = holdResident(file, pick)
      let ours, theirs
      try {
        ours = lastBar(cli('stat', file).stdout)
        theirs = lastBar(spawnSync('vmtouch', ['-v', file], { encoding: 'utf8' }).stdout)
      } finally {
        mmap.unmap(held)
      }
      assert.deepStrictEqual(ours, theirs, `${pages} pages`)
      rows.push(`${pages}: ${ours[1]}/${ours[2]}`)
    }
    process.stdout.write(`      same bar and count as vmtouch -v: ${rows.join(', ')} resident pages\n`)
  })

  it('stat of a directory of small files agrees with vmtouch: pages, and both byte columns in pages x PAGESIZE', function () {
    if (!vmtouch()) skip(this, 'needs vmtouch (Debian package vmtouch), Linux, not emulated')
    const seen = []
    // 10 two-byte files and one of 3 pages; then one of 1.5 MiB besides
    // (vmtouch truncates to whole units: 1M, not 1.5M).
    for (const big of [0, 1536 << 10]) {
      const dir = fs.mkdtempSync(path.join(path.dirname(tmpFile()), 'small-'))
      for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(dir, `f${i}`), 'ab')
      fs.writeFileSync(path.join(dir, 'three-pages'), Buffer.alloc(2 * mmap.PAGESIZE + 1, 1))
      if (big) fs.writeFileSync(path.join(dir, 'big'), Buffer.alloc(big, 1))
      for (const name of fs.readdirSync(dir)) fs.readFileSync(path.join(dir, name)) // all resident
      const ours = /(\d+)\/(\d+) pages {2}(\S+)\/(\S+) /.exec(cli('stat', dir).stdout).slice(1)
      const theirs = /Resident Pages: (\d+)\/(\d+) +(\S+)\/(\S+) /.exec(spawnSync('vmtouch', [dir], { encoding: 'utf8' }).stdout).slice(1)
      assert.deepStrictEqual(ours, theirs)
      const pages = String(13 + big / mmap.PAGESIZE)
      assert.deepStrictEqual(ours.slice(0, 2), [pages, pages])
      seen.push(`${ours[0]}/${ours[1]} pages ${ours[2]}/${ours[3]}`)
    }
    process.stdout.write(`      ${seen.join('; ')}, as vmtouch prints\n`)
  })

  it('shows progress on a terminal, and none when stderr is not one', function () {
    if (!isLinux || emulated) skip(this, 'a terminal from script(1), Linux')
    if (spawnSync('script', ['-V']).error !== undefined) skip(this, 'needs script(1) (util-linux)')
    const file = tmpFile(8 << 20)
    const bin = path.join(root, 'bin', 'mmap-io.js')
    // The command line script(1) runs in a terminal: this runtime's, with
    // its flags (Deno would otherwise ask for permissions on the terminal).
    const inTerminal = (...args) => spawnSync('script', ['-qec',
      [process.execPath, ...scriptArgs(bin, args)].map((a) => JSON.stringify(a)).join(' '), '/dev/null'],
    { encoding: 'utf8', timeout: 60000 })
    for (const command of ['stat', 'warm', 'evict']) {
      const tty = inTerminal(command, file)
      assert.strictEqual(tty.status, 0, tty.stdout)
      assert.match(tty.stdout, /\r\w+ f\d+ \[#+\] 8\.0M\/8\.0M/, command)
      const piped = cli(command, file)
      assert.strictEqual(piped.stderr, '', command)
      const quiet = inTerminal('--json', command, file)
      assert.strictEqual(quiet.status, 0, quiet.stdout)
      assert.doesNotMatch(quiet.stdout, /\[#/, `${command} --json`)
    }
  })

  it('handles an empty file', function () {
    const [s] = json('stat', tmpFile(''))
    assert.deepStrictEqual([s.pages, s.resident, s.percent], [0, 0, 0])
  })
})
