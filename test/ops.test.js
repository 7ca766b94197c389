'use strict'
// sync, advise, incore and the constants.
const assert = require('assert')
const fs = require('fs')
const mmap = require('..')
const { tmpFile, openFd, closeFds, skip, root, runChild, assertChildOk, failShim, isLinux } = require('./helpers')

const { PROT_READ, PROT_WRITE, MAP_SHARED, PAGESIZE } = mmap
const RW = PROT_READ | PROT_WRITE

function mapped (size = 4 * PAGESIZE) {
  const file = tmpFile(Buffer.alloc(size))
  const fd = openFd(file)
  return { file, buf: mmap.map(size, RW, MAP_SHARED, fd) }
}

describe('sync()', function () {
  afterEach(closeFds)

  const forms = [
    ['sync(buf)', (b) => mmap.sync(b)],
    ['sync(buf, true)', (b) => mmap.sync(b, true)],
    ['sync(buf, false)', (b) => mmap.sync(b, false)],
    ['sync(buf, true, true)', (b) => mmap.sync(b, true, true)],
    ['sync(buf, false, true)', (b) => mmap.sync(b, false, true)],
    ['sync(buf, 0)', (b) => mmap.sync(b, 0)],
    ['sync(buf, 0, length)', (b) => mmap.sync(b, 0, b.length)],
    ['sync(buf, offset, length, true)', (b) => mmap.sync(b, PAGESIZE, b.length - PAGESIZE, true)],
    ['sync(buf, offset, length, true, true)', (b) => mmap.sync(b, 0, b.length, true, true)],
    ['sync(buf, BigInt offset)', (b) => mmap.sync(b, 0n, BigInt(b.length), true)]
  ]
  for (const [name, call] of forms) {
    it(`${name} succeeds and the bytes reach the file`, function () {
      const { file, buf } = mapped()
      buf.write('durable', PAGESIZE + 5)
      buf.write('first page', 0)
      assert.strictEqual(call(buf), undefined)
      const disk = fs.readFileSync(file)
      assert.strictEqual(disk.toString('utf8', PAGESIZE + 5, PAGESIZE + 12), 'durable')
    })
  }

  it('defaults the length to the rest of the buffer from offset', function () {
    const { buf } = mapped(2 * PAGESIZE)
    // 1.x synced buf.length bytes from offset, past the end of the mapping.
    assert.doesNotThrow(() => mmap.sync(buf, PAGESIZE, undefined, true))
  })

  it('takes length 0 as the rest of the buffer, as 1.x did (msync is called)', function () {
    // With msync failing, a call that reaches it throws; one with nothing
    // left to sync does not.
    if (!isLinux) skip(this, 'msync is made to fail with an LD_PRELOAD shim')
    const file = tmpFile(Buffer.alloc(PAGESIZE, 1))
    const r = runChild(`
      const mmap = require(${JSON.stringify(root)}), fs = require('fs')
      const buf = mmap.map(${PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fs.openSync(${JSON.stringify(file)}, 'r'))
      const codes = [[0, 0], [${PAGESIZE}, 0]].map(([o, l]) => { try { mmap.sync(buf, o, l, true); return 'ok' } catch (e) { return e.code } })
      console.log(codes.join(' '))
    `, { env: { LD_PRELOAD: failShim(), MMAP_IO_FAIL: 'msync' } })
    assert.strictEqual(assertChildOk(r).trim(), 'EIO ok')
  })

  it('syncs a view that starts in the middle of a page', function () {
    const { file, buf } = mapped(2 * PAGESIZE)
    const view = buf.subarray(PAGESIZE + 100, PAGESIZE + 200)
    view.write('mid-page')
    mmap.sync(view, true)
    assert.strictEqual(fs.readFileSync(file).toString('utf8', PAGESIZE + 100, PAGESIZE + 108), 'mid-page')
  })
})

