'use strict'
// Faults in a mapping (issue 21): explained by default, survivable on
// request; faults that are not ours untouched. Each case runs in a child
// process (test/fixtures/fault.js), since most end it.
const assert = require('assert')
const path = require('path')
const mmap = require('..')
const {
  tmpFile, runScript, assertChildOk, assertCrashed, isWindows, skip, scriptArgs, secondCopy, emulated, jumper
} = require('./helpers')

const { PAGESIZE: P } = mmap
const root = path.join(__dirname, '..')
const fixture = path.join(root, 'test', 'fixtures', 'fault.js')
const truncator = JSON.stringify([process.execPath, ...scriptArgs(path.join(root, 'test', 'fixtures', 'truncate.js'))])

function run (scenario, extra = []) {
  const file = tmpFile(4 * P)
  const r = runScript(fixture, [root, scenario, file, truncator, ...extra], { timeout: 120000 })
  return { ...r, file }
}
const json = (r) => assertChildOk(r).trim().split('\n').map((line) => JSON.parse(line))
// The one line mmap-io writes before the process ends.
const explanation = (r) => r.stderr.split(/\r?\n/).find((line) => line.startsWith('mmap-io: '))
// Under qemu-user a signal handler does not learn the access
// (qemuGaps.faultInfo): what mmap-io says then.
const on = (access) => emulated ? 'an access' : `a ${access}`
const shorter = (size) => `the file is now ${size} bytes, shorter than the mapping (truncated while mapped)`
function record (signal, reason, access, offset, index, size) {
  const r = { signal, reason, access: emulated ? 'unknown' : access, offset, index }
  if (size !== undefined) r.size = size
  return r
}

