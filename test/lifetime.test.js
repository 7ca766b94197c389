'use strict'
// unmap(), the registry of live mappings, garbage collection, the mapping
// limit, workers, and the two hazards that remain.
const assert = require('assert')
const fs = require('fs')
const path = require('path')
const { Worker } = require('worker_threads')
const mmap = require('..')
const binding = require('../lib/binding')
const {
  tmpFile, openFd, closeFds, runChild, runScript, assertChildOk, mappingCount, sanitized, isLinux, isWindows, assertCrashed, skip,
  runtime, emulated, secondCopy, scratch, runtimeFlags, failShim
} = require('./helpers')

const { PROT_READ, PROT_WRITE, MAP_SHARED, PAGESIZE } = mmap
const RW = PROT_READ | PROT_WRITE
const root = path.join(__dirname, '..')
const hasTransfer = typeof ArrayBuffer.prototype.transfer === 'function'
const { constants: { MAX_LENGTH } } = require('buffer')
// A child script of test/fixtures (each says what broke before it), given
// this package; its JSON output.
const fixture = (name, args, { flags = [], env = {} } = {}) =>
  JSON.parse(assertChildOk(runScript(path.join(root, 'test', 'fixtures', name), [root, ...args], { timeout: 300000, env }, flags)))

function mapFile (size = 4 * PAGESIZE, prot = RW) {
  const file = tmpFile(size)
  return { file, buf: mmap.map(size, prot, MAP_SHARED, openFd(file)) }
}

// How many lines of /proc/self/maps name `file` (Linux; elsewhere, given
// `mapped`, the answer the test expects, which cannot be checked there).
function mappingsOf (file, mapped) {
  if (!isLinux) return mapped
  return fs.readFileSync('/proc/self/maps', 'utf8').split(file).length - 1
}

