import { expectType, expectError } from 'tsd'
import mmap, { map, open, sync, promises, PAGESIZE, MAP_SHARED, PROT_READ, type OpenOptions } from '../../index.mjs'

expectType<typeof mmap.map>(map)
expectType<MappedBuffer>(open('x', { mode: 'r' } satisfies OpenOptions))
expectType<void>(sync(map(PAGESIZE, PROT_READ, MAP_SHARED, 3), true))
expectType<Promise<void>>(promises.prefetch(open('x')))
expectError(map('4096', PROT_READ, MAP_SHARED, 3))
import { shm, type SharedBuffer, type MappedBuffer } from '../../index.mjs'
expectType<SharedBuffer>(shm.create('name', 4096, { sharedArrayBuffer: true }))
expectType<SharedBuffer>(open('x', { sharedArrayBuffer: true }))

import { isSystemError, MADV_COLD, type SystemError } from '../../index.mjs'
expectType<number | undefined>(MADV_COLD)
const caught: unknown = new Error('x')
if (isSystemError(caught)) expectType<SystemError>(caught)
