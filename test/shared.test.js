'use strict'
// Sharing one mapping across threads (SharedArrayBuffer mappings, where the
// runtime has node_api_create_external_sharedarraybuffer) and across
// processes (named shared memory, everywhere).
const assert = require('assert')
const fs = require('fs')
const path = require('path')
const mmap = require('..')
const { tmpFile, runChild, runScript, assertChildOk, sanitized, isLinux, isWindows, skip, root, scriptArgs, runtime } = require('./helpers')

const { PAGESIZE: P } = mmap
const J = JSON.stringify
const hasShared = mmap.features.sharedArrayBuffer
const needShared = (ctx) => {
  if (!hasShared) skip(ctx, `SharedArrayBuffer mappings need node_api_create_external_sharedarraybuffer (Node 22.23+, 24.21+, 26, Bun; this is ${runtime} ${process.version})`)
}
let shmNames = 0
const shmName = () => `mmapio-test-${process.pid}-${shmNames++}`

describe('SharedArrayBuffer mappings', function () {
  it('where the runtime lacks them: features says so and asking throws a clear error', function () {
    if (hasShared) skip(this, `this runtime has them (${runtime} ${process.version})`)
    const file = tmpFile(P)
    const err = { code: 'ERR_MMAP_IO_SHARED_ARRAYBUFFER_UNAVAILABLE', message: /node_api_create_external_sharedarraybuffer.*Node 22\.23\+, 24\.21\+ and 26/ }
    assert.strictEqual(mmap.features.sharedArrayBuffer, false)
    assert.throws(() => mmap.open(file, { sharedArrayBuffer: true }), err)
    assert.throws(() => mmap.map(P, mmap.PROT_READ, mmap.MAP_SHARED, fs.openSync(file, 'r'), 0, 0, { sharedArrayBuffer: true }), err)
    assert.throws(() => mmap.shm.create(shmName(), P, { sharedArrayBuffer: true }), err)
  })

  it('open() and map() return a Buffer over a SharedArrayBuffer that every function takes', async function () {
    needShared(this)
    const file = tmpFile(Buffer.alloc(4 * P, 1))
    const buf = mmap.open(file, { mode: 'r+', offset: 100, sharedArrayBuffer: true })
    assert.ok(Buffer.isBuffer(buf))
    assert.ok(buf.buffer instanceof SharedArrayBuffer)
    assert.strictEqual(buf.length, 4 * P - 100)
    buf.fill(7)
    mmap.sync(buf, true)
    assert.ok(fs.readFileSync(file).subarray(100).every((x) => x === 7))
    mmap.advise(buf, mmap.MADV_WILLNEED)
    assert.deepStrictEqual(mmap.incore(buf), [0, 4])
    assert.strictEqual(mmap.residency(buf).length, 4)
    await mmap.promises.sync(buf)
    await mmap.promises.prefetch(buf)
    assert.strictEqual((await mmap.promises.residency(buf)).length, 4)
    mmap.protect(buf.subarray(P - 100), mmap.PROT_READ, 0, P)
    mmap.protect(buf.subarray(P - 100), mmap.PROT_READ | mmap.PROT_WRITE, 0, P)
    const fd = fs.openSync(file, 'r')
    const mapped = mmap.map(P, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0, 0, { sharedArrayBuffer: true })
    fs.closeSync(fd)
    assert.ok(mapped.buffer instanceof SharedArrayBuffer)
    assert.strictEqual(mapped[200], 7)
    mmap.unmap(mapped)
    mmap.unmap(buf)
  })

  it('unmap() releases the file at once; every view keeps its length and reads zeros; a second unmap() does nothing', function () {
    needShared(this)
    const file = tmpFile(Buffer.alloc(2 * P, 9))
    const buf = mmap.open(file, { mode: 'r+', sharedArrayBuffer: true })
    const view = new Uint32Array(buf.buffer)
    mmap.unmap(buf)
    assert.strictEqual(buf.length, 2 * P) // a SharedArrayBuffer cannot be detached
    assert.strictEqual(buf[0], 0)
    buf[0] = 5 // goes nowhere near the file
    assert.strictEqual(fs.readFileSync(file)[0], 9)
    mmap.unmap(view)
    assert.throws(() => mmap.sync(buf), { code: 'ERR_INVALID_ARG_VALUE' })
    if (isLinux) assert.strictEqual(fs.readFileSync('/proc/self/maps', 'utf8').split(file).length - 1, 0)
  })

  it('8 worker threads add 1,000,000 times with Atomics over one mapping: the file holds the exact total, and the mapping goes with the last thread', function () {
    needShared(this)
    const file = tmpFile(Buffer.alloc(P))
    const out = assertChildOk(runChild(`
      const mmap = require('mmap-io'), fs = require('fs'), { Worker } = require('worker_threads')
      const maps = () => fs.readFileSync('/proc/self/maps', 'utf8')
      const count = () => ${isLinux} ? maps().split('\\n').length : 0
      const ofFile = () => ${isLinux} ? maps().split(${J(file)}).length - 1 : 0
      // Warm up the worker machinery (glibc keeps arenas and stacks of ended
      // threads, V8 pages) so that the count measures mappings.
      const warm = () => Promise.all(Array.from({ length: 8 }, () => new Promise((resolve) =>
        new Worker('const a = []; for (let i = 0; i < 100000; i++) a.push({ i })', { eval: true }).on('exit', resolve))))
      ;(async () => {
        await warm()
        await warm()
        const before = count()
        let buf = mmap.open(${J(file)}, { mode: 'r+', sharedArrayBuffer: true })
        await Promise.all(Array.from({ length: 8 }, () => new Promise((resolve, reject) => {
          const w = new Worker(\`
            const { parentPort } = require('worker_threads'), mmap = require(${J(root)})
            parentPort.once('message', (buf) => {
              const counters = new Int32Array(buf.buffer, 0, 8)
              for (let i = 0; i < 125000; i++) Atomics.add(counters, i % 8, 1)
              mmap.sync(buf, true) // any thread may call it
              parentPort.postMessage('done')
            })
          \`, { eval: true })
          w.on('message', () => w.terminate())
          w.on('error', reject)
          w.on('exit', resolve)
          w.postMessage(buf) // shares the pages, copies nothing
        })))
        mmap.sync(buf, true)
        const bytes = fs.readFileSync(${J(file)})
        let inFile = 0
        for (let i = 0; i < 8; i++) inFile += bytes.readInt32LE(4 * i)
        const during = ofFile()
        buf = null
        for (let i = 0; i < 50 && ofFile() > 0; i++) { gc(); await new Promise((resolve) => setTimeout(resolve, 20)) }
        console.log(JSON.stringify({ inFile, during, after: ofFile(), before, end: count() }))
      })()
    `, { args: ['--expose-gc'] }))
    const r = JSON.parse(out)
    process.stdout.write(`      total ${r.inFile}; mappings before ${r.before}, after ${r.end}\n`)
    assert.strictEqual(r.inFile, 1000000)
    if (isLinux) {
      assert.strictEqual(r.during, 1)
      assert.strictEqual(r.after, 0)
      // No growth (the count may shrink as glibc trims what ended threads left).
      if (!sanitized) assert.ok(r.end - r.before <= 16, out)
    }
  })

  it('unmap() in one thread while another calls lock(), sync() and incore() on its views: they act on a placeholder or are refused, never on freed memory', function () {
    needShared(this)
    const r = runScript(path.join(root, 'test', 'fixtures', 'sab-unmap-race.js'), [root, '1500'], { timeout: 120000 })
    const out = JSON.parse(assertChildOk(r))
    assert.ok(out.rounds > 0)
  })

  it('promises.* and every other function accept its views in a worker', async function () {
    needShared(this)
    const { Worker } = require('worker_threads')
    const file = tmpFile(Buffer.alloc(2 * P, 3))
    const buf = mmap.open(file, { mode: 'r+', sharedArrayBuffer: true })
    const worker = new Worker(`
      const { parentPort } = require('worker_threads'), mmap = require(${J(root)})
      parentPort.once('message', async (buf) => {
        buf[0] = 4
        await mmap.promises.sync(buf)
        await mmap.promises.prefetch(buf)
        const r = await mmap.promises.residency(buf)
        mmap.advise(buf, mmap.MADV_NORMAL)
        parentPort.postMessage([r.length, mmap.incore(buf)[0] + mmap.incore(buf)[1]])
      })
    `, { eval: true })
    worker.postMessage(buf)
    const answer = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject) })
    await worker.terminate()
    assert.deepStrictEqual(answer, [2, 2])
    assert.strictEqual(fs.readFileSync(file)[0], 4)
    mmap.unmap(buf)
  })

  it('the ring-buffer example: a producer and a worker consumer with Atomics.wait/notify', function () {
    needShared(this)
    const r = require('child_process').spawnSync(process.execPath, scriptArgs(path.join(root, 'examples', 'ring-buffer.js'), ['100000']),
      { cwd: root, encoding: 'utf8', timeout: 120000 })
    assert.strictEqual(r.signal, null, r.stderr)
    assert.strictEqual(r.status, 0, r.stderr)
    process.stdout.write(`      ${r.stdout.trim()}\n`)
    assert.match(r.stdout, /^100000 messages through a 64 KiB ring, checksum ok/)
  })
})