describe('advise()', function () {
  afterEach(closeFds)

  it('takes (buf, advice) and (buf, offset, length, advice)', function () {
    const { buf } = mapped()
    for (const advice of [mmap.MADV_NORMAL, mmap.MADV_RANDOM, mmap.MADV_SEQUENTIAL, mmap.MADV_WILLNEED]) {
      assert.strictEqual(mmap.advise(buf, advice), undefined)
      assert.strictEqual(mmap.advise(buf, PAGESIZE, PAGESIZE, advice), undefined)
      assert.strictEqual(mmap.advise(buf.subarray(10, 20), advice), undefined)
    }
  })

  it('MADV_DONTNEED on a shared file mapping keeps the data (it is reread from the file)', function () {
    const { buf } = mapped()
    buf.write('kept', PAGESIZE)
    mmap.sync(buf, true)
    mmap.advise(buf, PAGESIZE, PAGESIZE, mmap.MADV_DONTNEED)
    assert.strictEqual(buf.toString('utf8', PAGESIZE, PAGESIZE + 4), 'kept')
  })
})

describe('incore()', function () {
  afterEach(closeFds)

  it('returns [unmappedPages, mappedPages] summing to ceil(length / PAGESIZE)', function () {
    const file = tmpFile(3 * PAGESIZE + 10)
    const fd = openFd(file)
    const buf = mmap.map(3 * PAGESIZE + 10, PROT_READ, MAP_SHARED, fd)
    // Read a byte of each page: resident on every platform (Linux counts the
    // page cache, Windows this process's working set).
    for (let i = 0; i < buf.length; i += PAGESIZE) assert.strictEqual(buf[i], i % 251)
    const [unmapped, resident] = mmap.incore(buf)
    assert.strictEqual(unmapped + resident, 4)
    assert.strictEqual(resident, 4)
  })

  it('counts pages touched by a range and by a mid-page view', function () {
    const { buf } = mapped(4 * PAGESIZE)
    assert.deepStrictEqual(mmap.incore(buf, PAGESIZE, 2 * PAGESIZE).reduce((a, b) => a + b), 2)
    assert.deepStrictEqual(mmap.incore(buf, 0, 0), [0, 0])
    // 100 bytes from the end of page 0 to 100 bytes into page 1: two pages.
    const sum = mmap.incore(buf.subarray(PAGESIZE - 100, PAGESIZE + 100)).reduce((a, b) => a + b)
    assert.strictEqual(sum, 2)
  })
})

describe('constants', function () {
  const names = [
    'PROT_READ', 'PROT_WRITE', 'PROT_EXEC', 'PROT_NONE', 'MAP_SHARED', 'MAP_PRIVATE',
    'MADV_NORMAL', 'MADV_RANDOM', 'MADV_SEQUENTIAL', 'MADV_WILLNEED', 'MADV_DONTNEED', 'PAGESIZE'
  ]

  it('has the values of the C headers', function () {
    // Linux x86-64 and arm64 values, from <sys/mman.h>.
    if (process.platform !== 'linux') skip(this, 'Linux header values')
    assert.deepStrictEqual(
      names.map((n) => mmap[n]),
      [1, 2, 4, 0, 1, 2, 0, 1, 2, 3, 4, PAGESIZE])
    assert.strictEqual(mmap.MAP_POPULATE, 0x8000)
    assert.strictEqual(mmap.MAP_NONBLOCK, 0x10000)
  })

  it('PAGESIZE is the system page size', function () {
    const smaps = fs.readFileSync('/proc/self/smaps', 'utf8')
    const kb = Number(/KernelPageSize:\s+(\d+) kB/.exec(smaps)[1])
    assert.strictEqual(mmap.PAGESIZE, kb * 1024)
  })

  it('cannot be changed or deleted', function () {
    for (const name of names) {
      const value = mmap[name]
      assert.throws(() => { 'use strict'; mmap[name] = 12345 }, TypeError)
      assert.throws(() => { 'use strict'; delete mmap[name] }, TypeError)
      assert.strictEqual(mmap[name], value)
      const d = Object.getOwnPropertyDescriptor(mmap, name)
      assert.strictEqual(d.writable, false)
      assert.strictEqual(d.configurable, false)
      assert.strictEqual(d.enumerable, true)
    }
  })
})
