'use strict'
// Error shapes: argument errors as Node's own, system errors as fs errors.
const assert = require('assert')
const fs = require('fs')
const util = require('util')
const mmap = require('..')
const { tmpFile, openFd, closeFds, runChild, assertChildOk, failShim, scratch, isLinux, isWindows, skip, runtime } = require('./helpers')

const { PROT_READ, PROT_WRITE, MAP_SHARED, PAGESIZE } = mmap
const RW = PROT_READ | PROT_WRITE

function assertSystemError (fn, code, syscall) {
  assert.throws(fn, (err) => {
    assert.strictEqual(err.constructor, Error)
    assert.strictEqual(err.code, code)
    assert.strictEqual(err.syscall, syscall)
    assert.strictEqual(typeof err.errno, 'number')
    assert.strictEqual(util.getSystemErrorName(err.errno), code)
    const [name, description] = util.getSystemErrorMap().get(err.errno)
    assert.strictEqual(name, code)
    assert.strictEqual(err.message, `${code}: ${description}, ${syscall}`)
    return true
  })
}

describe('system error names', function () {
  it('the addon names every system error as Node does, with Node\'s number and text, and imports nothing from libuv', function () {
    const binding = require('../lib/binding')
    const node = util.getSystemErrorMap()
    let compared = 0
    let unknownHere = 0
    for (const [errno, code, message] of binding.systemErrors) {
      // Older libuvs (Node 18: ENODATA, ...) and Deno's map lack some of
      // the newest Node's: compare what this runtime has.
      if (!node.has(errno)) { unknownHere++; continue }
      assert.deepStrictEqual(node.get(errno), [code, message], `${code} (${errno})`)
      compared++
    }
    process.stdout.write(`      ${compared} system errors named as ${runtime} names them${unknownHere ? ` (${unknownHere} it does not know)` : ''}\n`)
    assert.ok(compared >= (isWindows ? 60 : 45))
    if (isLinux) {
      const file = binding.file
      const undefinedSymbols = require('child_process').execFileSync('nm', ['-D', '--undefined-only', file], { encoding: 'utf8' })
      assert.deepStrictEqual(undefinedSymbols.match(/\buv_\w+/g), null)
      assert.ok(/\bnapi_create_external_buffer\b/.test(undefinedSymbols))
    }
  })
})

