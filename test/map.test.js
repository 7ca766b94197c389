'use strict'
const assert = require('assert')
const fs = require('fs')
const path = require('path')
const { Worker } = require('worker_threads')
const { constants: { MAX_LENGTH } } = require('buffer')
const mmap = require('..')
const { tmpFile, openFd, closeFds, runChild, assertChildOk, scratch, isWindows, skip } = require('./helpers')

const { PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, PAGESIZE } = mmap
// map() offsets are multiples of this: PAGESIZE on POSIX, 64 KiB on Windows.
const G = mmap.ALLOCATIONGRANULARITY
const RW = PROT_READ | PROT_WRITE

describe('map()', function () {
  afterEach(closeFds)

  it('maps with 4, 5 and 6 arguments and returns a real Buffer over the file', function () {
    const file = tmpFile(3 * G)
    const fd = openFd(file)
    const expected = fs.readFileSync(file)
    const four = mmap.map(3 * G, PROT_READ, MAP_SHARED, fd)
    const five = mmap.map(G, PROT_READ, MAP_SHARED, fd, G)
    const six = mmap.map(G, PROT_READ, MAP_SHARED, fd, 2 * G, mmap.MADV_SEQUENTIAL)
    assert.ok(Buffer.isBuffer(four))
    assert.ok(four instanceof Uint8Array)
    assert.strictEqual(four.length, 3 * G)
    assert.deepStrictEqual(four, expected)
    assert.deepStrictEqual(five, expected.subarray(G, 2 * G))
    assert.deepStrictEqual(six, expected.subarray(2 * G))
  })

  it('accepts explicit undefined for the optional offset and advice', function () {
    const fd = openFd(tmpFile(PAGESIZE))
    const buf = mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd, undefined, undefined)
    assert.strictEqual(buf[1], 1)
  })

  it('accepts BigInt sizes and offsets', function () {
    const file = tmpFile(2 * G)
    const fd = openFd(file)
    const buf = mmap.map(BigInt(G), PROT_READ, MAP_SHARED, fd, BigInt(G))
    assert.strictEqual(buf.length, G)
    assert.deepStrictEqual(buf, fs.readFileSync(file).subarray(G))
  })

  it('is backed by the mapping itself: the Buffer works with fs and TypedArray views', function () {
    const file = tmpFile(PAGESIZE)
    const fd = openFd(file)
    const buf = mmap.map(PAGESIZE, RW, MAP_SHARED, fd)
    const floats = new Float32Array(buf.buffer, buf.byteOffset, 4)
    floats[0] = 1.5
    assert.strictEqual(buf.readFloatLE(0), 1.5)
    // The ArrayBuffer is exactly the mapping: no copy, no pool.
    assert.strictEqual(buf.buffer.byteLength, PAGESIZE)
    assert.strictEqual(buf.byteOffset, 0)
    const out = path.join(scratch, 'copy-out')
    const outFd = fs.openSync(out, 'w')
    assert.strictEqual(fs.writeSync(outFd, buf), PAGESIZE)
    fs.closeSync(outFd)
    assert.deepStrictEqual(fs.readFileSync(out), buf)
  })

  it('shares writes between two MAP_SHARED mappings and with the file', function () {
    const file = tmpFile(PAGESIZE)
    const fd = openFd(file)
    const a = mmap.map(PAGESIZE, RW, MAP_SHARED, fd)
    const b = mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd)
    a.write('shared bytes', 100)
    assert.strictEqual(b.toString('utf8', 100, 112), 'shared bytes')
    assert.strictEqual(fs.readFileSync(file).toString('utf8', 100, 112), 'shared bytes')
  })

  it('shares writes with a child process', function () {
    const file = tmpFile(PAGESIZE)
    const fd = openFd(file)
    const buf = mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd)
    assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs')
      const fd = fs.openSync(${JSON.stringify(file)}, 'r+')
      const b = mmap.map(${PAGESIZE}, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd)
      b.write('from the child', 10)
    `))
    assert.strictEqual(buf.toString('utf8', 10, 24), 'from the child')
  })

  it('shows a parent\'s writes to a child process', function () {
    const file = tmpFile(PAGESIZE)
    const buf = mmap.map(PAGESIZE, RW, MAP_SHARED, openFd(file))
    buf.write('from the parent', 20)
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs')
      const b = mmap.map(${PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fs.openSync(${JSON.stringify(file)}, 'r'))
      process.stdout.write(b.toString('utf8', 20, 35))
    `))
    assert.strictEqual(out, 'from the parent')
  })

  it('keeps MAP_PRIVATE writes away from the file and other mappings', function () {
    const file = tmpFile(PAGESIZE)
    const before = fs.readFileSync(file)
    const fd = openFd(file)
    const priv = mmap.map(PAGESIZE, RW, MAP_PRIVATE, fd)
    const shared = mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd)
    priv.fill(0xee)
    mmap.sync(priv, true)
    assert.strictEqual(priv[0], 0xee)
    assert.deepStrictEqual(shared, before)
    assert.deepStrictEqual(fs.readFileSync(file), before)
  })

  it('reads zeros past the end of the file within the last page', function () {
    if (isWindows) skip(this, 'Windows maps no further than the end of the file')
    const fd = openFd(tmpFile('abc'))
    const buf = mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd)
    assert.strictEqual(buf.toString('utf8', 0, 3), 'abc')
    assert.ok(buf.subarray(3).every((b) => b === 0))
  })

  it('survives closing the fd and unlinking the file', function () {
    const file = tmpFile(PAGESIZE)
    const expected = fs.readFileSync(file)
    const fd = fs.openSync(file, 'r')
    const buf = mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd)
    fs.closeSync(fd)
    if (isWindows) {
      // Windows keeps a mapped file from being deleted until it is unmapped.
      assert.throws(() => fs.unlinkSync(file), { code: /^(EPERM|EBUSY|EACCES)$/ })
      assert.deepStrictEqual(buf, expected)
      mmap.unmap(buf)
      fs.unlinkSync(file)
      return
    }
    fs.unlinkSync(file)
    assert.deepStrictEqual(buf, expected)
  })

  it('maps the right bytes at offsets past 2 GiB and 4 GiB (sparse file)', function () {
    const file = path.join(scratch, 'sparse-5g')
    const fd = openFd(file, 'w+')
    const at = 5 * 2 ** 30 + G // + 4096 on Linux
    fs.writeSync(fd, Buffer.from('marker at 5 GiB + 4096'), 0, 22, at)
    fs.writeSync(fd, Buffer.from('marker at 2 GiB'), 0, 15, 2 ** 31)
    fs.ftruncateSync(fd, at + G) // Windows maps nothing past the end of a file
    const five = mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd, at)
    assert.strictEqual(five.toString('utf8', 0, 22), 'marker at 5 GiB + 4096')
    const big = mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd, BigInt(at))
    assert.strictEqual(big.toString('utf8', 0, 22), 'marker at 5 GiB + 4096')
    const two = mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd, 2 ** 31)
    assert.strictEqual(two.toString('utf8', 0, 15), 'marker at 2 GiB')
    mmap.unmap(five)
    mmap.unmap(big)
    mmap.unmap(two)
  })

  it('refuses a size above buffer.constants.MAX_LENGTH before calling mmap', function () {
    const fd = openFd(tmpFile(PAGESIZE))
    fs.closeSync(fd) // mmap would say EBADF: the RangeError must come first
    assert.throws(() => mmap.map(MAX_LENGTH + 1, PROT_READ, MAP_SHARED, fd), {
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message: `The value of "size" is out of range. It must be >= 1 && <= ${MAX_LENGTH}. ` +
        `Received ${(MAX_LENGTH + 1).toString().replace(/\B(?=(\d{3})+$)/g, '_')}`
    })
  })

  it('loads and maps inside a worker thread', async function () {
    const file = tmpFile(PAGESIZE)
    const worker = new Worker(`
      const { parentPort, workerData } = require('worker_threads')
      const mmap = require(workerData.root), fs = require('fs')
      const fd = fs.openSync(workerData.file, 'r+')
      const b = mmap.map(mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd)
      b.write('worker', 0)
      mmap.sync(b, true)
      parentPort.postMessage(b[1])
      mmap.unmap(b)
    `, { eval: true, workerData: { root: path.join(__dirname, '..'), file } })
    const [message] = await Promise.all([
      new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject) }),
      new Promise((resolve) => worker.once('exit', resolve))
    ])
    assert.strictEqual(message, 'o'.charCodeAt(0))
    assert.strictEqual(fs.readFileSync(file, 'utf8').slice(0, 6), 'worker')
  })
})