describe('unmap()', function () {
  afterEach(closeFds)

  it('placeholders the kernel refuses to give back stay reserved and counted, past the release batch\'s 64, and go back once it allows', function () {
    if (!isLinux || emulated) skip(this, 'an LD_PRELOAD shim for the host\'s C library')
    const flag = path.join(scratch, `refuse-${process.pid}`)
    const r = JSON.parse(assertChildOk(runScript(path.join(__dirname, 'fixtures', 'release-refused.js'),
      [path.join(__dirname, '..'), tmpFile(Buffer.alloc(16 * PAGESIZE)), flag], { env: { ...process.env, LD_PRELOAD: failShim(), MMAP_IO_FAIL: 'munmap', MMAP_IO_FAIL_ERRNO: '12', MMAP_IO_FAIL_WHILE: flag } }, runtimeFlags(['--expose-gc']))))
    process.stdout.write(`      refused: ${r.refused} waiting; after munmap() works again: ${r.after}\n`)
    assert.strictEqual(r.refused, 100) // each still reserved, each counted
    assert.ok(r.after < 64, JSON.stringify(r)) // the batch gave them back
  })

  it('releases the mapping now and empties every view of it', function () {
    const { file, buf } = mapFile()
    const sub = buf.subarray(PAGESIZE, 2 * PAGESIZE)
    const u8 = new Uint8Array(buf.buffer)
    const f64 = new Float64Array(buf.buffer, 8, 4)
    const dv = new DataView(buf.buffer)
    assert.strictEqual(mappingsOf(file, 1), 1)
    mmap.unmap(buf)
    assert.strictEqual(mappingsOf(file, 0), 0)
    for (const view of [buf, sub, u8, f64]) {
      assert.strictEqual(view.length, 0)
      assert.strictEqual(view.byteLength, 0)
      assert.strictEqual(view[0], undefined)
      view[0] = 1 // ignored
      assert.strictEqual(view[0], undefined)
    }
    assert.strictEqual(buf.buffer.byteLength, 0)
    // A DataView over a detached buffer throws a TypeError: an exception, not a crash.
    assert.throws(() => dv.getUint8(0), TypeError)
  })

  it('releases a small read-only or private mapping with its batch: by the next turn of the event loop, at once when the batch is full or fadvise() is called', async function () {
    if (!isLinux) skip(this, 'counted in /proc/self/maps')
    const file = tmpFile(PAGESIZE)
    const fd = openFd(file, 'r+')
    // A shared writable one becomes a placeholder now.
    const rw = mmap.map(PAGESIZE, RW, MAP_SHARED, fd)
    mmap.unmap(rw)
    assert.strictEqual(mappingsOf(file), 0)
    for (const [prot, flags] of [[PROT_READ, MAP_SHARED], [RW, mmap.MAP_PRIVATE]]) {
      const b = mmap.map(PAGESIZE, prot, flags, fd)
      mmap.unmap(b)
      assert.strictEqual(b.length, 0) // every view is empty at once
      assert.strictEqual(mappingsOf(file), 1)
      await new Promise(setImmediate)
      assert.strictEqual(mappingsOf(file), 0)
    }
    // A full batch goes at once, without waiting for the event loop.
    const views = Array.from({ length: binding.deferBatch }, () => mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd))
    views.slice(0, -1).forEach((v) => mmap.unmap(v))
    assert.strictEqual(mappingsOf(file), binding.deferBatch)
    mmap.unmap(views[views.length - 1])
    assert.strictEqual(mappingsOf(file), 0)
    // So do bigger ones, whose release costs mostly their page tables.
    const big = mmap.map(binding.deferMaxSpan + PAGESIZE, PROT_READ, MAP_SHARED, fd)
    mmap.unmap(big)
    assert.strictEqual(mappingsOf(file), 0)
    // fadvise() releases the batch first: mapped pages cannot be dropped.
    mmap.unmap(mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd))
    assert.strictEqual(mappingsOf(file), 1)
    mmap.fadvise(fd, 0, 0, mmap.POSIX_FADV_DONTNEED)
    assert.strictEqual(mappingsOf(file), 0)
    // Locked or re-protected ones go at once.
    const locked = mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd)
    const reprotected = mmap.map(PAGESIZE, PROT_READ, MAP_SHARED, fd)
    mmap.protect(reprotected, PROT_READ)
    try { mmap.lock(locked) } catch (err) { assert.strictEqual(err.code, 'EAGAIN') } // RLIMIT_MEMLOCK
    mmap.unmap(reprotected)
    assert.strictEqual(mappingsOf(file), 1)
    mmap.unmap(locked)
    assert.strictEqual(mappingsOf(file), 0)
  })

  it('a native read still in flight when the file is truncated after unmap() reads zeros, not SIGBUS', function () {
    if (isWindows) skip(this, 'a mapped file cannot be truncated on Windows')
    if (runtime === 'bun') skip(this, 'Bun refuses to detach a Buffer that zlib is reading (ERR_MMAP_IO_CANNOT_DETACH), so no such read outlives unmap()')
    if (runtime === 'deno') skip(this, 'Deno\'s zlib reads no page of the Buffer after unmap() returns (run here: the deflate succeeds and the guard catches 0 faults)')
    const size = binding.deferMaxSpan // the largest mapping whose release waits in a batch
    const file = tmpFile(require('crypto').randomBytes(size)) // on ext4 here: SIGBUS past EOF is real
    const r = runChild(`
      const mmap = require('mmap-io'), binding = require(${JSON.stringify(path.join(root, 'lib', 'binding'))})
      const fs = require('fs'), zlib = require('zlib'), crypto = require('crypto')
      const fd = fs.openSync(${JSON.stringify(file)}, 'r+')
      const b = mmap.map(${size}, mmap.PROT_READ, mmap.MAP_SHARED, fd)
      // One threadpool thread, kept busy first: the deflate job starts
      // reading through its own pointer only after unmap() and the truncation.
      const t = Date.now()
      crypto.pbkdf2Sync('x', 'y', 100000, 32, 'sha256')
      const busy = Date.now() - t
      crypto.pbkdf2('x', 'y', 100000, 32, 'sha256', () => {})
      zlib.deflate(b, (err, out) => {
        console.log(JSON.stringify({ err: err && err.code, deflated: out.length > 0, caught: binding.guarded(), size: fs.fstatSync(fd).size }))
      })
      mmap.unmap(b)
      fs.ftruncateSync(fd, 0)
      // Keep the event loop from switching the batch until the job has read.
      const end = Date.now() + 3 * busy + 100
      while (Date.now() < end);
    `, { env: { UV_THREADPOOL_SIZE: '1' } })
    const out = JSON.parse(assertChildOk(r))
    process.stdout.write(`      faults the guard turned into placeholders: ${out.caught}\n`)
    assert.deepStrictEqual({ ...out, caught: out.caught >= 1 }, { err: null, deflated: true, caught: true, size: 0 })
  })

  it('with two copies of the addon in the process, each copy\'s fault guard still catches its own ranges, and the older copy stops batching', function () {
    if (!isLinux) skip(this, 'the fault guard is a SIGBUS handler; mappings counted in /proc/self/maps')
    if (runtime !== 'node') skip(this, 'needs a native read still in flight after unmap() (see the test above)')
    const size = binding.deferMaxSpan
    const [a, b] = [0, 1].map(() => tmpFile(require('crypto').randomBytes(size)))
    const c = tmpFile(PAGESIZE)
    const J = JSON.stringify
    const copy = secondCopy()
    const r = runChild(`
      const fs = require('fs'), zlib = require('zlib'), crypto = require('crypto')
      const one = require('mmap-io'), two = require(${J(copy)})
      const guards = [require(${J(path.join(root, 'lib', 'binding'))}), require(${J(path.join(copy, 'lib', 'binding'))})]
      if (one === two || guards[0] === guards[1]) throw new Error('one copy')
      const mappingsOf = (file) => fs.readFileSync('/proc/self/maps', 'utf8').split(file).length - 1
      const fa = fs.openSync(${J(a)}, 'r+'), fb = fs.openSync(${J(b)}, 'r+'), fc = fs.openSync(${J(c)}, 'r')
      // One threadpool thread, busy first: both deflates read through their
      // own pointers only after unmap() and the truncations.
      const t = Date.now()
      crypto.pbkdf2Sync('x', 'y', 100000, 32, 'sha256')
      const busy = Date.now() - t
      crypto.pbkdf2('x', 'y', 100000, 32, 'sha256', () => {})
      const errs = []
      let left = 2
      const deflate = (m) => zlib.deflate(m, (err, out) => {
        errs.push(err ? err.code : out.length > 0)
        if (--left === 0) setImmediate(after)
      })
      // Each copy installs its handlers at its first map(): the first copy's
      // are the process's when ma is unmapped, so ma waits in its batch;
      // then the second copy's go in front of them.
      const ma = one.map(${size}, one.PROT_READ, one.MAP_SHARED, fa)
      deflate(ma)
      one.unmap(ma)
      const mb = two.map(${size}, two.PROT_READ, two.MAP_SHARED, fb)
      deflate(mb)
      two.unmap(mb)
      fs.ftruncateSync(fa, 0)
      fs.ftruncateSync(fb, 0)
      const end = Date.now() + 3 * busy + 100
      while (Date.now() < end);
      function after () {
        // Both batches are gone. The first copy's handler is no longer the
        // process's: its releases now go at once; the second's still wait.
        one.unmap(one.map(${PAGESIZE}, one.PROT_READ, one.MAP_SHARED, fc))
        const oneAfter = mappingsOf(${J(c)})
        two.unmap(two.map(${PAGESIZE}, two.PROT_READ, two.MAP_SHARED, fc))
        const twoAfter = mappingsOf(${J(c)})
        console.log(JSON.stringify({ errs, caught: guards.map((g) => g.guarded()), oneAfter, twoAfter }))
      }
    `, { env: { UV_THREADPOOL_SIZE: '1' } })
    const out = JSON.parse(assertChildOk(r))
    process.stdout.write(`      faults caught: ${out.caught[0]} by the first copy (through the second's handler), ${out.caught[1]} by the second\n`)
    assert.deepStrictEqual(out.errs, [true, true])
    assert.ok(out.caught[0] >= 1 && out.caught[1] >= 1, JSON.stringify(out))
    assert.strictEqual(out.oneAfter, 0)
    assert.strictEqual(out.twoAfter, 1)
  })

  for (const how of ['twice', 'once']) {
    it(`of a Buffer transfer()red ${how} while fs.read holds ${how === 'twice' ? 'the one in between' : 'it'}: the range stays reserved for the life of the process, and the read lands in no file`, function () {
      if (!hasTransfer) skip(this, `ArrayBuffer.prototype.transfer needs Node 22 or later (this is ${process.version})`)
      if (!isLinux) skip(this, 'mkfifo')
      const r = fixture('transfer-chain.js', [how, fs.mkdtempSync(path.join(scratch, 'transfer-'))], { flags: runtimeFlags(['--expose-gc']) })
      assert.strictEqual(r.err, null) // no EFAULT: still reserved
      assert.strictEqual(r.n, 16)
      assert.strictEqual(r.corrupted, 0)
      if (r.refused === null) {
        assert.strictEqual(r.kept, 1) // a detach mmap-io did not make
        assert.strictEqual(r.a, 'a'.repeat(16))
      } else {
        // Bun: a Buffer that a pending read holds is not detached (and its
        // transfer() copies), so nothing was unmapped.
        assert.strictEqual(runtime, 'bun')
        assert.strictEqual(r.kept, 0)
      }
    })
  }

  it('is a no-op the second time, through any view', function () {
    const { buf } = mapFile()
    const dv = new DataView(buf.buffer)
    const u32 = new Uint32Array(buf.buffer)
    mmap.unmap(buf)
    assert.strictEqual(mmap.unmap(buf), undefined)
    assert.strictEqual(mmap.unmap(dv), undefined)
    assert.strictEqual(mmap.unmap(u32), undefined)
  })

  it('of a subarray, a TypedArray or a DataView releases the whole mapping', function () {
    for (const make of [(b) => b.subarray(100, 200), (b) => new Int32Array(b.buffer, 4096, 10), (b) => new DataView(b.buffer, 8)]) {
      const { file, buf } = mapFile()
      mmap.unmap(make(buf))
      assert.strictEqual(buf.length, 0)
      assert.strictEqual(mappingsOf(file, 0), 0)
      if (isWindows) fs.unlinkSync(file) // only an unmapped file can be deleted there
    }
  })

  it('refuses Buffers that are not mappings', function () {
    for (const value of [Buffer.alloc(PAGESIZE), Buffer.from('abc'), new Uint8Array(16), Buffer.alloc(0)]) {
      assert.throws(() => mmap.unmap(value), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
    }
  })

  it('keeps a later finalizer from unmapping an address reused by a newer mapping', function () {
    const a = tmpFile(PAGESIZE)
    const b = tmpFile(Buffer.alloc(PAGESIZE, 7))
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs')
      const fa = fs.openSync(${JSON.stringify(a)}, 'r'), fb = fs.openSync(${JSON.stringify(b)}, 'r')
      const keep = []
      for (let i = 0; i < 2000; i++) {
        let old = mmap.map(${PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fa)
        mmap.unmap(old)
        old = null
        // Most likely at the address just released.
        keep.push(mmap.map(${PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fb))
      }
      gc()
      setImmediate(() => setImmediate(() => {
        gc()
        let sum = 0
        for (const k of keep) sum += k[0] + k[${PAGESIZE - 1}]
        console.log(sum)
      }))
    `, { args: ['--expose-gc'] }))
    assert.strictEqual(Number(out), 2000 * 14)
  })
})

describe('the registry', function () {
  afterEach(closeFds)

  it('advise, sync and incore accept any TypedArray or DataView inside a live mapping', function () {
    const { file, buf } = mapFile()
    const views = [
      buf,
      buf.subarray(PAGESIZE + 3, PAGESIZE + 30),
      new Uint8Array(buf.buffer, 10, 100),
      new Float64Array(buf.buffer, PAGESIZE, 16),
      new BigInt64Array(buf.buffer, 2 * PAGESIZE + 8, 4),
      new Int16Array(buf.buffer),
      new DataView(buf.buffer, PAGESIZE - 1, 2)
    ]
    for (const view of views) {
      mmap.advise(view, mmap.MADV_WILLNEED)
      mmap.advise(view, 0, 1, mmap.MADV_NORMAL)
      new Uint8Array(view.buffer, view.byteOffset, view.byteLength).fill(9)
      mmap.sync(view, true)
      const [missing, resident] = mmap.incore(view)
      const first = Math.floor(view.byteOffset / PAGESIZE)
      const last = Math.ceil((view.byteOffset + view.byteLength) / PAGESIZE)
      assert.strictEqual(missing + resident, last - first)
    }
    assert.ok(fs.readFileSync(file).every((b) => b === 9))
  })

  it('destructive advice takes page-aligned whole pages, or a range to the end of the mapping', function () {
    const file = tmpFile(3 * PAGESIZE + 100)
    const buf = mmap.map(3 * PAGESIZE + 100, RW, MAP_SHARED, openFd(file))
    mmap.advise(buf, PAGESIZE, PAGESIZE, mmap.MADV_DONTNEED)
    mmap.advise(buf.subarray(2 * PAGESIZE), mmap.MADV_DONTNEED) // to the end
    mmap.advise(buf, mmap.MADV_DONTNEED)
    assert.throws(() => mmap.advise(buf, PAGESIZE, 100, mmap.MADV_DONTNEED), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => mmap.advise(buf.subarray(1, PAGESIZE + 1), mmap.MADV_DONTNEED), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => mmap.advise(buf.subarray(0, PAGESIZE + 1), mmap.MADV_DONTNEED), { code: 'ERR_OUT_OF_RANGE' })
  })
})

describe('garbage collection', function () {
  afterEach(closeFds)

  it('unmaps dropped Buffers once the event loop turns', function () {
    if (!isLinux) skip(this, 'counted in /proc/self/maps')
    if (runtime === 'deno') skip(this, 'Deno runs external buffers\' finalizers in later garbage collections, not after gc() and a turn of the loop')
    const file = tmpFile(PAGESIZE)
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs')
      const count = () => fs.readFileSync('/proc/self/maps', 'utf8').split(${JSON.stringify(file)}).length - 1
      const fd = fs.openSync(${JSON.stringify(file)}, 'r')
      for (let i = 0; i < 1000; i++) mmap.map(${PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fd)
      const before = count()
      // Collect, then let the loop turn for the finalizers; how many turns
      // that takes varies with the Node version, so try up to 100.
      let turns = 0
      ;(function again () {
        gc()
        setImmediate(() => {
          turns++
          if (count() === 0 || turns === 100) console.log(before, count(), turns)
          else again()
        })
      })()
    `, { args: ['--expose-gc'] }))
    const [before, after, turns] = out.trim().split(' ').map(Number)
    process.stdout.write(`      ${before} dropped mappings, ${after} left after ${turns} turn(s) of the event loop\n`)
    assert.deepStrictEqual([before, after], [1000, 0])
  })
})

