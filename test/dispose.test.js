'use strict'
// Explicit resource management: `using` and `await using` with the Buffers
// that map(), open(), remap() and shm hand out.
const assert = require('assert')
const fs = require('fs')
const path = require('path')
const mmap = require('..')
const {
  isLinux, runtime, root, tmpFile, skip, runChild, runScript, assertChildOk, failShim
} = require('./helpers')

const P = mmap.PAGESIZE
const { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } = mmap
const hasSymbols = typeof Symbol.dispose === 'symbol' && typeof Symbol.asyncDispose === 'symbol'
// Whether this runtime's parser knows `using` (Node 24+).
const parsesUsing = (() => {
  try {
    // eslint-disable-next-line no-new-func, no-new
    new Function('{ using x = null }')
    return true
  } catch {
    return false
  }
})()

describe('using and await using', function () {
  before(function () {
    if (!hasSymbols) skip(this, `Symbol.dispose needs Node 18.18+ (this is ${process.version})`)
  })

  // Every kind of Buffer handed out, made fresh for each check.
  const kinds = {
    'map()': () => mmap.map(P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1),
    'open()': () => mmap.open(tmpFile(2 * P), { mode: 'r+' }),
    'open() of an empty file': () => mmap.open(tmpFile(0)),
    'open() at an offset inside a page': () => mmap.open(tmpFile(2 * P), { offset: 100 }),
    'remap() of a mapping open() made at an offset inside a page': () => mmap.remap(mmap.open(tmpFile(2 * P), { offset: 100 }), 10),
    'remap()': () => mmap.remap(mmap.open(tmpFile(2 * P)), P),
    'shm.create()': () => {
      const name = `mmap-io-dispose-${process.pid}-${Math.random().toString(36).slice(2)}`
      const mem = mmap.shm.create(name, P)
      mmap.shm.remove(name)
      return mem
    }
  }
  if (mmap.features.sharedArrayBuffer) {
    kinds['open() with sharedArrayBuffer'] = () => mmap.open(tmpFile(P), { sharedArrayBuffer: true })
  }

  for (const [kind, make] of Object.entries(kinds)) {
    it(`a Buffer from ${kind} is a Buffer that Symbol.dispose unmaps, once`, function () {
      const buf = make()
      assert.ok(Buffer.isBuffer(buf))
      assert.ok(buf instanceof Buffer)
      assert.strictEqual(buf.constructor, Buffer)
      assert.strictEqual(typeof buf[Symbol.dispose], 'function')
      assert.strictEqual(typeof buf[Symbol.asyncDispose], 'function')
      // Own properties, not enumerable: the prototype is Buffer.prototype,
      // and the Buffer compares equal to a copy, as in 1.x.
      assert.strictEqual(Object.getPrototypeOf(buf), Buffer.prototype)
      assert.deepStrictEqual(Object.getOwnPropertySymbols(buf), [Symbol.dispose, Symbol.asyncDispose])
      assert.ok(!Object.prototype.propertyIsEnumerable.call(buf, Symbol.dispose))
      assert.ok(!Object.prototype.propertyIsEnumerable.call(buf, Symbol.asyncDispose))
      assert.deepStrictEqual(buf, Buffer.from(buf))
      assert.deepStrictEqual({ ...buf }, { ...Buffer.from(buf) })
      // Its subarrays and slices are plain Buffers, which `using` refuses:
      // disposing of a part never unmaps the whole.
      for (const part of [buf.subarray(0, 1), buf.slice(0, 1)]) {
        assert.strictEqual(Object.getPrototypeOf(part), Buffer.prototype)
        assert.strictEqual(part[Symbol.dispose], undefined)
      }
      const empty = buf.length === 0
      // A SharedArrayBuffer cannot be detached: its mapping is released all
      // the same (README, Sharing a mapping with worker threads).
      const length = buf.buffer instanceof SharedArrayBuffer ? buf.length : 0
      buf[Symbol.dispose]()
      assert.strictEqual(buf.length, length)
      if (!empty) assert.throws(() => mmap.sync(buf), { code: 'ERR_INVALID_ARG_VALUE', message: /memory was unmapped by unmap\(\)/ })
      buf[Symbol.dispose]() // already unmapped: nothing happens
      assert.strictEqual(buf.length, length)
    })
  }

  it('Symbol.asyncDispose waits for a durable flush, then unmaps; an unmapped Buffer is left alone', async function () {
    const file = tmpFile(P)
    const buf = mmap.open(file, { mode: 'r+' })
    buf.write('flushed')
    const disposed = buf[Symbol.asyncDispose]()
    assert.ok(disposed instanceof Promise)
    await disposed
    assert.strictEqual(buf.length, 0)
    assert.strictEqual(fs.readFileSync(file, 'latin1').slice(0, 7), 'flushed')
    await buf[Symbol.asyncDispose]()
    assert.strictEqual(buf.length, 0)
  })

  it('Symbol.asyncDispose unmaps even when the flush fails, and rejects with the flush\'s error', function () {
    if (!isLinux) skip(this, 'made to fail by an LD_PRELOAD shim')
    const file = tmpFile(P)
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io')
      const buf = mmap.open(${JSON.stringify(file)}, { mode: 'r+' })
      buf[0] = 1
      buf[Symbol.asyncDispose]().then(() => console.log('resolved'), (err) => {
        console.log(JSON.stringify({ code: err.code, syscall: err.syscall, length: buf.length }))
      })
    `, { env: { LD_PRELOAD: failShim(), MMAP_IO_FAIL: 'msync' } }))
    assert.deepStrictEqual(JSON.parse(out), { code: 'EIO', syscall: 'msync', length: 0 })
  })

  it('Symbol.asyncDispose of a SharedArrayBuffer mapping already unmapped does nothing (it keeps its length)', async function () {
    if (!mmap.features.sharedArrayBuffer) skip(this, 'needs SharedArrayBuffer mappings (Node 22.23+, 24.21+, 26, Bun)')
    const buf = mmap.open(tmpFile(P), { sharedArrayBuffer: true })
    mmap.unmap(buf)
    assert.strictEqual(buf.length, P)
    await buf[Symbol.asyncDispose]()
    buf[Symbol.dispose]()
  })

  it('the addon takes the two methods only as (symbol, function) pairs, all or none', function () {
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), binding = require(${JSON.stringify(path.join(root, 'lib', 'binding'))})
      const seen = []
      for (const args of [[false, Symbol.dispose, () => {}, 1, 2], [false, '0', () => {}, Symbol.asyncDispose, () => {}], [false, Symbol.dispose, 'x', Symbol.asyncDispose, () => {}]]) {
        try { binding.setup(...args); seen.push('accepted') } catch (err) { seen.push(err.code) }
      }
      // Refused calls changed nothing: Buffers still get the two methods.
      const buf = mmap.map(${P}, mmap.PROT_READ, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1)
      seen.push(Object.getOwnPropertySymbols(buf).length, typeof buf[Symbol.dispose])
      console.log(JSON.stringify(seen))
    `))
    assert.deepStrictEqual(JSON.parse(out), ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE', 2, 'function'])
  })

  it('every mapped Buffer has the same shape (one hidden class: no per-Buffer properties)', function () {
    if (runtime !== 'node') skip(this, 'V8 natives syntax (%HaveSameMap) is a Node flag')
    const file = tmpFile(2 * P)
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io')
      const a = mmap.map(${P}, mmap.PROT_READ, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1)
      const b = mmap.open(${JSON.stringify(file)})
      const c = mmap.remap(mmap.open(${JSON.stringify(file)}), ${P})
      console.log(JSON.stringify([%HaveSameMap(a, b), %HaveSameMap(a, c)]))
    `, { args: ['--allow-natives-syntax'] }))
    assert.deepStrictEqual(JSON.parse(out), [true, true])
  })

  describe('the using statement (Node 24+)', function () {
    before(function () {
      if (!parsesUsing) skip(this, `this runtime's parser has no \`using\` (${runtime} ${process.version})`)
    })
    const fixture = path.join(__dirname, 'fixtures', 'using.mjs')

    it('using unmaps at the end of the block, left normally or by a throw; await using flushes, then unmaps', function () {
      const file = tmpFile(2 * P)
      const out = JSON.parse(assertChildOk(runScript(fixture, [root, file])))
      assert.deepStrictEqual(out, {
        inside: 2 * P,
        after: 0,
        thrown: 'left by a throw',
        afterThrow: 0,
        unmappedInside: 0,
        remapped: [0, P],
        afterRemap: 0,
        afterShm: 0,
        afterAwait: 0,
        subarray: 'TypeError',
        wholeAfterSubarray: 2 * P
      })
      // What the blocks wrote reached the file.
      assert.deepStrictEqual([...fs.readFileSync(file).subarray(0, 2)], [7, 9])
    })

    it('await using whose flush fails: the error leaves the block, and the Buffer is unmapped', function () {
      if (!isLinux) skip(this, 'made to fail by an LD_PRELOAD shim')
      const out = JSON.parse(assertChildOk(runScript(fixture, [root, tmpFile(2 * P)],
        { env: { LD_PRELOAD: failShim(), MMAP_IO_FAIL: 'msync' } })))
      assert.deepStrictEqual(out.flushError, { code: 'EIO', syscall: 'msync' })
      assert.strictEqual(out.afterAwait, 0)
      assert.strictEqual(out.after, 0)
    })
  })
})
