'use strict'
// "Coming from 1.x" (README): one test per row of the table, titled with the
// row's call form, and a test that the table and this file name the same rows.
const assert = require('assert')
const fs = require('fs')
const path = require('path')
const { spawnSync } = require('child_process')
const mmap = require('..')
const { root, tmpFile, openFd, closeFds, isLinux, emulated, qemuGaps, evalArgs, skip } = require('./helpers')

const P = mmap.PAGESIZE
const { PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE } = mmap

// The table's rows: the first cell of each, with `\|` read as `|`.
function readmeRows () {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Coming from 1.x'))
  const body = section.slice(0, section.indexOf('\n## ', 1))
  return body.split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| Call form'))
    .map((line) => line.split(/(?<!\\)\|/)[1].trim().replace(/\\\|/g, '|'))
}

// msync() as the kernel saw it: [address, length, flags] for each call the
// child makes, read with strace.
let traced = null
function msyncTrace (code) {
  const out = path.join(path.dirname(tmpFile()), `strace-${process.pid}.txt`)
  const args = evalArgs(code, [])
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=msync', '-o', out, process.execPath, ...args],
    { cwd: root, encoding: 'utf8' })
  assert.strictEqual(r.status, 0, r.stderr)
  const calls = fs.readFileSync(out, 'utf8').split('\n')
    .map((line) => /msync\((0x[0-9a-f]+), (\d+), ([A-Z_|]+)\) = 0/.exec(line))
    .filter(Boolean)
    .map(([, addr, len, flags]) => [BigInt(addr), Number(len), flags])
  fs.unlinkSync(out)
  return { calls, stdout: r.stdout }
}

const canTrace = () => isLinux && !emulated && spawnSync('strace', ['-V']).status === 0

// One child makes every sync() call of the rows below, in this order.
function syncCalls () {
  if (traced) return traced
  const file = tmpFile(2 * P)
  traced = msyncTrace(`
    const mmap = require(${JSON.stringify(root)}), fs = require('fs')
    const fd = fs.openSync(${JSON.stringify(file)}, 'r+')
    const buf = mmap.map(${2 * P}, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd)
    buf[0] = 1
    mmap.sync(buf, 0, ${2 * P}, mmap.MS_SYNC)
    mmap.sync(buf, 0, ${2 * P}, mmap.MS_ASYNC)
    mmap.sync(buf, 0, ${2 * P}, mmap.MS_SYNC | mmap.MS_INVALIDATE)
    mmap.sync(buf, 0, ${2 * P}, 1)
    mmap.sync(buf, null, null, true)
    mmap.sync(buf, 0, 0)
    mmap.sync(buf, ${P})
    mmap.sync(buf, 0, ${2 * P}, 2)
    mmap.sync(buf, 0, ${2 * P}, 3)
    mmap.sync(buf, 0, ${2 * P}, 'yes')
    mmap.sync(buf, true, 1)
    mmap.sync(buf, 0, ${2 * P}, 0, 'x')
  `)
  assert.strictEqual(traced.calls.length, 12, JSON.stringify(traced.calls, (k, v) => typeof v === 'bigint' ? v.toString(16) : v))
  return traced
}

function traceOrSkip (ctx) {
  if (!canTrace()) skip(ctx, 'msync() flags are read with strace (Linux, not emulated)')
  return syncCalls().calls
}

