'use strict'
// remap(): a mapping grown (or shrunk) in place of the old one, the contents
// kept; and the append-only log built on it.
const assert = require('assert')
const fs = require('fs')
const path = require('path')
const { spawn } = require('child_process')
const { constants: { MAX_LENGTH } } = require('buffer')
const mmap = require('..')
const {
  tmpFile, scratch, runChild, runScript, assertChildOk, isLinux, isWindows, skip, root, scriptArgs, runtime, emulated, qemuGaps,
  runtimeFlags, failShim, cachestatTool
} = require('./helpers')

const { PAGESIZE: P, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE } = mmap
const RW = PROT_READ | PROT_WRITE
const J = JSON.stringify
const RANGE = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }

describe('remap()', function () {
  it('keeps the contents across 20 doublings from 4 KiB to 4 GiB of a sparse file, growing it with { grow: true }', function () {
    if (MAX_LENGTH < 4 * 2 ** 30) skip(this, `buffer.constants.MAX_LENGTH is ${MAX_LENGTH}`)
    const file = path.join(scratch, 'doublings.bin')
    let buf = mmap.open(file, { mode: 'w+', size: 4096 })
    const marks = []
    for (let i = 0; i < 20; i++) {
      buf.writeUInt32LE(0xC0DE0000 + i, buf.length - 4) // a mark at the end of each size
      marks.push(buf.length - 4)
      const old = buf
      buf = mmap.remap(buf, buf.length * 2, { grow: true })
      assert.strictEqual(old.length, 0) // detached, as unmap() detaches
      assert.strictEqual(buf.length, 4096 * 2 ** (i + 1))
    }
    assert.strictEqual(buf.length, 4 * 2 ** 30)
    assert.strictEqual(fs.statSync(file).size, 4 * 2 ** 30)
    marks.forEach((at, i) => assert.strictEqual(buf.readUInt32LE(at), 0xC0DE0000 + i))
    buf[buf.length - 1] = 7
    mmap.sync(buf, buf.length - P, P, true)
    const fd = fs.openSync(file, 'r')
    const last = Buffer.alloc(1)
    fs.readSync(fd, last, 0, 1, 4 * 2 ** 30 - 1)
    fs.closeSync(fd)
    assert.strictEqual(last[0], 7)
    mmap.unmap(buf)
    fs.unlinkSync(file)
  })

  it('gives the old ranges back once their Buffers are collected', function () {
    if (!isLinux) skip(this, 'counted in /proc/self/maps')
    const file = path.join(scratch, 'given-back.bin')
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs')
      const count = () => fs.readFileSync('/proc/self/maps', 'utf8').split(${J(file)}).length - 1
      let buf = mmap.open(${J(file)}, { mode: 'w+', size: 4096 })
      for (let i = 0; i < 12; i++) buf = mmap.remap(buf, buf.length * 2, { grow: true })
      const during = count()
      mmap.unmap(buf)
      buf = null
      let tries = 0
      ;(function again () {
        gc()
        setTimeout(() => { if (count() > 0 && ++tries < 40) again(); else console.log(JSON.stringify({ during, after: count() })) }, 100)
      })()
    `, { args: ['--expose-gc'] }))
    const r = JSON.parse(out)
    assert.ok(r.during >= 1 && r.during <= 13, out) // old ranges wait for their Buffers
    assert.strictEqual(r.after, 0)
  })

  it('shrinks, keeps a byte offset from open(), and detaches every old view', function () {
    if (emulated) skip(this, qemuGaps.mremap)
    const file = tmpFile(8 * P)
    const whole = fs.readFileSync(file)
    const buf = mmap.open(file, { mode: 'r+', offset: 100, length: 1000 })
    const views = [buf.subarray(10), new Uint8Array(buf.buffer), new DataView(buf.buffer)]
    const bigger = mmap.remap(buf, 5 * P)
    assert.strictEqual(bigger.length, 5 * P)
    assert.deepStrictEqual(bigger, whole.subarray(100, 100 + 5 * P)) // from the same byte
    assert.strictEqual(buf.length, 0)
    assert.strictEqual(views[0].length, 0)
    assert.strictEqual(views[1].length, 0)
    assert.throws(() => views[2].getUint8(0), TypeError)
    const smaller = mmap.remap(bigger, 10)
    assert.deepStrictEqual(smaller, whole.subarray(100, 110))
    mmap.sync(smaller)
    assert.deepStrictEqual(mmap.incore(smaller)[0] + mmap.incore(smaller)[1], 1)
    mmap.unmap(smaller)
  })

  it('shrinks and grows back within its range in place; a file truncated meanwhile is a RangeError, not SIGBUS; a private mapping\'s pages past the shrink read the file again', function () {
    if (isWindows) skip(this, 'Windows maps a new view for every remap(), and a mapped file cannot be truncated there')
    if (emulated) skip(this, qemuGaps.madvise) // the new last page is probed with MADV_POPULATE_READ
    const file = tmpFile(Buffer.alloc(8 * P, 0x61))
    const fd = fs.openSync(file, 'r+')
    let buf = mmap.map(8 * P, RW, MAP_SHARED, fd)
    buf[8 * P - 1] = 0x7a
    buf = mmap.remap(buf, 2 * P)
    buf = mmap.remap(buf, 8 * P) // back into the same range
    assert.strictEqual(buf[8 * P - 1], 0x7a)
    buf = mmap.remap(buf, 2 * P)
    fs.ftruncateSync(fd, 4 * P)
    assert.throws(() => mmap.remap(buf, 8 * P), RANGE) // its last page is past the end now
    assert.strictEqual(buf.length, 2 * P) // unchanged
    assert.strictEqual(mmap.remap(buf, 4 * P)[4 * P - 1], 0x61)
    let priv = mmap.map(4 * P, RW, MAP_PRIVATE, fd)
    priv.fill(0x70)
    priv = mmap.remap(priv, P)
    assert.strictEqual(priv[P - 1], 0x70)
    priv = mmap.remap(priv, 4 * P)
    assert.strictEqual(priv[0], 0x70) // kept
    assert.strictEqual(priv[3 * P], 0x61) // dropped at the shrink: the file's byte again
    mmap.unmap(priv)
    fs.closeSync(fd)
  })

  it('a mapping whose pages cannot be read grows with { fd } (ERR_MISSING_OPTION without it); one that protect() or lock() split into parts is ERR_INVALID_STATE, unchanged', function () {
    if (!isLinux) skip(this, 'mremap() (Windows maps a new view, and its views are never split)')
    if (emulated) skip(this, qemuGaps.mremap)
    const file = tmpFile(64 * P)
    const fd = fs.openSync(file, 'r+')
    for (const prot of [mmap.PROT_NONE, PROT_WRITE]) {
      const buf = mmap.map(2 * P, prot, MAP_SHARED, fd)
      assert.throws(() => mmap.remap(buf, 4 * P), { name: 'TypeError', code: 'ERR_MISSING_OPTION', message: /options\.fd is required/ })
      assert.strictEqual(mmap.remap(buf, 4 * P, { fd }).length, 4 * P)
    }
    const split = mmap.map(2 * P, RW, MAP_SHARED, fd)
    mmap.protect(split, PROT_READ, P, P)
    assert.throws(() => mmap.remap(split, 4 * P), { code: 'ERR_INVALID_STATE', message: /split it into parts/ })
    assert.strictEqual(split.length, 2 * P)
    mmap.protect(split, RW, P, P) // the same flags again: one mapping, which the kernel merges
    assert.strictEqual(mmap.remap(split, 4 * P).length, 4 * P)
    fs.closeSync(fd)
  })

  it('refuses a length past the end of the file with a RangeError, and leaves the mapping as it was', function () {
    if (emulated) skip(this, qemuGaps.mremap)
    const file = tmpFile(2 * P)
    const buf = mmap.open(file, { mode: 'r+' })
    assert.throws(() => mmap.remap(buf, 2 * P + 1), RANGE) // exact: open() knows the file
    assert.strictEqual(buf.length, 2 * P)
    const fd = fs.openSync(file, 'r+')
    const mapped = mmap.map(P, RW, MAP_SHARED, fd)
    if (!isWindows) assert.throws(() => mmap.remap(mapped, 3 * P), RANGE) // its last page, without the fd
    assert.throws(() => mmap.remap(mapped, 2 * P + 1, { fd }), RANGE) // exact, with it
    assert.strictEqual(mapped.length, P)
    assert.throws(() => mmap.remap(mapped, 4 * P, { grow: true }), { code: 'ERR_INVALID_ARG_VALUE', message: /needs options.fd/ })
    const grown = mmap.remap(mapped, 4 * P, { fd, grow: true })
    assert.strictEqual(fs.statSync(file).size, 4 * P)
    assert.strictEqual(grown.length, 4 * P)
    // Another file's descriptor: refused before that file is grown (Linux
    // asks the kernel, Windows compares the file's volume and index).
    const otherFile = tmpFile(P)
    const other = fs.openSync(otherFile, 'r+')
    assert.throws(() => mmap.remap(grown, P, { fd: other }), { code: 'ERR_INVALID_ARG_VALUE', message: /not a descriptor of the file/ })
    assert.throws(() => mmap.remap(grown, 8 * P, { fd: other, grow: true }), { code: 'ERR_INVALID_ARG_VALUE', message: /not a descriptor of the file/ })
    assert.strictEqual(fs.statSync(otherFile).size, P)
    fs.closeSync(other)
    fs.closeSync(fd)
    mmap.unmap(grown)
    mmap.unmap(buf)
  })

  it('of an open() mapping whose file was removed or renamed away: without grow it shrinks and grows back within the file; with grow, ERR_INVALID_STATE', function () {
    if (emulated) skip(this, qemuGaps.mremap)
    if (isWindows) skip(this, 'a mapped file cannot be removed or renamed on Windows')
    for (const gone of ['removed', 'renamed']) {
      const dir = fs.mkdtempSync(path.join(scratch, `${gone}-`))
      const file = path.join(dir, 'log.bin')
      fs.writeFileSync(file, Buffer.alloc(2 * P, 7))
      let buf = mmap.open(file, { mode: 'r+' })
      if (gone === 'removed') fs.unlinkSync(file)
      else fs.renameSync(file, path.join(dir, 'log.1'))
      buf = mmap.remap(buf, P)
      assert.deepStrictEqual([buf.length, buf[P - 1]], [P, 7], gone)
      buf = mmap.remap(buf, 2 * P)
      assert.deepStrictEqual([buf.length, buf[2 * P - 1]], [2 * P, 7], gone)
      assert.throws(() => mmap.remap(buf, 3 * P), { code: 'ERR_OUT_OF_RANGE' }) // past the file's end
      assert.throws(() => mmap.remap(buf, 3 * P, { grow: true }), (err) => err.code === 'ERR_INVALID_STATE' && err.cause.code === 'ENOENT')
      assert.strictEqual(fs.existsSync(file), false, gone) // nothing created
      mmap.unmap(buf)
    }
  })

  it('of an open() mapping whose path now names another file: a clear error, and the other file untouched; a relative path keeps its meaning after chdir()', function () {
    if (emulated) skip(this, qemuGaps.mremap)
    if (isWindows) skip(this, 'a mapped file cannot be renamed over on Windows')
    const dir = fs.mkdtempSync(path.join(scratch, 'moved-'))
    const file = path.join(dir, 'data.bin')
    fs.writeFileSync(file, Buffer.alloc(P, 1))
    const empty = path.join(dir, 'empty.bin')
    fs.writeFileSync(empty, '')
    const buf = mmap.open(file, { mode: 'r+' })
    const none = mmap.open(empty, { mode: 'r+' }) // maps nothing: remap() opens the path again
    // Both paths now name other files.
    fs.renameSync(file, path.join(dir, 'data.old'))
    fs.renameSync(empty, path.join(dir, 'empty.old'))
    fs.writeFileSync(file, Buffer.alloc(P, 2))
    fs.writeFileSync(empty, Buffer.alloc(P, 3))
    const STATE = (p) => (err) => err.code === 'ERR_INVALID_STATE' && err.path === p && /no longer the file/.test(err.message) && /options\.fd/.test(err.message)
    for (const grow of [false, true]) {
      assert.throws(() => mmap.remap(buf, 2 * P, { grow }), STATE(file))
      assert.throws(() => mmap.remap(none, P, { grow }), STATE(empty))
    }
    assert.strictEqual(buf.length, P) // the mapping as it was
    assert.strictEqual(buf[0], 1)
    assert.deepStrictEqual([fs.statSync(file).size, fs.statSync(empty).size], [P, P]) // neither grown
    // Removed, so that nothing has the name: growing the file is the same
    // error (ENOENT is its cause), not a plain ENOENT; without grow the file
    // is not needed, and the mapping shrinks and grows back within it.
    fs.unlinkSync(file)
    assert.throws(() => mmap.remap(buf, 2 * P, { grow: true }), (err) => STATE(file)(err) && err.cause.code === 'ENOENT')
    assert.strictEqual(fs.existsSync(file), false) // nothing created
    fs.writeFileSync(file, Buffer.alloc(P, 2))
    // With the descriptor of the mapped file, it grows.
    const fd = fs.openSync(path.join(dir, 'data.old'), 'r+')
    const grown = mmap.remap(buf, 2 * P, { fd, grow: true })
    fs.closeSync(fd)
    assert.deepStrictEqual([grown.length, grown[0], fs.statSync(path.join(dir, 'data.old')).size], [2 * P, 1, 2 * P])
    mmap.unmap(grown)
    // A relative path is the file it named when open() ran, whatever the
    // working directory is later.
    const cwd = process.cwd()
    const elsewhere = fs.mkdtempSync(path.join(scratch, 'cwd-'))
    fs.writeFileSync(path.join(elsewhere, 'data.bin'), Buffer.alloc(P, 4))
    process.chdir(dir)
    let rel
    try {
      rel = mmap.open('data.bin', { mode: 'r+' })
      process.chdir(elsewhere)
      rel = mmap.remap(rel, 2 * P, { grow: true })
    } finally {
      process.chdir(cwd)
    }
    assert.deepStrictEqual([rel.length, rel[0], fs.statSync(file).size], [2 * P, 2, 2 * P])
    assert.strictEqual(fs.statSync(path.join(elsewhere, 'data.bin')).size, P)
    mmap.unmap(rel)
  })

  it('of an empty open() mapping (which maps nothing) grows the file it opened, from any working directory, and keeps the path as given', function () {
    if (emulated) skip(this, qemuGaps.mremap)
    const dir = fs.mkdtempSync(path.join(scratch, 'empty-'))
    const elsewhere = fs.mkdtempSync(path.join(scratch, 'cwd-'))
    fs.writeFileSync(path.join(dir, 'log.bin'), '')
    fs.writeFileSync(path.join(elsewhere, 'log.bin'), '')
    const cwd = process.cwd()
    let buf
    process.chdir(dir)
    try {
      buf = mmap.open('log.bin', { mode: 'r+' })
      assert.strictEqual(buf.length, 0)
      process.chdir(elsewhere)
      assert.throws(() => mmap.remap(buf, P), RANGE) // still empty: nothing to map
      buf = mmap.remap(buf, P, { grow: true })
      buf[0] = 9
      buf = mmap.remap(buf, 2 * P, { grow: true }) // now through the mapping's own path
    } finally {
      process.chdir(cwd)
    }
    assert.deepStrictEqual([buf.length, buf[0]], [2 * P, 9])
    assert.deepStrictEqual([fs.statSync(path.join(dir, 'log.bin')).size, fs.statSync(path.join(elsewhere, 'log.bin')).size], [2 * P, 0])
    if (!isWindows) { // where a mapped file can be renamed: an error names the file as open() was given it
      fs.renameSync(path.join(dir, 'log.bin'), path.join(dir, 'log.old'))
      fs.writeFileSync(path.join(dir, 'log.bin'), '')
      assert.throws(() => mmap.remap(buf, 4 * P, { grow: true }), { code: 'ERR_INVALID_STATE', path: 'log.bin' })
    }
    mmap.unmap(buf)
  })

  it('validates its arguments before anything happens', function () {
    const buf = mmap.open(tmpFile(P), { mode: 'r+' })
    const cases = [
      [() => mmap.remap(), 'ERR_INVALID_ARG_TYPE'],
      [() => mmap.remap({}, P), 'ERR_INVALID_ARG_TYPE'],
      [() => mmap.remap(buf), 'ERR_INVALID_ARG_TYPE'],
      [() => mmap.remap(buf, 0), 'ERR_OUT_OF_RANGE'],
      [() => mmap.remap(buf, 1.5), 'ERR_OUT_OF_RANGE'],
      [() => mmap.remap(buf, MAX_LENGTH + 1), 'ERR_OUT_OF_RANGE'],
      [() => mmap.remap(buf, P, 'grow'), 'ERR_INVALID_ARG_TYPE'],
      [() => mmap.remap(buf, P, { grow: 1 }), 'ERR_INVALID_ARG_TYPE'],
      [() => mmap.remap(buf, P, { fd: -1 }), 'ERR_OUT_OF_RANGE'],
      [() => mmap.remap(Buffer.alloc(P), P), 'ERR_INVALID_ARG_VALUE']
    ]
    for (const [fn, code] of cases) assert.throws(fn, { code })
    assert.strictEqual(buf.length, P)
    mmap.unmap(buf)
    assert.throws(() => mmap.remap(buf, P), { code: 'ERR_INVALID_ARG_VALUE' })
  })

  it('grows anonymous private memory and a private file mapping, keeping their own pages', function () {
    if (isWindows) skip(this, 'Windows cannot grow a copy-on-write view or pagefile-backed memory (ENOSYS)')
    if (emulated) skip(this, qemuGaps.dontunmap)
    const anon = mmap.map(P, RW, MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1)
    anon.fill(3)
    const grownAnon = mmap.remap(anon, 64 * P)
    assert.ok(grownAnon.subarray(0, P).every((x) => x === 3))
    assert.ok(grownAnon.subarray(P).every((x) => x === 0))
    mmap.unmap(grownAnon)
    const file = tmpFile(Buffer.alloc(4 * P, 1))
    const priv = mmap.open(file, { private: true, length: P })
    priv.fill(9) // copy-on-write: this mapping's own pages
    const grownPriv = mmap.remap(priv, 4 * P)
    assert.ok(grownPriv.subarray(0, P).every((x) => x === 9))
    assert.ok(grownPriv.subarray(P).every((x) => x === 1))
    assert.ok(fs.readFileSync(file).every((x) => x === 1))
    mmap.unmap(grownPriv)
  })

  it('shared anonymous memory cannot grow (its size is fixed): a RangeError, the mapping unchanged', function () {
    if (emulated) skip(this, qemuGaps.mremap)
    if (isWindows) skip(this, 'Windows cannot remap pagefile-backed memory (ENOSYS)')
    const sanon = mmap.map(P, RW, MAP_SHARED | mmap.MAP_ANONYMOUS, -1)
    sanon[0] = 4
    assert.throws(() => mmap.remap(sanon, 16 * P), RANGE)
    assert.strictEqual(sanon[0], 4)
    mmap.unmap(mmap.remap(sanon, 10)) // shrinking is fine
  })

  it('a resident shared mapping keeps its page tables when it grows: the new mapping holds the pages before any touch (Linux 5.13+)', function () {
    const [major, minor] = require('os').release().split('.').map(Number)
    if (!isLinux || emulated) skip(this, 'counted in /proc/self/smaps, not emulated')
    if (major < 5 || (major === 5 && minor < 13)) skip(this, 'MREMAP_DONTUNMAP of shared mappings needs Linux 5.13')
    const size = 16 << 20
    const file = tmpFile(Buffer.alloc(2 * size, 1))
    const fd = fs.openSync(file, 'r')
    try {
      let buf = mmap.map(size, PROT_READ, MAP_SHARED, fd)
      let sum = 0
      for (let i = 0; i < size; i += P) sum += buf[i] // every page in the page tables
      assert.strictEqual(sum, size / P)
      buf = mmap.remap(buf, 2 * size)
      // Each mapping of the file as [size in kB, resident kB], read before
      // any byte of the new Buffer is touched.
      const ranges = fs.readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)
        .filter((block) => block.split('\n')[0].endsWith(` ${file}`))
        .map((block) => ['Size', 'Rss'].map((field) => Number(new RegExp(`^${field}: +(\\d+) kB`, 'm').exec(block)[1])))
      const grown = ranges.filter(([kB]) => kB === 2 * size / 1024)
      assert.strictEqual(grown.length, 1, J(ranges))
      assert.ok(grown[0][1] >= 0.9 * size / 1024, `the new mapping has ${grown[0][1]} kB resident: ${J(ranges)}`)
      process.stdout.write(`      [size kB, resident kB] of each mapping of the file: ${J(ranges)}\n`)
      assert.strictEqual(buf[size - 1] + buf[0], 2)
      mmap.unmap(buf)
    } finally {
      fs.closeSync(fd)
    }
  })

  it('works in a worker thread', async function () {
    if (emulated) skip(this, qemuGaps.mremap)
    const { Worker } = require('worker_threads')
    const file = tmpFile(P)
    const worker = new Worker(`
      const mmap = require(${J(root)}), { parentPort } = require('worker_threads')
      let buf = mmap.open(${J(file)}, { mode: 'r+' })
      buf.write('worker')
      for (let i = 0; i < 10; i++) buf = mmap.remap(buf, buf.length * 2, { grow: true })
      buf.write('end', buf.length - 3)
      mmap.sync(buf, true)
      parentPort.postMessage([buf.length, buf.toString('utf8', 0, 6)])
    `, { eval: true })
    const answer = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject) })
    await worker.terminate()
    assert.deepStrictEqual(answer, [1024 * P, 'worker'])
    const bytes = fs.readFileSync(file)
    assert.strictEqual(bytes.length, 1024 * P)
    assert.strictEqual(bytes.toString('utf8', bytes.length - 3), 'end')
  })

  it('while a promises.sync is in flight: the sync completes on the old pages, the new mapping has the data', async function () {
    if (emulated) skip(this, qemuGaps.mremap)
    const file = tmpFile(Buffer.alloc(64 * P))
    const buf = mmap.open(file, { mode: 'r+' })
    buf.fill(5)
    const pending = mmap.promises.sync(buf)
    const grown = mmap.remap(buf, 128 * P, { grow: true })
    await pending
    assert.ok(fs.readFileSync(file).subarray(0, 64 * P).every((x) => x === 5))
    grown.fill(6, 64 * P)
    await mmap.promises.sync(grown)
    assert.ok(fs.readFileSync(file).subarray(64 * P).every((x) => x === 6))
    mmap.unmap(grown)
  })

  it('a pending fs.read into the old Buffer lands in the file, not in another mapping', function () {
    if (emulated) skip(this, qemuGaps.mremap)
    if (!isLinux) skip(this, 'mkfifo')
    const file = tmpFile(Buffer.alloc(P, 0x61))
    const fifo = path.join(scratch, `remap-fifo-${process.pid}`)
    require('child_process').execFileSync('mkfifo', [fifo])
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs')
      const old = mmap.open(${J(file)}, { mode: 'r+' })
      const f = fs.openSync(${J(fifo)}, fs.constants.O_RDWR)
      fs.read(f, old, 0, 4, null, () => {
        mmap.sync(grown, true)
        console.log(fs.readFileSync(${J(file)}, 'latin1').slice(0, 8), grown.toString('latin1', 0, 8))
      })
      let grown
      setImmediate(() => {
        try {
          grown = mmap.remap(old, 4 * ${P}, { grow: true })
        } catch (e) { // Bun: the read holds the buffer, and the mapping stays as it was
          if (e.code !== 'ERR_MMAP_IO_CANNOT_DETACH') throw e
          console.log('refused')
          grown = old
        }
        for (let i = 0; i < 100; i++) mmap.open(${J(file)}) // other mappings, maybe at the old address
        fs.writeSync(f, 'READ')
      })
    `))
    const lines = out.trim().split('\n')
    if (runtime === 'bun') assert.deepStrictEqual(lines, ['refused', 'READaaaa READaaaa'])
    else assert.deepStrictEqual(lines, ['READaaaa READaaaa'])
  })

  it('refuses a SharedArrayBuffer mapping, whose views in other threads cannot be detached', function () {
    if (!mmap.features.sharedArrayBuffer) skip(this, 'no SharedArrayBuffer mappings in this runtime')
    const buf = mmap.open(tmpFile(P), { sharedArrayBuffer: true })
    assert.throws(() => mmap.remap(buf, 2 * P), { code: 'ERR_INVALID_ARG_VALUE', message: /SharedArrayBuffer/ })
    mmap.unmap(buf)
  })
})