describe('named shared memory (shm)', function () {
  it('create, open, size, remove, with clear errors', function () {
    const name = shmName()
    const a = mmap.shm.create(name, 10000)
    assert.ok(Buffer.isBuffer(a))
    assert.strictEqual(a.length, isWindows ? 12288 : 10000) // Windows: whole pages
    a.write('named')
    assert.strictEqual(mmap.shm.size(name), a.length)
    assert.throws(() => mmap.shm.create(name, 100), { code: 'EEXIST', syscall: isWindows ? 'CreateFileMapping' : 'shm_open', path: name })
    const same = mmap.shm.create(name, 100, { exclusive: false }) // opens it as it is
    assert.strictEqual(same.toString('utf8', 0, 5), 'named')
    const b = mmap.shm.open(name)
    assert.strictEqual(b.toString('utf8', 0, 5), 'named')
    b[5] = 0x21
    assert.strictEqual(a[5], 0x21) // the same memory
    mmap.sync(b)
    mmap.advise(b, mmap.MADV_WILLNEED)
    assert.strictEqual(mmap.incore(b).length, 2)
    const ro = mmap.shm.open(name, { readOnly: true })
    assert.strictEqual(ro[5], 0x21)
    mmap.shm.remove(name)
    if (!isWindows) {
      // The name is gone; the memory lives on in the mappings of it.
      assert.throws(() => mmap.shm.open(name), { code: 'ENOENT', path: name, message: `ENOENT: no such file or directory, shm_open '${name}'` })
      assert.throws(() => mmap.shm.remove(name), { code: 'ENOENT' })
      assert.throws(() => mmap.shm.size(name), { code: 'ENOENT' })
    }
    assert.strictEqual(a[5], 0x21)
    for (const buf of [a, b, same, ro]) mmap.unmap(buf)
    if (isWindows) assert.throws(() => mmap.shm.open(name), { code: 'ENOENT' }) // gone with its last view
  })

  it('validates names, sizes and options before any system call', function () {
    const cases = [
      [() => mmap.shm.create('', 10), 'ERR_INVALID_ARG_VALUE'],
      [() => mmap.shm.create('a/b', 10), 'ERR_INVALID_ARG_VALUE'],
      [() => mmap.shm.create('.hidden', 10), 'ERR_INVALID_ARG_VALUE'],
      [() => mmap.shm.create('x'.repeat(201), 10), 'ERR_INVALID_ARG_VALUE'],
      [() => mmap.shm.create(42, 10), 'ERR_INVALID_ARG_TYPE'],
      [() => mmap.shm.create(shmName(), 0), 'ERR_OUT_OF_RANGE'],
      [() => mmap.shm.create(shmName(), '10'), 'ERR_INVALID_ARG_TYPE'],
      [() => mmap.shm.create(shmName(), 10, { exclusive: 1 }), 'ERR_INVALID_ARG_TYPE'],
      [() => mmap.shm.open(shmName(), { readOnly: 'yes' }), 'ERR_INVALID_ARG_TYPE'],
      [() => mmap.shm.open(shmName(), 'r'), 'ERR_INVALID_ARG_TYPE'],
      [() => mmap.shm.size('a b'), 'ERR_INVALID_ARG_VALUE'],
      [() => mmap.shm.remove(null), 'ERR_INVALID_ARG_TYPE']
    ]
    for (const [fn, code] of cases) assert.throws(fn, { code })
  })

  it('a FIFO, directory or symbolic link planted in /dev/shm under the name is refused at once, never waited on', function () {
    if (!isLinux) skip(this, 'POSIX shared memory lives in /dev/shm on Linux')
    const fifo = shmName()
    const dir = shmName()
    const link = shmName()
    require('child_process').execFileSync('mkfifo', [`/dev/shm/${fifo}`])
    fs.mkdirSync(`/dev/shm/${dir}`)
    fs.symlinkSync('/etc/passwd', `/dev/shm/${link}`)
    try {
      const r = runScript(path.join(root, 'test', 'fixtures', 'shm-planted.js'), [root, fifo, dir, link], { timeout: 30000 })
      const out = JSON.parse(assertChildOk(r))
      for (const call of ['open', 'openReadOnly', 'create', 'size']) {
        assert.strictEqual(out[`${fifo} ${call}`], 'ENODEV shm_open true', call)
        assert.strictEqual(out[`${dir} ${call}`], 'EISDIR shm_open true', call)
        assert.strictEqual(out[`${link} ${call}`], 'ELOOP shm_open true', call)
      }
    } finally {
      fs.rmSync(`/dev/shm/${fifo}`, { force: true })
      fs.rmSync(`/dev/shm/${dir}`, { recursive: true, force: true })
      fs.rmSync(`/dev/shm/${link}`, { force: true })
    }
  })

  it('memory larger than a Buffer can hold is ERR_FS_FILE_TOO_LARGE with the name, as open() gives for such a file', function () {
    const { constants: { MAX_LENGTH } } = require('buffer')
    if (!isLinux) skip(this, 'a file planted in /dev/shm')
    if (MAX_LENGTH > 2 ** 40) skip(this, `a Buffer holds up to ${MAX_LENGTH} bytes here: more than /dev/shm takes`)
    const name = shmName()
    fs.writeFileSync(`/dev/shm/${name}`, '')
    try {
      fs.truncateSync(`/dev/shm/${name}`, MAX_LENGTH + P)
      for (const fn of [() => mmap.shm.open(name), () => mmap.shm.create(name, P, { exclusive: false })]) {
        assert.throws(fn, { name: 'RangeError', code: 'ERR_FS_FILE_TOO_LARGE', path: name, message: new RegExp(`File size \\(${MAX_LENGTH + P}\\)`) })
      }
    } finally {
      fs.rmSync(`/dev/shm/${name}`, { force: true })
    }
  })

  it('a parent and 4 child processes count exactly with Atomics in named shared memory', function () {
    const r = require('child_process').spawnSync(process.execPath, scriptArgs(path.join(root, 'examples', 'shm-counters.js'), ['100000']),
      { cwd: root, encoding: 'utf8', timeout: 120000 })
    assert.strictEqual(r.signal, null, r.stderr)
    assert.strictEqual(r.status, 0, r.stderr)
    process.stdout.write(`      ${r.stdout.trim().split('\n').pop()}\n`)
    assert.match(r.stdout, /total 500000 of 500000; removed/)
  })

  it('as a SharedArrayBuffer, shared with a worker', async function () {
    needShared(this)
    const { Worker } = require('worker_threads')
    const name = shmName()
    const buf = mmap.shm.create(name, P, { sharedArrayBuffer: true })
    assert.ok(buf.buffer instanceof SharedArrayBuffer)
    const worker = new Worker(`
      const { parentPort } = require('worker_threads')
      parentPort.once('message', (buf) => { Atomics.store(new Int32Array(buf.buffer), 1, 42); parentPort.postMessage('ok') })
    `, { eval: true })
    worker.postMessage(buf)
    await new Promise((resolve) => worker.once('message', resolve))
    await worker.terminate()
    const other = mmap.shm.open(name) // and from this process by name
    assert.strictEqual(other.readInt32LE(4), 42)
    mmap.shm.remove(name)
    mmap.unmap(other)
    mmap.unmap(buf)
  })
})
