'use strict'
// Beyond 1.x: open(), the promises API, residency, lock/unlock, protect,
// anonymous memory, the extra constants and features, >4 GiB Buffers.
const assert = require('assert')
const fs = require('fs')
const path = require('path')
const { constants: { MAX_LENGTH } } = require('buffer')
const mmap = require('..')
const { tmpFile, openFd, closeFds, scratch, runChild, assertChildOk, failShim, sanitized, isLinux, isWindows, assertCrashed, skip, evalArgs, qemuGaps, emulated } = require('./helpers')

const { PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, PAGESIZE } = mmap
const RW = PROT_READ | PROT_WRITE

// Linux only: open file descriptors and mappings of a file (-1 elsewhere).
const openFds = () => isLinux ? fs.readdirSync('/proc/self/fd').length : -1
const mappingsOf = (file) => isLinux ? fs.readFileSync('/proc/self/maps', 'utf8').split(file).length - 1 : 0
const anonymous = (pages) => mmap.map(pages * PAGESIZE, RW, MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1)

describe('open()', function () {
  it("maps the whole file read-only by default ('r') and closes its fd", function () {
    const file = tmpFile(3 * PAGESIZE + 17)
    const before = openFds()
    const buf = mmap.open(file)
    assert.strictEqual(openFds(), before)
    assert.ok(Buffer.isBuffer(buf))
    assert.deepStrictEqual(buf, fs.readFileSync(file))
    const r = runChild(`
      const b = require('mmap-io').open(${JSON.stringify(file)})
      b[0] = 1
    `)
    assertCrashed(r, 'SIGSEGV') // read-only
  })

  it("'r+' maps read-write and shares writes with the file", function () {
    const file = tmpFile(2 * PAGESIZE)
    const buf = mmap.open(file, { mode: 'r+' })
    buf.write('open r+', 10)
    mmap.sync(buf, true)
    assert.strictEqual(fs.readFileSync(file, 'utf8').slice(10, 17), 'open r+')
  })

  it("'w+' creates the file, grows it to size with ftruncate, and never shrinks it", function () {
    const file = path.join(scratch, 'created-by-open')
    const buf = mmap.open(file, { mode: 'w+', size: 3 * PAGESIZE })
    assert.strictEqual(buf.length, 3 * PAGESIZE)
    assert.strictEqual(fs.statSync(file).size, 3 * PAGESIZE)
    buf.write('new file')
    mmap.unmap(buf)
    const bigger = mmap.open(file, { mode: 'w+', size: 5 * PAGESIZE })
    assert.strictEqual(fs.statSync(file).size, 5 * PAGESIZE)
    assert.strictEqual(bigger.toString('utf8', 0, 8), 'new file') // contents kept
    const smaller = mmap.open(file, { mode: 'w+', size: PAGESIZE })
    assert.strictEqual(fs.statSync(file).size, 5 * PAGESIZE)
    assert.strictEqual(smaller.length, 5 * PAGESIZE)
    assert.throws(() => mmap.open(file, { mode: 'w+' }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options.size" property/ })
  })

  it('takes any byte offset and returns the view at that byte', function () {
    const file = tmpFile(4 * PAGESIZE)
    const whole = fs.readFileSync(file)
    for (const offset of [0, 1, 100, PAGESIZE - 1, PAGESIZE, PAGESIZE + 7, 3 * PAGESIZE + 5]) {
      const buf = mmap.open(file, { offset })
      assert.deepStrictEqual(buf, whole.subarray(offset), `offset ${offset}`)
      const part = mmap.open(file, { offset: BigInt(offset), length: 10 })
      assert.deepStrictEqual(part, whole.subarray(offset, offset + 10))
      // Every function takes it.
      mmap.advise(part, mmap.MADV_WILLNEED)
      mmap.sync(part)
      assert.strictEqual(mmap.incore(part).reduce((a, b) => a + b), part.byteOffset % PAGESIZE + 10 > PAGESIZE ? 2 : 1)
      mmap.unmap(part)
      assert.strictEqual(part.length, 0)
    }
  })

  it('private: true is copy-on-write, even on a read-only file', function () {
    const file = tmpFile(PAGESIZE)
    const before = fs.readFileSync(file)
    const buf = mmap.open(file, { private: true })
    buf.fill(1)
    mmap.sync(buf, true)
    assert.strictEqual(buf[0], 1)
    assert.deepStrictEqual(fs.readFileSync(file), before)
  })

  it('takes populate and advice', function () {
    const file = tmpFile(4 * PAGESIZE)
    const buf = mmap.open(file, { populate: true, advice: mmap.MADV_SEQUENTIAL })
    assert.deepStrictEqual(mmap.incore(buf), [0, 4])
  })

  it('gives an empty file a zero-length Buffer without calling mmap, which every function takes', async function () {
    const file = tmpFile('')
    const before = mappingsOf(file)
    const buf = mmap.open(file)
    assert.strictEqual(buf.length, 0)
    assert.ok(Buffer.isBuffer(buf))
    assert.strictEqual(mappingsOf(file), before)
    mmap.sync(buf, true)
    mmap.advise(buf, mmap.MADV_DONTNEED)
    mmap.lock(buf)
    mmap.unlock(buf)
    mmap.protect(buf, PROT_READ)
    assert.deepStrictEqual(mmap.incore(buf), [0, 0])
    assert.deepStrictEqual(mmap.residency(buf), new Uint8Array(0))
    await mmap.promises.sync(buf)
    await mmap.promises.prefetch(buf)
    assert.deepStrictEqual(await mmap.promises.residency(buf), new Uint8Array(0))
    mmap.unmap(buf)
  })

  it('refuses offset + length past the end of the file with a RangeError (no SIGBUS)', function () {
    const file = tmpFile(2 * PAGESIZE)
    assert.throws(() => mmap.open(file, { offset: 2 * PAGESIZE + 1 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => mmap.open(file, { offset: PAGESIZE, length: PAGESIZE + 1 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => mmap.open(file, { length: 2 * PAGESIZE + 1 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
    assert.strictEqual(mmap.open(file, { offset: 2 * PAGESIZE }).length, 0)
  })

  it('throws fs-style errors that carry the path', function () {
    const missing = path.join(scratch, 'no-such-file')
    assert.throws(() => mmap.open(missing), {
      code: 'ENOENT', syscall: 'open', path: missing, message: `ENOENT: no such file or directory, open '${missing}'`
    })
    if (isWindows) return // Windows opens no directory as a file
    const dir = fs.mkdtempSync(path.join(scratch, 'dir-'))
    assert.throws(() => mmap.open(dir), {
      code: 'EISDIR', syscall: 'open', path: dir, message: `EISDIR: illegal operation on a directory, open '${dir}'`
    })
  })

  it('validates its options', function () {
    const file = tmpFile(PAGESIZE)
    const cases = [
      [{ mode: 'w' }, 'ERR_INVALID_ARG_VALUE'],
      [{ mode: 'r', size: 10 }, 'ERR_INVALID_ARG_VALUE'],
      [{ offset: -1 }, 'ERR_OUT_OF_RANGE'],
      [{ offset: '1' }, 'ERR_INVALID_ARG_TYPE'],
      [{ length: 1.5 }, 'ERR_OUT_OF_RANGE'],
      [{ private: 1 }, 'ERR_INVALID_ARG_TYPE'],
      [{ populate: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
      [{ advice: 12345 }, 'ERR_INVALID_ARG_VALUE']
    ]
    for (const [options, code] of cases) assert.throws(() => mmap.open(file, options), { code }, JSON.stringify(options))
    assert.throws(() => mmap.open(file, 'r'), { code: 'ERR_INVALID_ARG_TYPE' })
    assert.throws(() => mmap.open(123), { code: 'ERR_INVALID_ARG_TYPE' })
  })
})

describe('promises', function () {
  afterEach(closeFds)

  it('sync() resolves once the data is in the file, with a range and with { invalidate }', async function () {
    const file = tmpFile(4 * PAGESIZE)
    const buf = mmap.open(file, { mode: 'r+' })
    buf.write('async flush', PAGESIZE)
    assert.strictEqual(await mmap.promises.sync(buf), undefined)
    assert.strictEqual(fs.readFileSync(file, 'utf8').slice(PAGESIZE, PAGESIZE + 11), 'async flush')
    buf.write('ranged', 2 * PAGESIZE)
    await mmap.promises.sync(buf, 2 * PAGESIZE, PAGESIZE)
    await mmap.promises.sync(buf, 2 * PAGESIZE, PAGESIZE, { invalidate: true })
    await mmap.promises.sync(buf, { invalidate: true })
    assert.strictEqual(fs.readFileSync(file, 'utf8').slice(2 * PAGESIZE, 2 * PAGESIZE + 6), 'ranged')
  })

  it('prefetch() makes every page of the range resident', async function () {
    if (emulated) skip(this, qemuGaps.madvise)
    const buf = anonymous(16)
    assert.strictEqual(mmap.residency(buf).reduce((a, b) => a + b), 0)
    await mmap.promises.prefetch(buf, 4 * PAGESIZE, 4 * PAGESIZE)
    assert.deepStrictEqual([...mmap.residency(buf)], [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    await mmap.promises.prefetch(buf)
    assert.strictEqual(mmap.residency(buf).reduce((a, b) => a + b), 16)
  })

  it('prefetch() falls back to MADV_WILLNEED and reading a byte per page without MADV_POPULATE_READ', function () {
    if (!isLinux || mmap.MADV_POPULATE_READ === undefined) skip(this, 'an LD_PRELOAD shim')
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io')
      const buf = mmap.map(16 * mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1)
      ;(async () => {
        const before = mmap.residency(buf).reduce((a, b) => a + b)
        await mmap.promises.prefetch(buf)
        const after = mmap.residency(buf).reduce((a, b) => a + b)
        // A page that cannot be read rejects with EFAULT instead of crashing.
        mmap.protect(buf, mmap.PROT_NONE, 8 * mmap.PAGESIZE, mmap.PAGESIZE)
        let code
        try { await mmap.promises.prefetch(buf) } catch (e) { code = e.code + ' ' + e.syscall }
        console.log(before, after, code)
      })()
    `, { env: { LD_PRELOAD: failShim(), MMAP_IO_FAIL: 'madvise', MMAP_IO_FAIL_ADVICE: String(mmap.MADV_POPULATE_READ), MMAP_IO_FAIL_ERRNO: '22' } }))
    assert.strictEqual(out.trim(), '0 16 EFAULT madvise')
  })

  it('prefetch() reads the pages through a pipe where process_vm_readv is refused (seccomp, qemu-user)', function () {
    if (!isLinux || mmap.MADV_POPULATE_READ === undefined) skip(this, 'an LD_PRELOAD shim')
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs')
      const buf = mmap.map(3000 * mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1)
      const fds = () => fs.readdirSync('/proc/self/fd').length
      ;(async () => {
        const before = fds()
        await mmap.promises.prefetch(buf)
        const after = mmap.residency(buf).reduce((a, b) => a + b)
        mmap.protect(buf, mmap.PROT_NONE, 2500 * mmap.PAGESIZE, mmap.PAGESIZE)
        let code
        try { await mmap.promises.prefetch(buf) } catch (e) { code = e.code }
        console.log(after, code, fds() - before)
      })()
    `, {
      env: {
        LD_PRELOAD: failShim(),
        MMAP_IO_FAIL: 'madvise,process_vm_readv',
        MMAP_IO_FAIL_ADVICE: String(mmap.MADV_POPULATE_READ),
        MMAP_IO_FAIL_ERRNO_madvise: '22',
        MMAP_IO_FAIL_ERRNO_process_vm_readv: '1' // EPERM, as Docker's seccomp profile says
      }
    }))
    // Every page read (over three batches), a bad page is EFAULT, no pipe left open.
    assert.strictEqual(out.trim(), '3000 EFAULT 0')
  })

  it('residency() resolves to one byte per page', async function () {
    const buf = anonymous(8)
    buf[0] = 1
    buf[5 * PAGESIZE] = 1
    assert.deepStrictEqual([...await mmap.promises.residency(buf)], [1, 0, 0, 0, 0, 1, 0, 0])
    assert.deepStrictEqual([...await mmap.promises.residency(buf, 4 * PAGESIZE + 1, PAGESIZE)], [0, 1])
  })

  it('unmap() during the work detaches at once and unmaps when the work is done', async function () {
    const file = tmpFile(64 * PAGESIZE)
    const buf = mmap.open(file, { mode: 'r+' })
    buf.fill(3)
    const flushing = mmap.promises.sync(buf)
    mmap.unmap(buf)
    assert.strictEqual(buf.length, 0)
    await flushing
    assert.strictEqual(mappingsOf(file), 0)
    assert.ok(fs.readFileSync(file).every((b) => b === 3))
    // Many at once, unmapped while in flight.
    const views = Array.from({ length: 50 }, () => mmap.open(file))
    const { prefetch, residency, sync } = mmap.promises
    const work = views.map((v, i) => [prefetch, residency, sync][i % 3](v))
    views.forEach((v) => mmap.unmap(v))
    await Promise.all(work)
    assert.strictEqual(mappingsOf(file), 0)
  })

  it('rejects bad arguments and dead views, and system errors with the same shapes', async function () {
    const buf = anonymous(2)
    await assert.rejects(mmap.promises.sync(Buffer.alloc(10)), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
    await assert.rejects(mmap.promises.sync('x'), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
    await assert.rejects(mmap.promises.sync(buf, -1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
    await assert.rejects(mmap.promises.sync(buf, { invalidate: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' })
    await assert.rejects(mmap.promises.prefetch(buf, 0, 3 * PAGESIZE), { code: 'ERR_OUT_OF_RANGE' })
    await assert.rejects(mmap.promises.residency(buf, 1.5), { code: 'ERR_OUT_OF_RANGE' })
    mmap.unmap(buf)
    await assert.rejects(mmap.promises.prefetch(buf), { code: 'ERR_INVALID_ARG_VALUE' })
    if (!isLinux) return // the rest makes msync and mincore fail with an LD_PRELOAD shim
    const file = tmpFile(PAGESIZE)
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), util = require('util')
      const b = mmap.open(${JSON.stringify(file)}, { mode: 'r+' })
      Promise.allSettled([mmap.promises.sync(b), mmap.promises.residency(b)]).then((r) => {
        console.log(JSON.stringify(r.map(({ reason: e }) => [e.code, util.getSystemErrorName(e.errno), e.syscall, e.message])))
      })
    `, { env: { LD_PRELOAD: failShim(), MMAP_IO_FAIL: 'msync,mincore' } }))
    assert.deepStrictEqual(JSON.parse(out), [
      ['EIO', 'EIO', 'msync', 'EIO: i/o error, msync'],
      ['EIO', 'EIO', 'mincore', 'EIO: i/o error, mincore']
    ])
  })
})

describe('residency()', function () {
  it('returns one 0/1 byte per page, agreeing with incore()', function () {
    const buf = anonymous(6)
    buf[PAGESIZE] = 1
    buf[4 * PAGESIZE + 10] = 1
    const r = mmap.residency(buf)
    assert.ok(r instanceof Uint8Array)
    assert.deepStrictEqual([...r], [0, 1, 0, 0, 1, 0])
    const [missing, resident] = mmap.incore(buf)
    assert.deepStrictEqual([missing, resident], [4, 2])
    assert.deepStrictEqual([...mmap.residency(buf, PAGESIZE, 2 * PAGESIZE)], [1, 0])
    assert.deepStrictEqual(mmap.incore(buf, PAGESIZE, 2 * PAGESIZE), [1, 1])
    assert.deepStrictEqual([...mmap.residency(buf.subarray(PAGESIZE - 1, PAGESIZE + 1))], [0, 1])
  })
})

describe('lock(), unlock() and protect()', function () {
  it('locks and unlocks a mapping and a range', function () {
    if (sanitized) skip(this, 'AddressSanitizer replaces mlock() with a no-op')
    const buf = anonymous(4)
    mmap.lock(buf)
    // Locked pages are resident.
    assert.deepStrictEqual(mmap.incore(buf), [0, 4])
    mmap.unlock(buf)
    mmap.lock(buf, PAGESIZE, PAGESIZE)
    mmap.unlock(buf, PAGESIZE, PAGESIZE)
  })

  it('explains an RLIMIT_MEMLOCK failure (unprivileged child, 64 KiB limit)', function () {
    if (sanitized || !isLinux) skip(this, 'ASan\'s mlock() is a no-op; prlimit and setpriv are Linux\'s')
    // As root, CAP_IPC_LOCK lifts the limit: run the child as nobody.
    const { spawnSync } = require('child_process')
    const r = spawnSync('prlimit', ['--memlock=65536:65536', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
      process.execPath, ...evalArgs(`
        const mmap = require(${JSON.stringify(path.join(__dirname, '..'))})
        const buf = mmap.map(1 << 20, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1)
        try { mmap.lock(buf) } catch (e) { console.log(JSON.stringify([e.code, e.syscall, e.message])) }
      `)], { encoding: 'utf8', env: { ...process.env, HOME: '/tmp', DENO_DIR: '/tmp/deno-nobody' } })
    if (r.error) skip(this, 'no prlimit or setpriv here')
    const [code, syscall, message] = JSON.parse(r.stdout)
    assert.ok(code === 'ENOMEM' || code === 'EPERM', code)
    assert.strictEqual(syscall, 'mlock')
    assert.match(message, /^(ENOMEM|EPERM): .*RLIMIT_MEMLOCK.*, mlock$/)
  })

  it('protect() makes a written region read-only, and writable again', function () {
    const file = tmpFile(4 * PAGESIZE)
    const r = runChild(`
      const mmap = require('mmap-io')
      const b = mmap.open(${JSON.stringify(file)}, { mode: 'r+' })
      b.write('sealed', ${PAGESIZE})
      mmap.protect(b, mmap.PROT_READ, ${PAGESIZE}, ${PAGESIZE})
      b[0] = 1; b[${2 * PAGESIZE}] = 1 // other pages stay writable
      mmap.protect(b, mmap.PROT_READ | mmap.PROT_WRITE)
      b[${PAGESIZE}] = 83 // 'S'
      mmap.protect(b, mmap.PROT_READ, ${PAGESIZE}, ${PAGESIZE})
      console.log(b.toString('utf8', ${PAGESIZE}, ${PAGESIZE + 6}))
      b[${PAGESIZE}] = 1 // SIGSEGV
    `)
    assert.strictEqual(r.stdout.trim(), 'Sealed')
    assertCrashed(r, 'SIGSEGV')
  })

  it('protect() takes page-aligned whole pages and reports mprotect errors', function () {
    const buf = anonymous(2)
    assert.throws(() => mmap.protect(buf, PROT_READ, 1), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => mmap.protect(buf, PROT_READ, 0, 100), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => mmap.protect(buf, 99), { code: 'ERR_INVALID_ARG_VALUE' })
    const fd = openFd(tmpFile(PAGESIZE), 'r')
    const ro = mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd)
    assert.throws(() => mmap.protect(ro, RW), {
      code: 'EACCES', syscall: 'mprotect', message: 'EACCES: permission denied, mprotect'
    })
  })
})

describe('constants and features', function () {
  it('exports the Linux constants with their header values', function () {
    if (!isLinux) skip(this, 'Linux header values')
    const expected = {
      MAP_ANONYMOUS: 0x20,
      MAP_NORESERVE: 0x4000,
      MAP_HUGETLB: 0x40000,
      MAP_LOCKED: 0x2000,
      MADV_HUGEPAGE: 14,
      MADV_NOHUGEPAGE: 15,
      MADV_DONTFORK: 10,
      MADV_DOFORK: 11,
      MADV_DONTDUMP: 16,
      MADV_DODUMP: 17,
      MADV_FREE: 8,
      MADV_REMOVE: 9,
      MADV_POPULATE_READ: 22,
      MADV_POPULATE_WRITE: 23,
      MS_ASYNC: 1,
      MS_SYNC: 4,
      MS_INVALIDATE: 2
    }
    for (const [name, value] of Object.entries(expected)) assert.strictEqual(mmap[name], value, name)
    assert.strictEqual(mmap.ALLOCATIONGRANULARITY, PAGESIZE)
  })

  it('features tells what the platform supports', function () {
    assert.strictEqual(typeof mmap.features.populateRead, 'boolean')
    assert.strictEqual(mmap.features.populateRead, mmap.MADV_POPULATE_READ !== undefined && mmap.features.populateRead)
    assert.strictEqual(mmap.features.anonymous, mmap.MAP_ANONYMOUS !== undefined)
    assert.ok(Object.isFrozen(mmap.features))
  })

  it('MAP_ANONYMOUS gives zeroed memory for fd -1, and nothing else', function () {
    const buf = mmap.map(4 * PAGESIZE, RW, MAP_SHARED | mmap.MAP_ANONYMOUS, -1)
    assert.ok(buf.every((b) => b === 0))
    buf.fill(7)
    assert.strictEqual(buf[4 * PAGESIZE - 1], 7)
    assert.throws(() => mmap.map(PAGESIZE, RW, MAP_SHARED | mmap.MAP_ANONYMOUS, 3), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => mmap.map(PAGESIZE, RW, MAP_SHARED | mmap.MAP_ANONYMOUS, -1, PAGESIZE), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => mmap.map(PAGESIZE, RW, MAP_SHARED, -1), { code: 'ERR_OUT_OF_RANGE' })
  })

  it('discarding advice: MADV_FREE and MADV_REMOVE need whole pages too', function () {
    if (mmap.MADV_FREE === undefined || mmap.MADV_REMOVE === undefined) skip(this, 'not on this platform')
    const buf = anonymous(2)
    assert.throws(() => mmap.advise(buf, 1, PAGESIZE, mmap.MADV_FREE), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => mmap.advise(buf, 0, 10, mmap.MADV_REMOVE), { code: 'ERR_OUT_OF_RANGE' })
    buf.fill(1)
    mmap.advise(buf, mmap.MADV_FREE)
  })
})

describe('Buffers above 4 GiB', function () {
  it(MAX_LENGTH >= 6 * 2 ** 30
    ? 'map a 6 GiB sparse file in one piece and read both ends (Node >= 22)'
    : 'are a RangeError where buffer.constants.MAX_LENGTH is 4 GiB (Node < 22)', function () {
    const file = path.join(scratch, 'sparse-6g')
    const size = 6 * 2 ** 30
    const fd = openFd(file, 'w+')
    fs.ftruncateSync(fd, size)
    fs.writeSync(fd, Buffer.from('first'), 0, 5, 0)
    fs.writeSync(fd, Buffer.from('last!'), 0, 5, size - 5)
    if (MAX_LENGTH < size) {
      assert.throws(() => mmap.map(size, PROT_READ, MAP_SHARED, fd), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
      // open() without a length: the file is too large, not an option the
      // caller never passed; the error says how to map it.
      assert.throws(() => mmap.open(file), (err) => {
        assert.strictEqual(err.name, 'RangeError')
        assert.strictEqual(err.code, 'ERR_FS_FILE_TOO_LARGE')
        assert.strictEqual(err.path, file)
        assert.match(err.message, /^File size \(6442450944\) is greater than a Buffer can hold here \(buffer.constants.MAX_LENGTH, \d+\): map it in pieces with open\(path, \{ offset, length \}\)/)
        assert.doesNotMatch(err.message, /options\.length/)
        return true
      })
      // In pieces, as the error says: the last one reads the end.
      const piece = mmap.open(file, { offset: size - 2 ** 30, length: 2 ** 30 })
      assert.strictEqual(piece.subarray(2 ** 30 - 5).toString('latin1'), 'last!')
      mmap.unmap(piece)
      assert.throws(() => mmap.open(file, { length: size }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
      return
    }
    const buf = mmap.map(size, PROT_READ, MAP_SHARED, fd)
    assert.strictEqual(buf.length, size)
    assert.strictEqual(buf.toString('latin1', 0, 5), 'first')
    assert.strictEqual(buf.subarray(size - 5, size).toString('latin1'), 'last!')
    assert.strictEqual(mmap.incore(buf).reduce((a, b) => a + b), size / PAGESIZE)
    mmap.unmap(buf)
    const opened = mmap.open(file)
    assert.strictEqual(opened.subarray(size - 5).toString('latin1'), 'last!')
    mmap.unmap(opened)
  })
})
