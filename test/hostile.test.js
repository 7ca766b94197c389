'use strict'
// Hostile input: a table of bad calls, each with the error it must throw, and
// a property test that throws random argument lists at every function.
const assert = require('assert')
const fs = require('fs')
const path = require('path')
const { constants: { MAX_LENGTH } } = require('buffer')
const mmap = require('..')
const { tmpFile, openFd, closeFds, scratch, runChild, assertChildOk, isWindows, skip } = require('./helpers')

const { PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, PAGESIZE } = mmap
const { MADV_NORMAL, MADV_DONTNEED } = mmap
const RW = PROT_READ | PROT_WRITE
const P = PAGESIZE

const ARG_TYPE = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }
const ARG_VALUE = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }
const RANGE = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }
const sys = (code, syscall) => ({ name: 'Error', code, syscall })

describe('hostile input', function () {
  let fd, rofd, wofd, dirfd, closed, buf, dead, deadView, plain
  before(function () {
    const file = tmpFile(4 * P)
    fd = openFd(file, 'r+')
    rofd = openFd(file, 'r')
    wofd = openFd(file, 'a') // write-only, without truncating
    dirfd = isWindows ? -1 : openFd(scratch, 'r') // Windows opens no directory as a file
    closed = fs.openSync(file, 'r')
    fs.closeSync(closed)
    buf = mmap.map(4 * P, RW, MAP_SHARED, fd)
    dead = mmap.map(P, RW, MAP_SHARED, fd)
    deadView = new DataView(dead.buffer)
    mmap.unmap(dead)
    plain = Buffer.alloc(2 * P)
  })
  after(closeFds)

  const table = [
    // map: size
    ['map()', () => mmap.map(), ARG_TYPE],
    ['map("foo")', () => mmap.map('foo', PROT_READ, MAP_SHARED, fd), ARG_TYPE],
    ['map(null)', () => mmap.map(null, PROT_READ, MAP_SHARED, fd), ARG_TYPE],
    ['map({ length })', () => mmap.map({ length: 10 }, PROT_READ, MAP_SHARED, fd), ARG_TYPE],
    ['map(-1)', () => mmap.map(-1, PROT_READ, MAP_SHARED, fd), RANGE],
    ['map(0)', () => mmap.map(0, PROT_READ, MAP_SHARED, fd), RANGE],
    ['map(0n)', () => mmap.map(0n, PROT_READ, MAP_SHARED, fd), RANGE],
    ['map(0.5)', () => mmap.map(0.5, PROT_READ, MAP_SHARED, fd), RANGE], // truncated to 0, as 1.x did
    ['map(NaN)', () => mmap.map(NaN, PROT_READ, MAP_SHARED, fd), RANGE],
    ['map(Infinity)', () => mmap.map(Infinity, PROT_READ, MAP_SHARED, fd), RANGE],
    ['map(-Infinity)', () => mmap.map(-Infinity, PROT_READ, MAP_SHARED, fd), RANGE],
    ['map(2 ** 53)', () => mmap.map(2 ** 53, PROT_READ, MAP_SHARED, fd), RANGE],
    ['map(2n ** 64n)', () => mmap.map(2n ** 64n, PROT_READ, MAP_SHARED, fd), RANGE],
    ['map(-1n)', () => mmap.map(-1n, PROT_READ, MAP_SHARED, fd), RANGE],
    ['map(MAX_LENGTH + 1)', () => mmap.map(MAX_LENGTH + 1, PROT_READ, MAP_SHARED, fd), RANGE],
    // map: protection
    ['map(P, "r")', () => mmap.map(P, 'r', MAP_SHARED, fd), ARG_TYPE],
    ['map(P, 1n)', () => mmap.map(P, 1n, MAP_SHARED, fd), ARG_TYPE],
    ['map(P, 1.5)', () => mmap.map(P, 1.5, MAP_SHARED, fd), RANGE],
    ['map(P, -1)', () => mmap.map(P, -1, MAP_SHARED, fd), RANGE],
    ['map(P, 0x100)', () => mmap.map(P, 0x100, MAP_SHARED, fd), ARG_VALUE],
    // map: flags
    ['map(P, R, "shared")', () => mmap.map(P, PROT_READ, 'shared', fd), ARG_TYPE],
    ['map(P, R, 0)', () => mmap.map(P, PROT_READ, 0, fd), ARG_VALUE],
    // Both kinds: MAP_SHARED_VALIDATE on Linux, which map() takes; elsewhere no kind.
    ...(mmap.MAP_SHARED_VALIDATE === undefined
      ? [['map(P, R, SHARED | PRIVATE)', () => mmap.map(P, PROT_READ, MAP_SHARED | MAP_PRIVATE, fd), ARG_VALUE]]
      : []),
    ['map(P, R, SHARED | MAP_GROWSDOWN)', () => mmap.map(P, PROT_READ, MAP_SHARED | 0x100, fd), ARG_VALUE],
    ['map(P, R, SHARED | MAP_FIXED)', () => mmap.map(P, PROT_READ, MAP_SHARED | 0x10, fd), ARG_VALUE],
    ['map(P, R, 2 ** 40)', () => mmap.map(P, PROT_READ, 2 ** 40, fd), RANGE],
    // map: fd
    ['map(P, R, S)', () => mmap.map(P, PROT_READ, MAP_SHARED), ARG_TYPE],
    ['map(P, R, S, null)', () => mmap.map(P, PROT_READ, MAP_SHARED, null), ARG_TYPE],
    ['map(P, R, S, "3")', () => mmap.map(P, PROT_READ, MAP_SHARED, '3'), ARG_TYPE],
    ['map(P, R, S, -2)', () => mmap.map(P, PROT_READ, MAP_SHARED, -2), RANGE],
    ['map(P, R, S, 2 ** 31)', () => mmap.map(P, PROT_READ, MAP_SHARED, 2 ** 31), RANGE],
    ['map(P, R, S, 1.5)', () => mmap.map(P, PROT_READ, MAP_SHARED, 1.5), RANGE],
    // map: offset
    ['map(…, offset 100)', () => mmap.map(P, PROT_READ, MAP_SHARED, fd, 100), RANGE],
    ['map(…, offset 100n)', () => mmap.map(P, PROT_READ, MAP_SHARED, fd, 100n), RANGE],
    ['map(…, offset -4096)', () => mmap.map(P, PROT_READ, MAP_SHARED, fd, -4096), RANGE],
    ['map(…, offset 2 ** 53)', () => mmap.map(P, PROT_READ, MAP_SHARED, fd, 2 ** 53), RANGE],
    ['map(…, offset 2n ** 63n)', () => mmap.map(P, PROT_READ, MAP_SHARED, fd, 2n ** 63n), RANGE],
    ['map(…, offset "x")', () => mmap.map(P, PROT_READ, MAP_SHARED, fd, 'x'), ARG_TYPE],
    ['map(…, offset 100.5)', () => mmap.map(P, PROT_READ, MAP_SHARED, fd, 100.5), RANGE], // 100: not a multiple
    ['map(…, offset NaN)', () => mmap.map(P, PROT_READ, MAP_SHARED, fd, NaN), RANGE],
    // map: advice
    ['map(…, advice "x")', () => mmap.map(P, PROT_READ, MAP_SHARED, fd, 0, 'x'), ARG_TYPE],
    ['map(…, advice 999)', () => mmap.map(P, PROT_READ, MAP_SHARED, fd, 0, 999), ARG_VALUE],
    ['map(…, advice 100 (MADV_HWPOISON))', () => mmap.map(P, PROT_READ, MAP_SHARED, fd, 0, 100), ARG_VALUE],
    ['map(…, advice -1)', () => mmap.map(P, PROT_READ, MAP_SHARED, fd, 0, -1), ARG_VALUE],
    // map: failing system calls
    ['map(RW, SHARED) on a read-only fd', () => mmap.map(P, RW, MAP_SHARED, rofd), sys('EACCES', 'mmap')],
    ['map(R) on a write-only fd', () => mmap.map(P, PROT_READ, MAP_SHARED, wofd), sys('EACCES', 'mmap')],
    ['map on a closed fd', () => mmap.map(P, PROT_READ, MAP_SHARED, closed), sys('EBADF', 'mmap')],
    ['map on a directory', () => mmap.map(P, PROT_READ, MAP_SHARED, dirfd), sys('ENODEV', 'mmap')],
    // unmap
    ['unmap()', () => mmap.unmap(), ARG_TYPE],
    ['unmap("str")', () => mmap.unmap('str'), ARG_TYPE],
    ['unmap({ length })', () => mmap.unmap({ length: P }), ARG_TYPE],
    ['unmap(ArrayBuffer)', () => mmap.unmap(new ArrayBuffer(8)), ARG_TYPE],
    ['unmap(Buffer.alloc)', () => mmap.unmap(plain), ARG_VALUE],
    ['unmap(SharedArrayBuffer view)', () => mmap.unmap(new Uint8Array(new SharedArrayBuffer(P))), ARG_VALUE],
    // advise
    ['advise(Buffer.alloc, DONTNEED)', () => mmap.advise(plain, MADV_DONTNEED), ARG_VALUE],
    ['advise(unmapped, NORMAL)', () => mmap.advise(dead, MADV_NORMAL), ARG_VALUE],
    ['advise(DataView of unmapped, NORMAL)', () => mmap.advise(deadView, MADV_NORMAL), ARG_VALUE],
    ['advise({ length }, NORMAL)', () => mmap.advise({ length: 1 }, MADV_NORMAL), ARG_TYPE],
    ['advise(buf, 999)', () => mmap.advise(buf, 999), ARG_VALUE],
    ['advise(buf, "x")', () => mmap.advise(buf, 'x'), ARG_TYPE],
    ['advise(buf)', () => mmap.advise(buf), ARG_TYPE],
    ['advise(buf, -1, 10, NORMAL)', () => mmap.advise(buf, -1, 10, MADV_NORMAL), RANGE],
    ['advise(buf, 0, length + 1, NORMAL)', () => mmap.advise(buf, 0, buf.length + 1, MADV_NORMAL), RANGE],
    ['advise(buf, length + 1, 0, NORMAL)', () => mmap.advise(buf, buf.length + 1, 0, MADV_NORMAL), RANGE],
    ['advise(buf, NaN, 10, NORMAL)', () => mmap.advise(buf, NaN, 10, MADV_NORMAL), RANGE],
    ['advise(buf, 0, 10, undefined)', () => mmap.advise(buf, 0, 10, undefined), ARG_TYPE],
    ['advise(buf, 100, P, DONTNEED): unaligned start', () => mmap.advise(buf, 100, P, MADV_DONTNEED), RANGE],
    ['advise(buf, 0, 100, DONTNEED): partial page', () => mmap.advise(buf, 0, 100, MADV_DONTNEED), RANGE],
    ['advise(buf.subarray(1), DONTNEED)', () => mmap.advise(buf.subarray(1), MADV_DONTNEED), RANGE],
    // sync
    ['sync()', () => mmap.sync(), ARG_TYPE],
    ['sync(Buffer.alloc)', () => mmap.sync(plain), ARG_VALUE],
    ['sync(unmapped)', () => mmap.sync(dead), ARG_VALUE],
    ['sync(Uint8Array)', () => mmap.sync(new Uint8Array(16)), ARG_VALUE],
    ['sync(buf, "yes")', () => mmap.sync(buf, 'yes'), ARG_TYPE],
    ['sync(buf, -1)', () => mmap.sync(buf, -1), RANGE],
    ['sync(buf, 0, -1)', () => mmap.sync(buf, 0, -1), RANGE],
    ['sync(buf, 0, length + 1)', () => mmap.sync(buf, 0, buf.length + 1), RANGE],
    ['sync(buf, Infinity)', () => mmap.sync(buf, Infinity), RANGE],
    ['sync(buf, 2n ** 64n)', () => mmap.sync(buf, 2n ** 64n), RANGE],
    ['sync(buf.subarray(10, 20), 0, 11)', () => mmap.sync(buf.subarray(10, 20), 0, 11), RANGE],
    // incore
    ['incore()', () => mmap.incore(), ARG_TYPE],
    ['incore("abc")', () => mmap.incore('abc'), ARG_TYPE],
    ['incore(Buffer.alloc)', () => mmap.incore(plain), ARG_VALUE],
    ['incore(unmapped)', () => mmap.incore(dead), ARG_VALUE],
    ['incore(buf, -0.5)', () => mmap.incore(buf, -0.5), RANGE],
    ['incore(buf, 0, length + 1)', () => mmap.incore(buf, 0, buf.length + 1), RANGE],
    ['incore(buf, [])', () => mmap.incore(buf, []), ARG_TYPE],
    // residency, lock, unlock, protect, open, fadvise
    ['residency(Buffer.alloc)', () => mmap.residency(plain), ARG_VALUE],
    ['residency(buf, 0, length + 1)', () => mmap.residency(buf, 0, buf.length + 1), RANGE],
    ['lock(unmapped)', () => mmap.lock(dead), ARG_VALUE],
    ['unlock(buf, -1)', () => mmap.unlock(buf, -1), RANGE],
    ['protect(buf)', () => mmap.protect(buf), ARG_TYPE],
    ['protect(buf, 0x100)', () => mmap.protect(buf, 0x100), ARG_VALUE],
    ['protect(buf, READ, 1): unaligned', () => mmap.protect(buf, PROT_READ, 1), RANGE],
    ['open()', () => mmap.open(), ARG_TYPE],
    ['open(42)', () => mmap.open(42), ARG_TYPE],
    ['open(unmapped Buffer path)', () => mmap.open(dead), ARG_VALUE],
    ['open(path, "r")', () => mmap.open(__filename, 'r'), ARG_TYPE],
    ['open(path, { mode: "a" })', () => mmap.open(__filename, { mode: 'a' }), ARG_VALUE],
    ['open(path, { offset: -1 })', () => mmap.open(__filename, { offset: -1 }), RANGE],
    ['open(path, { length: past the end })', () => mmap.open(__filename, { length: 2 ** 40 }), RANGE],
    ['fadvise("3", …)', () => mmap.fadvise('3', 0, 0, 0), ARG_TYPE],
    ['fadvise(fd, -1, …)', () => mmap.fadvise(fd, -1, 0, 0), RANGE],
    ['fadvise(fd, 0, 0, 999)', () => mmap.fadvise(fd, 0, 0, 999), isWindows ? sys('ENOSYS', 'fadvise') : ARG_VALUE]
  ]

  it(`has at least 60 bad calls (${table.length})`, function () {
    assert.ok(table.length >= 60)
  })

  for (const [name, call, expected] of table) {
    it(`${name} throws ${expected.name} ${expected.code}`, function () {
      if (isWindows && name === 'map on a directory') skip(this, 'Windows opens no directory as a file')
      assert.throws(call, (err) => {
        assert.strictEqual(err.constructor.name, expected.name, err.stack)
        assert.strictEqual(err.code, expected.code, err.stack)
        if (expected.syscall) assert.strictEqual(err.syscall, expected.syscall)
        return true
      })
    })
  }

  it('leaves the live mapping usable after every bad call', function () {
    buf.write('still here', 0)
    mmap.sync(buf, true)
    assert.strictEqual(buf.toString('utf8', 0, 10), 'still here')
  })

  it('survives 20,000 random argument lists to every function (fast-check, in a child process)', function () {
    const r = runChild(fs.readFileSync(path.join(__dirname, 'fixtures', 'fuzz.js'), 'utf8'), {
      env: { FUZZ_RUNS: '20000', FUZZ_DIR: scratch, FUZZ_ROOT: path.join(__dirname, '..') },
      cwd: scratch
    })
    const out = assertChildOk(r)
    const summary = JSON.parse(out.trim().split('\n').pop())
    process.stdout.write(`      ${summary.calls} calls: ${summary.returned} returned, ${summary.threw} threw ${JSON.stringify(summary.codes)}\n`)
    assert.strictEqual(summary.calls, 20000)
    assert.ok(summary.returned > 100, 'some random calls are valid')
  })
})
