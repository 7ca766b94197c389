import { expectType, expectError, expectAssignable } from 'tsd'
import mmap = require('../..')

const fd = 3
const buf = mmap.map(4096, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd)
expectType<mmap.MappedBuffer>(buf)
expectType<mmap.MappedBuffer>(mmap.map(4096n, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0n, mmap.MADV_RANDOM))
expectType<mmap.MappedBuffer>(mmap.map(4096, mmap.PROT_READ, mmap.MAP_SHARED, fd, 4096))
expectError(mmap.map('4096', mmap.PROT_READ, mmap.MAP_SHARED, fd))
expectError(mmap.map(4096, mmap.PROT_READ, mmap.MAP_SHARED))
expectError(mmap.map(4096, 'r', mmap.MAP_SHARED, fd))
expectError(mmap.map(4096, mmap.PROT_READ, mmap.MAP_SHARED, fd, '0'))

expectType<mmap.MappedBuffer>(mmap.open('file.bin'))
expectType<mmap.MappedBuffer>(mmap.open(Buffer.from('file.bin'), { mode: 'w+', size: 1n << 20n }))
expectType<mmap.MappedBuffer>(mmap.open(new URL('file:///tmp/x'), { offset: 10, length: 20, private: true, populate: true, advice: mmap.MADV_SEQUENTIAL }))
expectError(mmap.open('file.bin', { mode: 'w' }))
expectError(mmap.open('file.bin', { offset: '1' }))
expectError(mmap.open(42))

expectType<void>(mmap.unmap(buf))
expectType<void>(mmap.unmap(new Float64Array(buf.buffer)))
expectType<void>(mmap.unmap(new DataView(buf.buffer)))
expectError(mmap.unmap(buf.buffer))
expectError(mmap.unmap())

expectType<void>(mmap.advise(buf, mmap.MADV_WILLNEED))
expectType<void>(mmap.advise(buf, 0, 4096, mmap.MADV_DONTNEED))
expectError(mmap.advise(buf, 0, 4096))
expectError(mmap.advise(buf, 'normal'))

expectType<void>(mmap.sync(buf))
expectType<void>(mmap.sync(buf, true))
expectType<void>(mmap.sync(buf, true, true))
expectType<void>(mmap.sync(buf, 0))
expectType<void>(mmap.sync(buf, 0, 4096, false, true))
expectType<void>(mmap.sync(buf, 0n, 4096n))
expectError(mmap.sync(buf, 'yes'))
expectError(mmap.sync(buf, 0, 4096, 'yes'))

expectType<[number, number]>(mmap.incore(buf))
expectType<[number, number]>(mmap.incore(buf, 0, 4096))
expectType<Uint8Array>(mmap.residency(buf, 4096))
expectError(mmap.residency(buf, '0'))

expectType<void>(mmap.lock(buf))
expectType<void>(mmap.unlock(buf, 0, 4096))
expectType<void>(mmap.protect(buf, mmap.PROT_READ))
expectType<void>(mmap.protect(buf, mmap.PROT_READ, 0, 4096))
expectError(mmap.protect(buf))

expectType<Promise<void>>(mmap.promises.sync(buf))
expectType<Promise<void>>(mmap.promises.sync(buf, { invalidate: true }))
expectType<Promise<void>>(mmap.promises.sync(buf, 0, 4096, { invalidate: false }))
expectType<Promise<void>>(mmap.promises.prefetch(buf, 0, 4096))
expectType<Promise<Uint8Array>>(mmap.promises.residency(buf))
expectError(mmap.promises.sync(buf, { invalidate: 1 }))
expectError(mmap.promises.prefetch('buf'))

expectType<number>(mmap.PAGESIZE)
expectType<number>(mmap.ALLOCATIONGRANULARITY)
expectType<number | undefined>(mmap.MAP_POPULATE)
expectType<number | undefined>(mmap.MADV_POPULATE_READ)
expectType<boolean>(mmap.features.populateRead)
expectAssignable<mmap.OpenOptions>({ mode: 'r+' })
expectError(mmap.PAGESIZE = 1)
expectType<void>(mmap.fadvise(3, 0, 0, mmap.POSIX_FADV_DONTNEED as number))
expectError(mmap.fadvise(3, 0, 0))