describe('the mapping limit @slow', function () {
  // 200,000 under emulation, which runs 10 to 20 times slower.
  const cycles = emulated ? 200000 : 1000000
  it(`a synchronous loop of ${cycles.toLocaleString('en')} map + read + unmap keeps the mapping count flat`, function () {
    if (!isLinux) skip(this, 'counted in /proc/self/maps')
    const file = tmpFile(Buffer.alloc(PAGESIZE, 1))
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs')
      const maps = () => fs.readFileSync('/proc/self/maps', 'utf8')
      const count = () => maps().split('\\n').length
      const fd = fs.openSync(${JSON.stringify(file)}, 'r')
      const before = count()
      let sum = 0, peak = 0, ofFile = 0
      for (let i = 0; i < ${cycles}; i++) {
        const b = mmap.map(${PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fd)
        sum += b[0]
        mmap.unmap(b)
        if (i % 50000 === 0) {
          peak = Math.max(peak, count())
          ofFile = Math.max(ofFile, maps().split(${JSON.stringify(file)}).length - 1)
        }
      }
      console.log(JSON.stringify({ sum, before, peak, ofFile, after: count() }))
    `))
    const r = JSON.parse(out)
    process.stdout.write(`      ${cycles.toLocaleString('en')} iterations; mappings before ${r.before}, peak ${r.peak}, after ${r.after}\n`)
    assert.strictEqual(r.sum, cycles)
    // Unmapped read-only mappings become placeholders in batches: at most one
    // batch of them still maps the file at any moment.
    assert.ok(r.ofFile >= 0 && r.ofFile <= binding.deferBatch, `${r.ofFile} mappings of the file`)
    // Flat: none of ours stays (the placeholders unmap() leaves are adjacent
    // and merge into one); the few more are the heap growing (Node queues a
    // small record per finalizer until the loop yields).
    if (sanitized) return
    // In some address layouts (brk cannot grow: seen with and without
    // randomization, on Node 18 where finalizers wait for the event loop and
    // once on Node 20 in CI: peak 4,510) malloc's blocks land between the
    // placeholders, each splitting them: about one more kernel mapping per
    // 256 iterations until the loop yields. One per iteration (a mapping
    // kept) would be a million.
    assert.ok(r.peak - r.before <= cycles / 128, out)
  })

  it('a loop of 200,000 maps without unmap throws a catchable ENOMEM, and map() works again after a turn of the event loop', function () {
    if (!mmap.features.mappingLimit) skip(this, 'no per-process mapping limit here')
    const file = tmpFile(PAGESIZE)
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs')
      const fd = fs.openSync(${JSON.stringify(file)}, 'r')
      let i = 0, error = {}
      try {
        for (; i < 200000; i++) mmap.map(${PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fd)
      } catch (e) { error = e }
      // The process still works: V8 can allocate and compile.
      const big = new Array(100000).fill(0).map((_, j) => ({ j }))
      setImmediate(() => {
        const again = mmap.map(${PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fd)
        console.log(JSON.stringify({ i, code: error.code, errno: error.errno, syscall: error.syscall, message: error.message, again: again.length, big: big.length }))
      })
    `, { args: ['--expose-gc'] }))
    const r = JSON.parse(out)
    if (runtime === 'deno' && r.i === 200000) {
      // Deno collects dropped Buffers during the loop itself (its finalizers
      // run in garbage collection), so it never reaches the budget.
      process.stdout.write('      200000 maps without ENOMEM: Deno released the dropped ones meanwhile\n')
      assert.strictEqual(r.again, PAGESIZE)
      return
    }
    process.stdout.write(`      ENOMEM after ${r.i} live mappings\n`)
    assert.ok(r.i > 30000 && r.i < 65530, out)
    assert.strictEqual(r.code, 'ENOMEM')
    assert.strictEqual(r.syscall, 'mmap')
    assert.match(r.message, /^ENOMEM: .*call unmap\(\).*let the event loop run.*, mmap$/)
    assert.strictEqual(r.again, PAGESIZE)
  })

  it('a refused call does not read /proc/self/maps again, and remap() does not read it at all', function () {
    if (!isLinux || emulated) skip(this, '/proc/self/maps, and an LD_PRELOAD shim for the host\'s C library')
    for (const env of [{}, { MMAP_IO_FAIL: 'ioctl', MMAP_IO_FAIL_ERRNO: '25' }]) {
      const count = path.join(scratch, `maps-reads-${Date.now()}`)
      const r = fixture('budget-costs.js', [tmpFile(2 * PAGESIZE)], { env: { LD_PRELOAD: failShim(), MMAP_IO_COUNT_FILE: count, ...env } })
      process.stdout.write(`      ${env.MMAP_IO_FAIL ? 'without PROCMAP_QUERY' : 'with PROCMAP_QUERY'}: ${r.remaps} remaps in ${r.remapMs.toFixed(0)} ms, ${r.remapScans} reads; ${r.climbScans} reads on the way to ${r.held} mappings; ${r.refused} refused calls in ${r.refusedMs.toFixed(1)} ms, ${r.refusedScans} reads\n`)
      assert.strictEqual(r.reached, 'ENOMEM')
      assert.strictEqual(r.refused, 2000)
      // One read per 100 ms at most while refusing, and none for a refusal
      // that follows another at once.
      assert.ok(r.refusedScans <= 1 + Math.ceil(r.refusedMs / 100), JSON.stringify(r))
      // The budget's own reads, every few thousand calls; a remap's fd check
      // asks the kernel about one address (or reads the file where it cannot).
      const allowed = env.MMAP_IO_FAIL ? r.remaps + 200 : 200
      assert.ok(r.remapScans <= allowed, JSON.stringify(r))
      // The only copy in the process steps half of what is left: about
      // log2(ceiling) reads on the way (an eighth of it each: about 75).
      assert.ok(r.climbScans <= 20, JSON.stringify(r))
    }
  })

  it('an asynchronous loop of 1,000,000 maps without unmap stays under 30,000 live mappings and 300 MiB', function () {
    if (!isLinux) skip(this, 'counted in /proc/self/maps')
    const file = tmpFile(Buffer.alloc(PAGESIZE, 1))
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs')
      const count = () => { const t = fs.readFileSync('/proc/self/maps'); let n = 0; for (const c of t) n += c === 10; return n }
      const fd = fs.openSync(${JSON.stringify(file)}, 'r')
      let i = 0, peak = 0, rss = 0, sum = 0, code = null
      function batch () {
        try {
          for (let j = 0; j < 1000; j++, i++) sum += mmap.map(${PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fd)[0]
        } catch (e) { code = e.code }
        if (i % 5000 === 0 || code) {
          peak = Math.max(peak, count())
          rss = Math.max(rss, process.memoryUsage().rss)
        }
        if (i < 1000000 && !code) setImmediate(batch)
        else console.log(JSON.stringify({ i, sum, peak, rss, code }))
      }
      batch()
    `))
    const r = JSON.parse(out)
    process.stdout.write(`      ${r.i} maps; peak ${r.peak} mappings, peak RSS ${(r.rss / 2 ** 20).toFixed(0)} MiB${r.code ? `; ${r.code}` : ''}\n`)
    if (runtime === 'deno') {
      // Deno collects dropped Buffers too late for a loop that never
      // unmaps: it may come near or reach the budget, which then refuses
      // with a catchable ENOMEM (docs/platforms.md, Runtimes).
      assert.ok(r.code === null || r.code === 'ENOMEM', out)
      assert.ok(r.peak <= 32768, out)
      return
    }
    assert.strictEqual(r.code, null)
    assert.strictEqual(r.sum, 1000000)
    assert.ok(r.peak < 30000, out)
    if (!sanitized) assert.ok(r.rss < 300 * 2 ** 20, out)
  })
})

describe('workers', function () {
  afterEach(closeFds)

  it('each environment has its own registry: a view from another thread is refused', async function () {
    const { buf } = mapFile()
    const worker = new Worker(`
      const { parentPort } = require('worker_threads')
      const mmap = require(${JSON.stringify(root)})
      parentPort.once('message', (view) => {
        try { mmap.sync(view); parentPort.postMessage('accepted') } catch (e) { parentPort.postMessage(e.code) }
      })
    `, { eval: true })
    let answer
    try {
      // Mapped ArrayBuffers cannot be transferred: Node 20 sends a copy,
      // Node 22 and later throw DataCloneError. Deno moves them; send a copy
      // there, as the point here is the other thread's registry.
      try {
        if (runtime === 'deno') worker.postMessage(Buffer.from(buf))
        else worker.postMessage(buf, [buf.buffer])
      } catch (err) {
        assert.strictEqual(err.name, 'DataCloneError')
        worker.postMessage(buf) // a copy
      }
      answer = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject) })
    } finally {
      await worker.terminate()
    }
    assert.strictEqual(answer, 'ERR_INVALID_ARG_VALUE')
    assert.strictEqual(buf.length, 4 * PAGESIZE) // still ours, still mapped
  })

  it('8 workers mapping and unmapping 10,000 times, half terminated midway, leave no mapping behind @slow', async function () {
    const file = tmpFile(PAGESIZE)
    // Each round: 8 workers map and unmap 10,000 times, keeping every 100th
    // mapping for teardown to release; the even ones are terminated halfway.
    async function round (cycles) {
      const workers = []
      for (let w = 0; w < 8; w++) {
        workers.push(new Worker(`
          const { parentPort, workerData } = require('worker_threads')
          const mmap = require(workerData.root), fs = require('fs')
          const fd = fs.openSync(workerData.file, 'r')
          const held = []
          let i = 0
          function step () {
            for (let j = 0; j < 500; j++, i++) {
              const b = mmap.map(mmap.PAGESIZE, mmap.PROT_READ, mmap.MAP_SHARED, fd)
              if (i % 100 === 0) held.push(b)
              else mmap.unmap(b)
            }
            if (i === workerData.cycles / 2) parentPort.postMessage('halfway')
            if (i < workerData.cycles) setImmediate(step)
            else { fs.closeSync(fd); parentPort.postMessage('done') }
          }
          step()
        `, { eval: true, workerData: { root, file, cycles } }))
      }
      let terminated = 0
      await Promise.all(workers.map((worker, w) => new Promise((resolve, reject) => {
        worker.on('error', reject)
        worker.on('exit', resolve)
        worker.on('message', (m) => {
          if (m === 'halfway' && w % 2 === 0) { terminated++; worker.terminate() }
          if (m === 'done') worker.terminate()
        })
      })))
      return terminated
    }
    // glibc keeps a malloc arena and a cached stack for threads that have
    // exited, and V8 keeps a pool of heap pages; later threads reuse them.
    // Two rounds fill those caches (Node 26 needs the second), so the count
    // below measures what one more round leaves behind.
    // A worker's 'exit' event can come before its environment is torn down
    // (Bun): let teardown finish before counting.
    const settled = () => new Promise((resolve) => setTimeout(resolve, 250))
    await round(10000)
    await round(10000)
    await settled()
    const before = mappingCount()
    const reservedBefore = binding.reserved().kept
    const terminated = await round(10000)
    await settled()
    const after = mappingCount()
    const reserved = binding.reserved().kept - reservedBefore
    process.stdout.write(`      ${terminated} of 8 terminated midway; mappings before ${before}, after ${after}; ranges kept reserved: ${reserved}\n`)
    assert.strictEqual(terminated, 4)
    assert.strictEqual(mappingsOf(file, 0), 0)
    // Nothing was moved to another thread: nothing stays reserved, but for
    // (Node 22+) a mapping of at most 64 KiB made in the turn in which its
    // worker was terminated, which teardown cannot classify (docs/lifetime.md).
    assert.ok(reserved <= (hasTransfer && runtime === 'node' ? 8 : 0), `${reserved} ranges reserved`)
    // Thread teardown moves the total by a few dozen either way.
    if (!sanitized && isLinux) assert.ok(after - before <= 8 + 40, `before ${before}, after ${after}`)
  })

  // qemu-user keeps a record per guest page it maps: 4 GiB there.
  const workerFile = Math.min(emulated ? 2 ** 32 : 2 ** 40, MAX_LENGTH)
  it(`20 workers that end holding mappings of a ${workerFile >= 2 ** 40 ? '1 TiB' : `${workerFile / 2 ** 30} GiB`} file (exiting, or terminated while they run) give every range back; a Buffer transfer()red out stays reserved`, function () {
    const file = tmpFile('')
    fs.truncateSync(file, workerFile)
    const r = fixture('worker-exit.js', [file, '20', hasTransfer ? 'escape' : ''])
    process.stdout.write(`      address space grew by ${r.grewBy === null ? '(not counted here)' : `${(r.grewBy / 2 ** 30).toFixed(1)} GiB`}; ${r.kept} range kept (${(r.keptBytes / 2 ** 30).toFixed(0)} GiB)\n`)
    assert.strictEqual(r.failed, 0)
    assert.strictEqual(r.last, 'ok')
    // Only the one that escaped stays reserved: kept for the life of the
    // process, or on Deno (whose finalizer comes when it really is let go
    // of, on the thread that holds it) a placeholder until then.
    if (runtime === 'deno') assert.strictEqual(r.kept, 0)
    else assert.strictEqual(r.kept, hasTransfer ? 1 : 0)
    if (hasTransfer) {
      assert.strictEqual(r.escapedLength, r.size)
      assert.strictEqual(r.escapedReads, 0) // a placeholder once its thread ended
    }
    // 60 mappings of the file were live when their threads ended.
    if (r.grewBy !== null && !sanitized) assert.ok(r.grewBy < (hasTransfer ? 2 : 1) * r.size, `grew by ${r.grewBy}`)
  })

  it('an addon loaded only by a worker stays loaded after it ends: a SharedArrayBuffer it made is finalized in this thread, and a second copy\'s SIGBUS handler stays callable', function () {
    if (!isLinux || emulated) skip(this, '/proc/self/maps and SIGBUS, not emulated')
    const file = tmpFile(Buffer.alloc(64 * 1024, 0x61))
    const sab = fixture('addon-unloaded.js', ['sab', file], { flags: runtimeFlags(['--expose-gc']) })
    if (sab.read === null) process.stdout.write('      (no SharedArrayBuffer mappings in this runtime: that half skipped)\n')
    else assert.deepStrictEqual(sab, { read: 0x61, stillLoaded: true })
    // Bun refuses to detach a Buffer that zlib holds, and Deno's zlib does not
    // read it on a threadpool: the second half is Node's case.
    if (runtime !== 'node') return
    const fifo = path.join(scratch, `unloaded-fifo-${Date.now()}`)
    require('child_process').execFileSync('mkfifo', [fifo])
    const guard = fixture('addon-unloaded.js', ['guard', tmpFile(binding.deferMaxSpan), secondCopy(), fifo], { env: { UV_THREADPOOL_SIZE: '1' } })
    assert.strictEqual(guard.copyUnloaded, false)
    assert.strictEqual(guard.caught, 1) // this copy's guard turned the fault into zeros
    assert.strictEqual(guard.err, null)
    assert.strictEqual(guard.deflated, true)
  })

  it('threads that map and unmap while others allocate big blocks: no address range is given back twice (Windows has no atomic placeholder)', function () {
    // On Windows, unmap() swaps the view for a placeholder in two steps, and
    // another thread may take the range in between (here the heap, for a
    // 512 KiB Buffer). That range is then not ours: releasing it later as a
    // placeholder freed the other thread's memory, and the process crashed.
    const file = tmpFile(Buffer.alloc(1 << 16, 7))
    const out = assertChildOk(runChild(`
      const { Worker } = require('worker_threads')
      const src = \`
        const { workerData: w, parentPort } = require('worker_threads')
        const mmap = require(w.root), fs = require('fs')
        const end = Date.now() + 2000
        let n = 0
        if (w.kind === 'map') {
          const fd = fs.openSync(w.file, 'r')
          const unmapped = []
          while (Date.now() < end) {
            const b = mmap.map(1 << 16, mmap.PROT_READ, mmap.MAP_SHARED, fd)
            if (b[100] !== 7) throw new Error('the mapping reads ' + b[100])
            mmap.unmap(b)
            unmapped.push(b) // their placeholders stay until these go
            if (unmapped.length > 64) unmapped.length = 0
            n++
          }
          fs.closeSync(fd)
        } else {
          while (Date.now() < end) {
            const blocks = []
            for (let i = 0; i < 8; i++) blocks.push(Buffer.allocUnsafeSlow(1 << 19).fill(i))
            blocks.forEach((b, i) => { if (b[4096] !== i || b[b.length - 1] !== i) throw new Error('a heap block changed') })
            n++
          }
        }
        parentPort.postMessage(n)\`
      const counts = { map: 0, alloc: 0 }
      let left = 4
      for (const kind of ['map', 'alloc', 'map', 'alloc']) {
        const worker = new Worker(src, { eval: true, workerData: { root: ${JSON.stringify(root)}, file: ${JSON.stringify(file)}, kind } })
        worker.on('message', (n) => { counts[kind] += n })
        worker.on('error', (e) => { console.error(e); process.exitCode = 1 })
        worker.on('exit', () => { if (--left === 0) console.log(JSON.stringify(counts)) })
      }
    `, { timeout: 60000 }))
    const counts = JSON.parse(out)
    process.stdout.write(`      ${counts.map} maps and unmaps, ${counts.alloc * 8} blocks of 512 KiB, in 2 threads each\n`)
    assert.ok(counts.map > 0 && counts.alloc > 0, out)
  })
})