// The third hostile review (issue 20): each child script in test/fixtures
// says what broke before.
describe('remap() against other threads and pending native calls', function () {
  const fixture = (name) => path.join(root, 'test', 'fixtures', name)
  const child = (name, args, flags = [], env = {}) =>
    JSON.parse(assertChildOk(runScript(fixture(name), [root, ...args], { timeout: 120000, env: { ...process.env, ...env } }, flags)))
  const dir = () => fs.mkdtempSync(path.join(scratch, 'hostile-'))

  it('of a private mapping past its end (a RangeError) and moving, while a worker maps another file and allocates: no crash, and never another file\'s bytes', function () {
    if (isWindows) skip(this, 'Windows remaps shared views of files only (ENOSYS)')
    if (emulated) skip(this, qemuGaps.dontunmap)
    const file = tmpFile(Buffer.alloc(64 * P, 0x61))
    const other = tmpFile(Buffer.alloc(64 * P, 0x62))
    const r = child('remap-private-race.js', [file, other, '2000'])
    process.stdout.write(`      ${r.rangeErrors} RangeErrors and ${r.moved} moves against ${r.worker.maps} mappings in the worker\n`)
    assert.deepStrictEqual(r.otherErrors, {})
    assert.ok(r.rangeErrors > 0 && r.moved === r.rangeErrors, JSON.stringify(r))
    assert.strictEqual(r.changed, 0) // a failed remap leaves the mapping as it was
    assert.strictEqual(r.lostWrites, 0) // a move keeps the private pages
    assert.strictEqual(r.worker.wrong, 0) // the worker never reads this file's bytes
  })

  for (const mode of ['same', 'shrink', 'grow']) {
    it(`keeping the pages where they are (${mode === 'same' ? 'the same length' : mode === 'shrink' ? 'shrinking' : 'growing in place'}) with an fs.read pending into the old Buffer, then unmap() and GC: the read lands in no file`, function () {
      if (!isLinux) skip(this, 'mkfifo and /proc/self/maps')
      if (emulated && mode === 'grow') skip(this, qemuGaps.mremap)
      const r = child('remap-pending-read.js', [mode, dir()], runtimeFlags(['--expose-gc']))
      if (mode === 'grow') process.stdout.write(`      grown in place: ${r.inPlace}\n`)
      assert.strictEqual(r.err, null) // the range is still reserved: no EFAULT
      assert.strictEqual(r.n, 16)
      assert.strictEqual(r.corrupted, 0) // no file mapped later at the address got the bytes
      if (r.refused === null) assert.strictEqual(r.a, 'a'.repeat(16)) // released before the read landed
      else assert.strictEqual(r.refused, 'ERR_MMAP_IO_CANNOT_DETACH') // Bun: still mapped
      if (mode !== 'grow') assert.strictEqual(r.inPlace, true)
    })
  }

  for (const mode of ['same', 'shrink']) {
    it(`promises.sync() queued behind a busy threadpool, then remap() (${mode === 'same' ? 'the same length' : 'shrinking'}) and unmap() of the new Buffer: it resolves, with the file's pages written and clean`, function () {
      if (!isLinux) skip(this, 'mkfifo')
      const r = child('sync-behind-busy-pool.js', [mode, dir(), cachestatTool() || '-'], runtimeFlags(['--expose-gc']), { UV_THREADPOOL_SIZE: '1' })
      assert.deepStrictEqual(r.resolved, true, JSON.stringify(r)) // not ENOMEM: the range stayed
      assert.strictEqual(r.written, true)
      if (r.dirty === null) process.stdout.write('      (dirty pages not counted: no cachestat() here)\n')
      else assert.strictEqual(r.dirty, 0) // msync ran on the file's pages
    })
  }

  it('of an empty open() mapping with { grow: true } maps the descriptor it checked, not a file renamed over the path meanwhile', function () {
    if (isWindows) skip(this, 'a file open on Windows cannot be renamed over')
    const r = child('remap-swapped.js', [dir()])
    assert.strictEqual(r.swapped, true)
    assert.strictEqual(r.original, 'MAPPED') // the file open() opened, grown and mapped
    assert.strictEqual(r.originalSize, P)
    assert.strictEqual(r.renamedOver, 'oooooo') // the other file is untouched
  })

  it('with { fd } of another file refuses before growing it, when the kernel merged the mapping with its neighbour (asked with PROCMAP_QUERY, and from /proc/self/maps)', function () {
    if (!isLinux || emulated) skip(this, '/proc/self/maps of the host, and an LD_PRELOAD shim for its C library')
    for (const env of [{}, { LD_PRELOAD: failShim(), MMAP_IO_FAIL: 'ioctl', MMAP_IO_FAIL_ERRNO: '25' }]) {
      const r = child('remap-merged-fd.js', [dir()], [], env)
      assert.strictEqual(r.merged, true, 'the kernel merged the two mappings')
      assert.strictEqual(r.code, 'ERR_INVALID_ARG_VALUE', r.message)
      assert.match(r.message, /not a descriptor of the file/)
      assert.strictEqual(r.otherSize, P) // not grown
      assert.strictEqual(r.stillMapped, true)
    }
  })
  it('that moves into a reservation made for it: when that move fails (before the kernel freed the target, after, or with another mapping put there meanwhile) it moves the other way, and gives back the whole reservation but nothing else', function () {
    if (!isLinux || emulated) skip(this, 'an LD_PRELOAD shim for the host\'s C library, and MREMAP_DONTUNMAP')
    const cases = [['before', {}], ['hole', {}], ['taken', {}], ['before', { MMAP_IO_FAIL: 'ioctl', MMAP_IO_FAIL_ERRNO: '25' }], ['hole', { MMAP_IO_FAIL: 'ioctl', MMAP_IO_FAIL_ERRNO: '25' }]]
    for (const [mode, extra] of cases) {
      const d = dir()
      const log = path.join(d, 'log')
      const file = tmpFile(Buffer.alloc(16 * P, 0x61))
      const r = child('remap-reservation.js', [file, log], [], { LD_PRELOAD: failShim(), MMAP_IO_REMAP_FIXED: mode, MMAP_IO_REMAP_LOG: log, ...extra })
      const what = `${mode}${extra.MMAP_IO_FAIL ? ' (no PROCMAP_QUERY)' : ''}: ${JSON.stringify(r)}`
      assert.strictEqual(r.failures.length, 1, what) // the shim failed one move into a reservation
      assert.strictEqual(r.wrong, 0, what) // every remap() kept the contents
      assert.strictEqual(r.reservations, 0, what) // no part of a reservation left behind
      if (mode === 'taken') assert.strictEqual(r.takenKept, true, what) // the other mapping is still there
    }
  })
})