describe('argument errors', function () {
  afterEach(closeFds)

  it('wrong types are TypeError ERR_INVALID_ARG_TYPE with Node\'s message', function () {
    const fd = openFd(tmpFile(PAGESIZE))
    assert.throws(() => mmap.map('foo', PROT_READ, MAP_SHARED, fd), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'The "size" argument must be one of type number or bigint. Received type string (\'foo\')'
    })
    assert.throws(() => mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, null), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'The "fd" argument must be of type number. Received null'
    })
    assert.throws(() => mmap.sync({ length: 10 }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'The "buffer" argument must be an instance of Buffer, TypedArray, or DataView. ' +
        'Received an instance of Object'
    })
  })

  it('values out of range are RangeError ERR_OUT_OF_RANGE with Node\'s message', function () {
    const fd = openFd(tmpFile(PAGESIZE))
    const cases = [
      [() => mmap.map(-1, PROT_READ, MAP_SHARED, fd), 'The value of "size" is out of range. It must be >= 1 && <= ' + require('buffer').constants.MAX_LENGTH + '. Received -1'],
      [() => mmap.map(0, PROT_READ, MAP_SHARED, fd), /"size" is out of range.*Received 0$/],
      [() => mmap.map(0.5, PROT_READ, MAP_SHARED, fd), /"size" is out of range.*Received 0$/], // truncated, as 1.x did
      [() => mmap.open(tmpFile(PAGESIZE), { length: 1.5 }), /out of range\. It must be an integer\. Received 1\.5$/], // open() is strict
      [() => mmap.map(NaN, PROT_READ, MAP_SHARED, fd), 'The value of "size" is out of range. It must be an integer. Received NaN'],
      [() => mmap.map(Infinity, PROT_READ, MAP_SHARED, fd), 'The value of "size" is out of range. It must be an integer. Received Infinity'],
      [() => mmap.map(2 ** 60, PROT_READ, MAP_SHARED, fd), /"size" is out of range.*Received 1_152_921_504_606_847_000$/],
      [() => mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd, 2 ** 53), /"offset" is out of range. It must be >= 0 && <= 9007199254740991/],
      [() => mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd, 100), `The value of "offset" is out of range. It must be a multiple of ${mmap.ALLOCATIONGRANULARITY}. Received 100`],
      [() => mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd, -4096n), 'The value of "offset" is out of range. It must be >= 0 && <= 9007199254740991. Received -4096n']
    ]
    for (const [fn, message] of cases) {
      assert.throws(fn, { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message })
    }
  })

  it('an option name that is not one (a typo) is an ERR_INVALID_ARG_VALUE naming it, in open(), remap(), map(), shm and promises', async function () {
    const file = tmpFile(2 * PAGESIZE)
    const typo = (key, near) => ({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: new RegExp(`^The property 'options\\.${key}' is not an option${near ? ` \\(did you mean '${near}'\\?\\)` : ''}; the options are: `)
    })
    assert.throws(() => mmap.open(file, { lenght: 10 }), typo('lenght', 'length'))
    assert.throws(() => mmap.open(file, { Mode: 'r+' }), typo('Mode', 'mode'))
    assert.throws(() => mmap.open(file, { lentgh: 10 }), typo('lentgh', 'length'))
    assert.throws(() => mmap.open(file, { zzz: 1 }), typo('zzz'))
    const buf = mmap.open(file)
    assert.throws(() => mmap.remap(buf, PAGESIZE, { gorw: true }), typo('gorw', 'grow'))
    assert.strictEqual(buf.length, 2 * PAGESIZE) // nothing happened
    await assert.rejects(mmap.promises.sync(buf, { invalid: true }), typo('invalid'))
    const fd = openFd(file)
    assert.throws(() => mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd, 0, 0, { onfault: 'zero' }), typo('onfault', 'onFault'))
    if (mmap.features.shm) {
      assert.throws(() => mmap.shm.create(`typo-${process.pid}`, PAGESIZE, { exclusve: false }), typo('exclusve', 'exclusive'))
      assert.throws(() => mmap.shm.open(`typo-${process.pid}`, { readonly: true }), typo('readonly', 'readOnly'))
    }
    // Known options, and inherited or symbol keys, are taken as before.
    mmap.unmap(mmap.open(file, Object.assign(Object.create({ junk: 1 }), { mode: 'r', [Symbol('x')]: 1 })))
    mmap.unmap(buf)
  })

  it('the plain call map(size, protection, flags, fd), checked in one step, takes and refuses exactly what the general checks do', function () {
    // map() with an empty options object always takes the general path.
    const fd = openFd(tmpFile(PAGESIZE))
    const outcome = (fn) => {
      try {
        const b = fn()
        const r = `ok ${b.length}`
        mmap.unmap(b)
        return r
      } catch (err) {
        return `${err.name} ${err.code} ${err.message}`
      }
    }
    const calls = { valueOf: 0 }
    const counted = { valueOf () { calls.valueOf++; return PROT_READ } }
    const values = {
      size: [PAGESIZE, 1, 1.5, 0, -0, -1, 2 ** 32, require('buffer').constants.MAX_LENGTH + 1, '4096', 4096n, NaN, null, true],
      protection: [PROT_READ, RW, 0, -0, -1, 8, 1.5, 2 ** 31, '1', null, counted],
      flags: [MAP_SHARED, mmap.MAP_PRIVATE, MAP_SHARED | mmap.MAP_PRIVATE, 0, -1, 1.5, 2 ** 31, MAP_SHARED | (mmap.MAP_ANONYMOUS ?? 0), '1', null],
      fd: [fd, -1, 1.5, 2 ** 31, -0, '3', null, counted]
    }
    const base = [PAGESIZE, PROT_READ, MAP_SHARED, fd]
    let compared = 0
    for (const [i, name] of ['size', 'protection', 'flags', 'fd'].entries()) {
      for (const value of values[name]) {
        const args = base.slice()
        args[i] = value
        for (const tail of [[], [0], [0, 0], [undefined, undefined]]) {
          const before = calls.valueOf
          const plain = outcome(() => mmap.map(...args, ...tail))
          const plainCalls = calls.valueOf - before
          const general = outcome(() => mmap.map(...args, 0, 0, {}))
          assert.strictEqual(plain, general, `${name} = ${String(value)}, then ${tail.length} more`)
          assert.strictEqual(plainCalls, calls.valueOf - before - plainCalls, 'valueOf called as often both ways')
          compared++
        }
      }
    }
    assert.strictEqual(compared, 4 * (13 + 11 + 10 + 8))
  })

  it('checks arguments before any system call', function () {
    const fd = fs.openSync(tmpFile(PAGESIZE), 'r')
    fs.closeSync(fd)
    // A closed fd would give EBADF from mmap; each bad argument wins.
    assert.throws(() => mmap.map(0, PROT_READ, MAP_SHARED, fd), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd, 1), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => mmap.map(PAGESIZE, 99, MAP_SHARED, fd), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => mmap.map(PAGESIZE, PROT_READ, 0, fd), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd, 0, 12345), { code: 'ERR_INVALID_ARG_VALUE' })
  })
})