describe('hazards (in child processes)', function () {
  it('writing to a PROT_READ mapping kills the process with SIGSEGV', function () {
    const file = tmpFile(PAGESIZE)
    const r = runChild(`
      const mmap = require('mmap-io'), fs = require('fs')
      const b = mmap.map(${PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fs.openSync(${JSON.stringify(file)}, 'r'))
      b[0] = 1
    `)
    assertCrashed(r, 'SIGSEGV')
  })

  it('touching a page past the end of a file truncated under a MAP_SHARED mapping raises SIGBUS', function () {
    if (isWindows) {
      // Windows refuses to truncate a mapped file instead.
      const file = tmpFile(4 * PAGESIZE)
      const fd = openFd(file, 'r+')
      const b = mmap.map(4 * PAGESIZE, PROT_READ, MAP_SHARED, fd)
      assert.throws(() => fs.ftruncateSync(fd, PAGESIZE), (err) => typeof err.code === 'string')
      assert.strictEqual(b[3 * PAGESIZE], (3 * PAGESIZE) % 251)
      mmap.unmap(b)
      fs.ftruncateSync(fd, PAGESIZE)
      closeFds()
      return
    }
    // Also once the fault guard is installed (by an unmap() whose release
    // waits in a batch, lib/binding.guarded() counts what it catches): it
    // catches faults in released ranges only, and passes this one on.
    for (const guard of [false, true]) {
      const file = tmpFile(4 * PAGESIZE) // on the scratch disk (ext4 here), not tmpfs
      const r = runChild(`
        const mmap = require('mmap-io'), fs = require('fs')
        const fd = fs.openSync(${JSON.stringify(file)}, 'r+')
        if (${guard}) mmap.unmap(mmap.map(${PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fd))
        const b = mmap.map(${4 * PAGESIZE}, mmap.PROT_READ, mmap.MAP_SHARED, fd)
        console.log(b[3 * ${PAGESIZE}])
        fs.ftruncateSync(fd, ${PAGESIZE})
        console.log(b[0])
        console.log(b[3 * ${PAGESIZE}])
      `)
      assert.strictEqual(r.signal, 'SIGBUS', `guard ${guard}: ${r.stderr}`)
      assert.deepStrictEqual(r.stdout.trim().split('\n'), [String((3 * PAGESIZE) % 251), '0'])
    }
  })
})