// SharedArrayBuffer mappings and named shared memory.
const shared = mmap.open('file.bin', { sharedArrayBuffer: true })
expectType<mmap.SharedBuffer>(shared)
expectType<SharedArrayBuffer>(shared.buffer)
expectAssignable<Buffer>(shared)
expectType<mmap.SharedBuffer>(mmap.map(4096, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0, 0, { sharedArrayBuffer: true }))
expectType<mmap.MappedBuffer>(mmap.map(4096, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0, 0, { sharedArrayBuffer: false }))
expectType<mmap.MappedBuffer>(mmap.open('file.bin', { sharedArrayBuffer: false }))
expectError(mmap.open('file.bin', { sharedArrayBuffer: 'yes' }))
expectType<boolean>(mmap.features.sharedArrayBuffer)
expectType<mmap.MappedBuffer>(mmap.shm.create('name', 4096))
expectType<mmap.MappedBuffer>(mmap.shm.create('name', 4096n, { exclusive: false }))
expectType<mmap.SharedBuffer>(mmap.shm.create('name', 4096, { sharedArrayBuffer: true }))
expectType<mmap.MappedBuffer>(mmap.shm.open('name', { readOnly: true }))
expectType<mmap.SharedBuffer>(mmap.shm.open('name', { sharedArrayBuffer: true }))
expectType<number>(mmap.shm.size('name'))
expectType<void>(mmap.shm.remove('name'))
expectError(mmap.shm.create('name'))
expectError(mmap.shm.open(42))

// remap
expectType<mmap.MappedBuffer>(mmap.remap(buf, 8192))
expectType<mmap.MappedBuffer>(mmap.remap(buf, 8192n, { grow: true }))
expectType<mmap.MappedBuffer>(mmap.remap(buf, 8192, { fd: 3, grow: false }))
expectError(mmap.remap(buf))
expectError(mmap.remap(buf, '8192'))
expectError(mmap.remap(buf, 8192, { grow: 'yes' }))

// 1.x call forms: null for optional arguments, msync() flags for blocking.
expectType<mmap.MappedBuffer>(mmap.map(4096, mmap.PROT_READ, mmap.MAP_SHARED, fd, null, null))
expectType<void>(mmap.sync(buf, null, null, true))
expectType<void>(mmap.sync(buf, 0, 4096, mmap.MS_SYNC | mmap.MS_INVALIDATE))
expectType<void>(mmap.sync(buf, mmap.MS_ASYNC === 1))
// A number in second place is an offset, not msync() flags.
expectType<void>(mmap.sync(buf, 4096))
expectError(mmap.sync(buf, mmap.MS_SYNC, true))
expectError(mmap.sync(buf, 4096, 0, 'yes'))
expectError(mmap.sync(buf, 0, 4096, 'yes'))
expectType<[number, number]>(mmap.incore(buf, null, null))

// Constants every supported platform has are numbers; Linux-only ones may be undefined.
expectType<number>(mmap.MAP_ANONYMOUS)
expectType<number | undefined>(mmap.MADV_COLD)
expectType<number | undefined>(mmap.MAP_SHARED_VALIDATE)
expectType<number | undefined>(mmap.POSIX_FADV_DONTNEED)

// System errors: a guard narrows unknown, no cast needed.
try {
  mmap.open('missing')
} catch (err) {
  expectType<unknown>(err)
  if (mmap.isSystemError(err)) {
    expectType<mmap.SystemError>(err)
    expectType<string>(err.code)
    expectType<number>(err.errno)
    expectType<string>(err.syscall)
    expectType<string | undefined>(err.path)
  }
}

// Explicit resource management: `using` unmaps at the end of the block,
// `await using` flushes (promises.sync), then unmaps.
expectType<void>(buf[Symbol.dispose]())
expectType<Promise<void>>(buf[Symbol.asyncDispose]())
expectAssignable<Disposable>(mmap.open('file.bin'))
expectAssignable<AsyncDisposable>(mmap.shm.open('name'))
expectAssignable<Disposable>(mmap.open('file.bin', { sharedArrayBuffer: true }))
expectAssignable<Buffer>(mmap.remap(buf, 8192))
function usingBlock (): number {
  using mapped = mmap.open('file.bin')
  return mapped.readUInt32LE(0)
}
async function awaitUsingBlock (): Promise<void> {
  await using log = mmap.open('log.bin', { mode: 'r+' })
  log.writeUInt32LE(1, 0)
}
expectType<number>(usingBlock())
expectType<Promise<void>>(awaitUsingBlock())
// A subarray is a plain Buffer: not disposable.
expectError<Disposable>(buf.subarray(0, 10))

// @riaskov/mmap-io's 7th argument: a Windows mapping name.
expectType<mmap.MappedBuffer>(mmap.map(4096, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0, 0, 'Local\\name'))
expectError(mmap.map(4096, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0, 0, 42))