describe('system errors', function () {
  afterEach(closeFds)

  it('PROT_WRITE with MAP_SHARED on a read-only fd gives EACCES from mmap', function () {
    const fd = openFd(tmpFile(PAGESIZE), 'r')
    assertSystemError(() => mmap.map(PAGESIZE, RW, MAP_SHARED, fd), 'EACCES', 'mmap')
    assert.throws(() => mmap.map(PAGESIZE, RW, MAP_SHARED, fd),
      { message: 'EACCES: permission denied, mmap' })
  })

  it('a closed fd gives EBADF from mmap', function () {
    const fd = fs.openSync(tmpFile(PAGESIZE), 'r')
    fs.closeSync(fd)
    assertSystemError(() => mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd), 'EBADF', 'mmap')
  })

  it('a directory gives ENODEV from mmap', function () {
    if (isWindows) skip(this, 'Windows opens no directory as a file')
    const fd = openFd(scratch, 'r')
    assertSystemError(() => mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd), 'ENODEV', 'mmap')
  })

  it('failing madvise, msync and mincore throw fs-style errors', function () {
    if (!isLinux) skip(this, 'made to fail by an LD_PRELOAD shim')
    const file = tmpFile(PAGESIZE)
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs'), util = require('util')
      const fd = fs.openSync(${JSON.stringify(file)}, 'r+')
      const buf = mmap.map(${PAGESIZE}, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd)
      const seen = []
      for (const fn of [() => mmap.advise(buf, mmap.MADV_WILLNEED), () => mmap.sync(buf, true), () => mmap.incore(buf)]) {
        try { fn(); seen.push('no error') } catch (e) {
          seen.push([e.code, e.errno, util.getSystemErrorName(e.errno), e.syscall, e.message])
        }
      }
      console.log(JSON.stringify(seen))
    `, { env: { LD_PRELOAD: failShim(), MMAP_IO_FAIL: 'madvise,msync,mincore' } }))
    assert.deepStrictEqual(JSON.parse(out), [
      ['EIO', -5, 'EIO', 'madvise', 'EIO: i/o error, madvise'],
      ['EIO', -5, 'EIO', 'msync', 'EIO: i/o error, msync'],
      ['EIO', -5, 'EIO', 'mincore', 'EIO: i/o error, mincore']
    ])
  })

  it('unmaps the fresh mapping when the advice given to map() fails', function () {
    if (!isLinux) skip(this, 'an LD_PRELOAD shim, and /proc/self/maps')
    const file = tmpFile(PAGESIZE)
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs')
      const fd = fs.openSync(${JSON.stringify(file)}, 'r')
      const count = () => fs.readFileSync('/proc/self/maps', 'utf8').split(${JSON.stringify(file)}).length - 1
      let code
      for (let i = 0; i < 100; i++) {
        try { mmap.map(${PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0, mmap.MADV_RANDOM) } catch (e) { code = e.code + ' ' + e.syscall }
      }
      console.log(code, count())
    `, { env: { LD_PRELOAD: failShim(), MMAP_IO_FAIL: 'madvise', MMAP_IO_FAIL_ERRNO: '22' } }))
    assert.strictEqual(out.trim(), 'EINVAL madvise 0')
  })
})