describe('the append-only log example', function () {
  it('a writer that doubles the file and two readers that remap as it grows agree on every record', function () {
    const r = require('child_process').spawnSync(process.execPath, scriptArgs(path.join(root, 'examples', 'append-log.js'), ['demo', '50000']),
      { cwd: root, encoding: 'utf8', timeout: 120000 })
    assert.strictEqual(r.signal, null, r.stderr)
    assert.strictEqual(r.status, 0, r.stderr)
    process.stdout.write(`      ${r.stdout.trim()}\n`)
    assert.match(r.stdout, /^50000 records written and committed .*readers: 50000 records, [1-9]\d* remaps; 50000 records, [1-9]\d* remaps/)
  })

  it('SIGKILL of the writer mid-append loses no record whose commit was acknowledged', async function () {
    if (isWindows) skip(this, 'SIGKILL')
    const file = path.join(scratch, 'killed.log')
    const child = spawn(process.execPath, scriptArgs(path.join(root, 'examples', 'append-log.js'), ['write', file, '10000000', '500']),
      { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    let acknowledged = 0
    await new Promise((resolve) => {
      child.on('message', (n) => {
        acknowledged = n
        if (n >= 20000) child.kill('SIGKILL') // mid-append, after several doublings
      })
      child.on('exit', resolve)
    })
    const { LogReader, check } = require(path.join(root, 'examples', 'append-log.js'))
    const log = new LogReader(file)
    let n = 0
    for (const bytes of log.poll()) {
      assert.ok(check(bytes, n), `record ${n}`)
      n++
    }
    log.close()
    process.stdout.write(`      ${acknowledged} records acknowledged; ${n} committed records intact after SIGKILL\n`)
    assert.ok(acknowledged >= 20000)
    assert.ok(n >= acknowledged, `${n} < ${acknowledged}`)
  })
})