describe('Coming from 1.x (README table)', function () {
  let fd, file
  before(function () {
    file = tmpFile(2 * P)
    fd = openFd(file, 'r+')
  })
  after(closeFds)

  const rows = {
    'sync(buf, off, len, mmap.MS_SYNC)' () {
      const calls = traceOrSkip(this)
      // MS_ASYNC (1) waits too: a number never asks for less than 1.x gave.
      assert.deepStrictEqual(calls.slice(0, 3).map(([, len, flags]) => [len, flags]),
        [[2 * P, 'MS_SYNC'], [2 * P, 'MS_SYNC'], [2 * P, 'MS_SYNC|MS_INVALIDATE']])
    },
    'sync(buf, off, len, 1)' () {
      const calls = traceOrSkip(this)
      assert.deepStrictEqual(calls[3].slice(1), [2 * P, 'MS_SYNC'])
      assert.deepStrictEqual(calls[7].slice(1), [2 * P, 'MS_SYNC|MS_INVALIDATE']) // 2
      assert.deepStrictEqual(calls[8].slice(1), [2 * P, 'MS_SYNC|MS_INVALIDATE']) // 3
    },
    'map(size, prot, flags, fd, null)' () {
      const buf = mmap.map(P, PROT_READ, MAP_SHARED, fd, null)
      const buf2 = mmap.map(P, PROT_READ, MAP_SHARED, fd, null, null, null)
      assert.strictEqual(buf[1], 1)
      assert.strictEqual(buf2[2], 2)
      // and everywhere else an argument is optional
      assert.deepStrictEqual(mmap.incore(buf, null, null)[0] + mmap.incore(buf, null, null)[1], 1)
      mmap.advise(buf, null, null, mmap.MADV_NORMAL)
      mmap.sync(buf, null, null, null, null)
      const opened = mmap.open(file, null)
      assert.strictEqual(opened.length, 2 * P)
      const moved = mmap.remap(opened, P, null)
      assert.strictEqual(moved.length, P)
      assert.strictEqual(mmap.open(file, { mode: null, offset: null, length: null }).length, 2 * P)
      for (const b of [buf, buf2, moved]) mmap.unmap(b)
    },
    'sync(buf, null, null, true)' () {
      const [base, len, flags] = traceOrSkip(this)[4]
      assert.deepStrictEqual([len, flags], [2 * P, 'MS_SYNC'])
      assert.strictEqual(base, syncCalls().calls[0][0])
    },
    'sync(buf, 0, 0)' () {
      const [, len, flags] = traceOrSkip(this)[5]
      assert.deepStrictEqual([len, flags], [2 * P, 'MS_ASYNC'])
    },
    'sync(buf, off)' () {
      const calls = traceOrSkip(this)
      const [addr, len, flags] = calls[6]
      assert.deepStrictEqual([addr - calls[0][0], len, flags], [BigInt(P), P, 'MS_ASYNC'])
    },
    '`advise(buf, mmap.MADV_COLD)` and other advice' () {
      if (mmap.MADV_COLD === undefined) skip(this, 'Linux advice')
      const buf = mmap.map(2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1)
      buf.fill(7)
      const added = ['MADV_MERGEABLE', 'MADV_UNMERGEABLE', 'MADV_WIPEONFORK', 'MADV_KEEPONFORK',
        'MADV_COLD', 'MADV_PAGEOUT', 'MADV_COLLAPSE', 'MADV_DONTNEED_LOCKED']
      const outcome = {}
      for (const name of added) {
        assert.strictEqual(typeof mmap[name], 'number', name)
        // The kernel may refuse (KSM or THP not built in): a system error,
        // never an argument error.
        try {
          mmap.advise(buf, mmap[name])
          outcome[name] = 'ok'
        } catch (err) {
          assert.ok(mmap.isSystemError(err), `${name}: ${err.stack}`)
          outcome[name] = err.code
        }
      }
      process.stdout.write(`      ${JSON.stringify(outcome)}\n`)
      // Advice that discards data keeps the whole-page rule.
      for (const name of ['MADV_WIPEONFORK', 'MADV_DONTNEED_LOCKED']) {
        assert.throws(() => mmap.advise(buf, 100, P, mmap[name]), { code: 'ERR_OUT_OF_RANGE' }, name)
      }
      assert.ok(buf.every((b) => b === 0 || b === 7))
      // Advice that takes the pages away is not taken.
      assert.throws(() => mmap.advise(buf, 100 /* MADV_HWPOISON */), { code: 'ERR_INVALID_ARG_VALUE' })
      mmap.unmap(buf)
    },
    '`map(size, prot, mmap.MAP_SHARED_VALIDATE, fd)` and other harmless flags' () {
      if (mmap.MAP_SHARED_VALIDATE === undefined) skip(this, 'Linux flags')
      // Under qemu-user, MAP_SHARED_VALIDATE is the emulator's gap: the
      // other flags are still tried.
      const kind = emulated ? MAP_SHARED : mmap.MAP_SHARED_VALIDATE
      if (emulated) process.stdout.write(`      (MAP_SHARED_VALIDATE not tried: ${qemuGaps.sharedValidate})\n`)
      const buf = mmap.map(P, PROT_READ | PROT_WRITE, kind, fd)
      buf.write('validated', 10)
      mmap.sync(buf, true)
      assert.strictEqual(fs.readFileSync(file, 'latin1').slice(10, 19), 'validated')
      mmap.unmap(buf)
      for (const name of ['MAP_DENYWRITE', 'MAP_EXECUTABLE', 'MAP_FILE', 'MAP_STACK', 'MAP_32BIT']) {
        if (mmap[name] === undefined) continue
        const b = mmap.map(P, PROT_READ, MAP_SHARED | mmap[name], fd)
        assert.strictEqual(b.toString('latin1', 10, 19), 'validated', name)
        mmap.unmap(b)
      }
    },
    'map(size, prot, MAP_SHARED | 0x10 /* MAP_FIXED */, fd)' () {
      const refused = require('../lib/binding').refusedFlags
      assert.throws(() => mmap.map(P, PROT_READ, MAP_SHARED | 0x10, fd), { code: 'ERR_INVALID_ARG_VALUE' })
      if (!isLinux) return
      assert.deepStrictEqual(Object.keys(refused),
        ['MAP_FIXED', 'MAP_FIXED_NOREPLACE', 'MAP_GROWSDOWN', 'MAP_DROPPABLE', 'MAP_UNINITIALIZED'])
      for (const [name, [value, reason]] of Object.entries(refused)) {
        assert.strictEqual(mmap[name], undefined, `${name} is not exported`)
        assert.throws(() => mmap.map(P, PROT_READ, MAP_SHARED | value, fd), (err) => {
          assert.strictEqual(err.code, 'ERR_INVALID_ARG_VALUE')
          assert.ok(err.message.includes(`must not include ${name}: it ${reason}`), err.message)
          return true
        })
      }
      assert.match(refused.MAP_FIXED[1], /replaces whatever else is mapped/)
    },
    "map(size, prot, flags, fd, offset, advise, 'name')" () {
      const buf = mmap.map(P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, 0, `mmap-io-compat-${process.pid}`)
      assert.strictEqual(buf[1], 1)
      for (const bad of ['', 'x'.repeat(256), 'a\0b', 'a\uD800']) {
        assert.throws(() => mmap.map(P, PROT_READ, MAP_SHARED, fd, 0, 0, bad), { code: 'ERR_INVALID_ARG_VALUE', message: /'name' must be 1 to 255 bytes \(UTF-8\), without NUL or lone surrogates/ })
      }
      if (process.platform === 'win32') {
        // The name is the file mapping object's: a second file mapping of
        // it is refused (it may be another file's); anonymous memory of one
        // name is one memory.
        assert.throws(() => mmap.map(P, PROT_READ, MAP_SHARED, fd, 0, 0, `mmap-io-compat-${process.pid}`), { code: 'EEXIST', syscall: 'mmap' })
        const name = `mmap-io-compat-anon-${process.pid}`
        const a = mmap.map(P, PROT_READ | PROT_WRITE, MAP_SHARED | mmap.MAP_ANONYMOUS, -1, 0, 0, name)
        const b = mmap.map(P, PROT_READ | PROT_WRITE, MAP_SHARED | mmap.MAP_ANONYMOUS, -1, 0, 0, name)
        a[7] = 42
        assert.strictEqual(b[7], 42)
        // Named anonymous memory is shared by nature: never private.
        assert.throws(() => mmap.map(P, PROT_READ | PROT_WRITE, MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0, 0, `${name}-private`), { code: 'EINVAL' })
        mmap.unmap(a)
        mmap.unmap(b)
      } else {
        // Ignored: a second mapping of the same name is another mapping.
        const again = mmap.map(P, PROT_READ, MAP_SHARED, fd, 0, 0, `mmap-io-compat-${process.pid}`)
        assert.strictEqual(again[1], 1)
        mmap.unmap(again)
      }
      mmap.unmap(buf)
    },
    'advise(buf, 0, 4096, advice) on a 100-byte mapping' () {
      const small = mmap.map(100, PROT_READ, MAP_SHARED, fd)
      mmap.advise(small, 0, P, mmap.MADV_WILLNEED)
      mmap.advise(small, 0, P, mmap.MADV_NORMAL)
      mmap.advise(small.subarray(50), 0, P - 50, mmap.MADV_WILLNEED) // from the view's first byte
      assert.throws(() => mmap.advise(small, 0, P + 1, mmap.MADV_WILLNEED), { code: 'ERR_OUT_OF_RANGE', message: /<= 4096|<= 16384|<= 65536/ })
      assert.throws(() => mmap.advise(small.subarray(50), 0, P - 49, mmap.MADV_WILLNEED), { code: 'ERR_OUT_OF_RANGE' })
      // The addon checks it too, whatever lib/ let through.
      const binding = require('../lib/binding')
      assert.throws(() => binding.advise(small, 0, P + 1, mmap.MADV_WILLNEED), { code: 'ERR_OUT_OF_RANGE', message: /outside the mapping's pages/ })
      assert.throws(() => binding.advise(small, 0, 2 * P, mmap.MADV_WILLNEED), { code: 'ERR_OUT_OF_RANGE' })
      // Other functions keep to the view.
      assert.throws(() => mmap.sync(small, 0, P), { code: 'ERR_OUT_OF_RANGE' })
      mmap.unmap(small)
      if (mmap.MADV_REMOVE !== undefined) {
        // MADV_REMOVE frees the file's own pages: never the bytes of the
        // file past the mapping (the rest of its last page).
        const file2 = tmpFile(2 * P)
        const fd2 = openFd(file2, 'r+')
        const part = mmap.map(P + 100, PROT_READ | PROT_WRITE, MAP_SHARED, fd2)
        assert.throws(() => mmap.advise(part, P, P, mmap.MADV_REMOVE), { code: 'ERR_OUT_OF_RANGE', message: /within the mapping's length/ })
        assert.deepStrictEqual(fs.readFileSync(file2), (() => { const b = Buffer.alloc(2 * P); for (let i = 0; i < 2 * P; i++) b[i] = i % 251; return b })())
        mmap.unmap(part)
      }
    },
    'map(4096.5, ...), sync(buf, 0.5)' () {
      // Truncated toward zero, as 1.x did, in map(), advise(), sync() and incore().
      const buf = mmap.map(P + 0.5, PROT_READ, MAP_SHARED, fd, 0.5, mmap.MADV_NORMAL + 0.5)
      assert.strictEqual(buf.length, P)
      mmap.sync(buf, 0.5, P - 0.5)
      mmap.advise(buf, 0.5, P / 2 + 0.9, mmap.MADV_NORMAL + 0.5)
      mmap.advise(buf, mmap.MADV_NORMAL + 0.5)
      const pages = ([out, inCore]) => out + inCore // resident or not: Windows counts only touched pages
      assert.strictEqual(pages(mmap.incore(buf, 0.5, P + 0.5)), 1)
      // NaN, infinities, negatives and values out of range still throw...
      for (const bad of [NaN, Infinity, -0.5, -1, P + 1]) {
        assert.throws(() => mmap.sync(buf, bad), { code: 'ERR_OUT_OF_RANGE' }, String(bad))
      }
      assert.throws(() => mmap.map(NaN, PROT_READ, MAP_SHARED, fd), { code: 'ERR_OUT_OF_RANGE' })
      // ...and functions 1.x did not have stay strict.
      assert.throws(() => mmap.lock(buf, 0.5), { code: 'ERR_OUT_OF_RANGE' })
      assert.throws(() => mmap.open(file, { length: P + 0.5 }), { code: 'ERR_OUT_OF_RANGE' })
      mmap.unmap(buf)
    },
    "map('4096', ...), sync(buf, '0')" () {
      // 1.x checked the size (and advise()'s second argument) with IsNumber;
      // the rest went through ToInt32, which reads a numeric string.
      assert.throws(() => mmap.map(String(P), PROT_READ, MAP_SHARED, fd), { code: 'ERR_INVALID_ARG_TYPE' })
      const buf = mmap.map(P, PROT_READ, MAP_SHARED, fd, '0', String(mmap.MADV_NORMAL))
      mmap.sync(buf, '0', String(P))
      mmap.advise(buf, 0, String(P), String(mmap.MADV_NORMAL))
      assert.strictEqual(mmap.incore(buf, '0').reduce((a, b) => a + b), 1) // one page, resident or not
      assert.throws(() => mmap.advise(buf, '0', P, mmap.MADV_NORMAL), { code: 'ERR_INVALID_ARG_TYPE' })
      assert.throws(() => mmap.sync(buf, 'zero'), { code: 'ERR_INVALID_ARG_TYPE' })
      assert.throws(() => mmap.sync(buf, ''), { code: 'ERR_INVALID_ARG_TYPE' })
      mmap.unmap(buf)
    },
    "sync(buf, 0, len, 'yes'), sync(buf, true, 1)" () {
      const calls = traceOrSkip(this)
      assert.deepStrictEqual(calls[9].slice(1), [2 * P, 'MS_SYNC']) // 'yes'
      assert.deepStrictEqual(calls[10].slice(1), [2 * P, 'MS_SYNC|MS_INVALIDATE']) // true, 1
      assert.deepStrictEqual(calls[11].slice(1), [2 * P, 'MS_ASYNC|MS_INVALIDATE']) // 0, 'x'
    },
    'map(size, prot, flags, fd, 2 ** 32)' () {
      // A 64-bit offset: 1.x truncated 2 ** 32 to 0 and mapped the start.
      const big = tmpFile()
      const bfd = openFd(big, 'r+')
      fs.ftruncateSync(bfd, 2 ** 32 + P)
      fs.writeSync(bfd, Buffer.from('past 4 GiB', 'latin1'), 0, 10, 2 ** 32)
      const buf = mmap.map(P, PROT_READ, MAP_SHARED, bfd, 2 ** 32)
      assert.strictEqual(buf.toString('latin1', 0, 10), 'past 4 GiB')
      mmap.unmap(buf)
      fs.ftruncateSync(bfd, 0)
    },
    'A failed system call' () {
      const ro = openFd(file, 'r')
      assert.throws(() => mmap.map(P, PROT_READ | PROT_WRITE, MAP_SHARED, ro), (err) => {
        assert.ok(mmap.isSystemError(err))
        assert.strictEqual(err.code, 'EACCES')
        assert.strictEqual(err.syscall, 'mmap')
        assert.strictEqual(require('util').getSystemErrorName(err.errno), 'EACCES')
        assert.strictEqual(err.message, 'EACCES: permission denied, mmap')
        return true
      })
      const missing = path.join(path.dirname(file), 'missing')
      assert.throws(() => mmap.open(missing), (err) => mmap.isSystemError(err) && err.code === 'ENOENT' && err.path === missing)
      assert.throws(() => mmap.map(-1, PROT_READ, MAP_SHARED, ro), (err) => !mmap.isSystemError(err) && err.code === 'ERR_OUT_OF_RANGE')
      assert.strictEqual(mmap.isSystemError(Object.assign(new Error('x'), { code: 'E' })), false)
    }
  }

  before(function () {
    fs.writeSync(fd, Buffer.from([0, 1, 2]), 0, 3, 0)
  })

  for (const [title, fn] of Object.entries(rows)) it(title, fn)

  it('the README table has exactly these rows', function () {
    assert.deepStrictEqual(readmeRows().map((cell) => cell.replace(/`/g, '')),
      Object.keys(rows).map((title) => title.replace(/`/g, '')))
  })
})