describe('faults', function () {
  describe('explained by default: the process ends as before, with one line on stderr', function () {
    it('a read past the end of a file another process truncated: SIGBUS, the file, the offsets, "truncated"', function () {
      if (isWindows) skip(this, 'Windows refuses to truncate a mapped file')
      const r = run('truncated')
      assertCrashed(r, 'SIGBUS')
      assert.deepStrictEqual(JSON.parse(r.stdout.split('\n')[0]), { before: (3 * P + 5) % 251 })
      assert.strictEqual(explanation(r),
        `mmap-io: SIGBUS on ${on('read')} at offset ${3 * P + 5} of '${r.file}' (index ${3 * P + 5} of the Buffer): ${shorter(P)}`)
    })

    it('a write to a mapping open()ed with the default mode: SIGSEGV, "read-only", mode \'r+\'', function () {
      const r = run('read-only')
      assertCrashed(r, 'SIGSEGV')
      assert.strictEqual(explanation(r),
        `mmap-io: ${isWindows ? 'EXCEPTION_ACCESS_VIOLATION' : 'SIGSEGV'} on ${on('write')} at offset 5 of '${r.file}' (index 5 of the Buffer): ` +
        'the mapping is read-only (open it with mode \'r+\')')
    })

    it('a read of a page protect()ed with PROT_NONE: SIGSEGV, "protect()"', function () {
      const r = run('protected')
      assertCrashed(r, 'SIGSEGV')
      assert.match(explanation(r), new RegExp(`on ${on('read')} at offset ${P + 1} of .* protect\\(\\) took that access away$`))
    })

    it('a mapping made by map() is named by its descriptor', function () {
      if (isWindows) skip(this, 'Windows refuses to truncate a mapped file')
      const r = run('fd')
      assertCrashed(r, 'SIGBUS')
      assert.match(explanation(r), new RegExp(`^mmap-io: SIGBUS on ${on('read')} at offset ${2 * P} of fd \\d+ \\(index ${2 * P} of the Buffer\\): ${shorter(P).replace(/[()?]/g, '\\$&')}$`))
    })

    it('shared memory opened read-only is named', function () {
      const r = run('shm-read-only')
      assertCrashed(r, 'SIGSEGV')
      assert.match(explanation(r), /of shared memory 'mmap-io-fault-\d+' \(index 0 of the Buffer\): the shared memory was opened read-only$/)
    })

    it('SIGBUS sent with kill() still ends the process, and is not explained', function () {
      if (isWindows) skip(this, 'no SIGBUS on Windows')
      const r = run('kill')
      assertCrashed(r, 'SIGBUS')
      assert.strictEqual(explanation(r), undefined, r.stderr)
    })

    it('with two copies of the addon, a fault in the first copy\'s mapping is explained through the second copy\'s handler', function () {
      if (isWindows) skip(this, 'Windows refuses to truncate a mapped file')
      const r = run('two-copies', [secondCopy()])
      assertCrashed(r, 'SIGBUS')
      assert.match(explanation(r), new RegExp(`offset ${3 * P} of '${r.file}' .*truncated while mapped`))
    })
  })

  describe('faults that are not ours', function () {
    it('a jump into readable, writable memory (the heap, or an anonymous mapping under onFault: \'zero\') still ends the process, once', function () {
      if (isWindows) skip(this, 'the test addon is built with cc')
      const heap = run('jump', [jumper(), 'heap'])
      assertCrashed(heap, 'SIGSEGV')
      assert.strictEqual(explanation(heap), undefined, heap.stderr)
      const own = run('jump', [jumper(), 'mapping'])
      assertCrashed(own, 'SIGSEGV')
      const lines = own.stderr.split('\n').filter((line) => line.startsWith('mmap-io: '))
      assert.strictEqual(lines.length, 1, own.stderr.slice(0, 2000))
      assert.match(lines[0], new RegExp(`^mmap-io: SIGSEGV on ${emulated ? 'an access' : 'an instruction fetch'} at anonymous memory \\(index 0 of the Buffer\\): the mapping's protection does not allow this access$`))
    })

    it('a WebAssembly out-of-bounds access after mmap-io is loaded is still a RuntimeError', function () {
      const [r] = json(run('wasm'))
      assert.deepStrictEqual(r, { ok: 0, error: 'RuntimeError', first: 0 })
    })
  })

  describe("survived with onFault: 'zero'", function () {
    before(function () {
      if (!mmap.features.faultZero) skip(this, 'Windows cannot replace part of a view: faults are explained, not survived')
    })

    it('reads past the new end see zeros, writes there reach no file, and every call but unmap() throws ERR_MMAP_IO_FAULT', function () {
      const r = run('zero')
      const [out] = json(r)
      const D = 100 // the Buffer starts at offset 100 of the file
      assert.deepStrictEqual(out.reads, [D, 0, 0, (P - 1) % 251])
      assert.strictEqual(out.wrote, 9)
      assert.deepStrictEqual(out.sync, {
        code: 'ERR_MMAP_IO_FAULT',
        path: r.file,
        ...record('SIGBUS', 'truncated', 'read', 3 * P + D, 3 * P, P),
        faults: 3,
        message: `SIGBUS on ${on('read')} at offset ${3 * P + D} of '${r.file}' (index ${3 * P} of the Buffer): ${shorter(P)}; ` +
          "from that page to the end, the mapping reads as zeros (onFault: 'zero'). The mapping no longer mirrors the file, " +
          'and refuses every call but unmap()'
      })
      assert.deepStrictEqual(out.refused, ['ERR_MMAP_IO_FAULT', 'ERR_MMAP_IO_FAULT', 'ERR_MMAP_IO_FAULT', 'ERR_MMAP_IO_FAULT'])
      assert.strictEqual(out.rejected, 'ERR_MMAP_IO_FAULT')
      assert.deepStrictEqual(out.faults, [
        record('SIGBUS', 'truncated', 'read', 3 * P + D, 3 * P, P),
        record('SIGBUS', 'truncated', 'read', 2 * P, 2 * P - D, P),
        record('SIGSEGV', 'read-only', 'write', 3 * P + D, 3 * P)
      ])
      // unmap() releases it (the views are emptied), then throws the fault.
      assert.strictEqual(out.unmap.code, 'ERR_MMAP_IO_FAULT')
      assert.strictEqual(out.length, 0)
      assert.strictEqual(out.size, P) // the file keeps its new size
      assert.strictEqual(out.content, (P - 1) % 251)
      assert.strictEqual(r.stderr, '')
    })

    it("setFaultPolicy('zero') for mappings made afterwards: a write to a read-only page lands in a private copy, never the file", function () {
      const r = run('zero-default')
      const [out] = json(r)
      assert.deepStrictEqual(out.reads, [0, 0, 0])
      assert.deepStrictEqual(out.copy, [200, 2])
      assert.deepStrictEqual(out.faults, [
        record('SIGBUS', 'truncated', 'read', 2 * P, 2 * P, 2 * P),
        record('SIGSEGV', 'read-only', 'write', 1, 1)
      ])
      assert.deepStrictEqual(out.other, []) // onFault: 'explain' there, and no fault
      assert.strictEqual(out.file, 1)
      assert.strictEqual(out.sync.code, 'ERR_MMAP_IO_FAULT')
      assert.strictEqual(out.sync.fd, out.fd)
      assert.strictEqual(out.sync.path, undefined)
    })

    for (const copies of [1, 2]) {
      it(`private copies are charged to the mapping budget${copies === 2 ? ', by two copies of the package on stale readings' : ''}: past its ceiling a write is explained, and the process never nears the kernel's limit @slow`, function () {
        if (process.platform !== 'linux' || emulated) skip(this, '/proc/self/maps and vm.max_map_count')
        const limit = Number(require('fs').readFileSync('/proc/sys/vm/max_map_count', 'utf8'))
        // One copy: more copies than the kernel allows. Two: each well under
        // the ceiling, both together past it.
        const pages = copies === 1 ? Math.ceil(limit / 2) + 2000 : Math.ceil(limit / 4) - 2000
        const args = [root, tmpFile(), String(pages), ...(copies === 2 ? [secondCopy(), tmpFile()] : [])]
        const r = runScript(path.join(root, 'test', 'fixtures', 'zero-budget.js'), args, { timeout: 120000 })
        const counts = r.stdout.trim().split('\n').filter((line) => line !== 'done').map(Number)
        process.stdout.write(`      ${counts.length * 1000} writes; at most ${Math.max(...counts)} of ${limit} mappings\n`)
        assert.strictEqual(r.signal, 'SIGSEGV', r.stderr)
        assert.match(explanation(r), /^mmap-io: SIGSEGV on a write/)
        assert.ok(Math.max(...counts) <= limit / 2 + 2100, counts.join(' ')) // the ceiling, and one step
      })
    }

    it('a protect() that took nothing away (or failed) leaves a write to a read-only page survivable, as "read-only"', function () {
      const [out] = json(run('protect-noop'))
      assert.strictEqual(out.refused, 'EACCES')
      assert.strictEqual(out.wrote, 7)
      assert.deepStrictEqual(out.faults, [record('SIGSEGV', 'read-only', 'write', 3 * P, 3 * P)])
      assert.strictEqual(out.file, (3 * P) % 251)
    })

    it('a write to a read-only page past the new end lands in a zero-filled private copy (no fault inside the handler: Deno\'s signal stack is 8 KiB)', function () {
      const [out] = json(run('write-past-end'))
      assert.strictEqual(out.wrote, 5)
      const copy = record('SIGSEGV', 'read-only', 'write', 2 * P + 1, 2 * P + 1)
      // qemu-user refuses process_vm_readv: the copy reads the page itself.
      assert.deepStrictEqual(out.faults, emulated ? [record('SIGBUS', 'truncated', 'read', 2 * P, 2 * P, P), copy] : [copy])
      assert.strictEqual(out.size, P)
    })

    it('a write to a mapping without read access is explained, not copied', function () {
      const r = run('no-access')
      assertCrashed(r, 'SIGSEGV')
      assert.match(explanation(r), new RegExp(`on ${on('write')} at anonymous memory \\(index 10 of the Buffer\\): the mapping's protection does not allow this access$`))
    })

    it('4 workers scan a mapping while another process shrinks and regrows the file 40 times: all live', function () {
      this.timeout(120000)
      const [out] = json(run('workers'))
      assert.strictEqual(out.results.length, 4)
      const faults = out.results.reduce((n, w) => n + w.faults, 0)
      for (const w of out.results) {
        assert.ok(w.passes > 0)
        assert.strictEqual(w.refused, w.faults > 0 ? 'ERR_MMAP_IO_FAULT' : null)
      }
      assert.strictEqual(out.size, 64 * P)
      process.stdout.write(`      ${out.results.map((w) => `${w.passes} passes, ${w.faults} faults`).join('; ')}\n`)
      assert.ok(faults > 0, 'no worker faulted: the test proved nothing')
    })
  })

  describe('arguments', function () {
    it("onFault and setFaultPolicy() take 'explain' or 'zero', checked before anything is done", function () {
      const file = tmpFile(P)
      for (const bad of ['Zero', 1, true, {}]) {
        assert.throws(() => mmap.open(file, { onFault: bad }), { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' })
        assert.throws(() => mmap.map(P, mmap.PROT_READ, mmap.MAP_SHARED, 0, 0, 0, { onFault: bad }), { code: 'ERR_INVALID_ARG_VALUE' })
        assert.throws(() => mmap.shm.create('never-made', P, { onFault: bad }), { code: 'ERR_INVALID_ARG_VALUE' })
        assert.throws(() => mmap.setFaultPolicy(bad), { code: 'ERR_INVALID_ARG_VALUE' })
      }
      assert.throws(() => mmap.shm.size('never-made'), { code: 'ENOENT' })
      assert.throws(() => mmap.faults({}), { code: 'ERR_INVALID_ARG_TYPE' })
      assert.throws(() => mmap.faults(Buffer.alloc(4)), { code: 'ERR_INVALID_ARG_VALUE' })
    })

    it('a mapping that saw no fault lists none, and works', function () {
      const b = mmap.open(tmpFile(P), { onFault: 'zero' })
      assert.deepStrictEqual(mmap.faults(b), [])
      mmap.sync(b)
      mmap.unmap(b)
    })
  })
})
