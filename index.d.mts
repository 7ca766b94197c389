// Types for the ES module entry: the same declarations as index.d.ts.
import mmap from './index.js'

export default mmap

export type { MappedView, MappedBuffer, Integer, OpenOptions, MapOptions, SyncOptions, Features, SharedBuffer, ShmCreateOptions, ShmOpenOptions, RemapOptions, SystemError } from './index.js'

export declare const map: typeof mmap.map
export declare const unmap: typeof mmap.unmap
export declare const open: typeof mmap.open
export declare const remap: typeof mmap.remap
export declare const advise: typeof mmap.advise
export declare const sync: typeof mmap.sync
export declare const incore: typeof mmap.incore
export declare const residency: typeof mmap.residency
export declare const lock: typeof mmap.lock
export declare const unlock: typeof mmap.unlock
export declare const protect: typeof mmap.protect
export declare const fadvise: typeof mmap.fadvise
export declare const promises: typeof mmap.promises
export declare const shm: typeof mmap.shm
export declare const features: typeof mmap.features
export declare const isSystemError: typeof mmap.isSystemError
export declare const PROT_READ: typeof mmap.PROT_READ
export declare const PROT_WRITE: typeof mmap.PROT_WRITE
export declare const PROT_EXEC: typeof mmap.PROT_EXEC
export declare const PROT_NONE: typeof mmap.PROT_NONE
export declare const MAP_SHARED: typeof mmap.MAP_SHARED
export declare const MAP_PRIVATE: typeof mmap.MAP_PRIVATE
export declare const MAP_NONBLOCK: typeof mmap.MAP_NONBLOCK
export declare const MAP_POPULATE: typeof mmap.MAP_POPULATE
export declare const MAP_ANONYMOUS: typeof mmap.MAP_ANONYMOUS
export declare const MAP_NORESERVE: typeof mmap.MAP_NORESERVE
export declare const MAP_HUGETLB: typeof mmap.MAP_HUGETLB
export declare const MAP_LOCKED: typeof mmap.MAP_LOCKED
export declare const MAP_SHARED_VALIDATE: typeof mmap.MAP_SHARED_VALIDATE
export declare const MAP_SYNC: typeof mmap.MAP_SYNC
export declare const MAP_DENYWRITE: typeof mmap.MAP_DENYWRITE
export declare const MAP_EXECUTABLE: typeof mmap.MAP_EXECUTABLE
export declare const MAP_FILE: typeof mmap.MAP_FILE
export declare const MAP_STACK: typeof mmap.MAP_STACK
export declare const MAP_32BIT: typeof mmap.MAP_32BIT
export declare const MADV_NORMAL: typeof mmap.MADV_NORMAL
export declare const MADV_RANDOM: typeof mmap.MADV_RANDOM
export declare const MADV_SEQUENTIAL: typeof mmap.MADV_SEQUENTIAL
export declare const MADV_WILLNEED: typeof mmap.MADV_WILLNEED
export declare const MADV_DONTNEED: typeof mmap.MADV_DONTNEED
export declare const MADV_HUGEPAGE: typeof mmap.MADV_HUGEPAGE
export declare const MADV_NOHUGEPAGE: typeof mmap.MADV_NOHUGEPAGE
export declare const MADV_DONTFORK: typeof mmap.MADV_DONTFORK
export declare const MADV_DOFORK: typeof mmap.MADV_DOFORK
export declare const MADV_DONTDUMP: typeof mmap.MADV_DONTDUMP
export declare const MADV_DODUMP: typeof mmap.MADV_DODUMP
export declare const MADV_FREE: typeof mmap.MADV_FREE
export declare const MADV_REMOVE: typeof mmap.MADV_REMOVE
export declare const MADV_POPULATE_READ: typeof mmap.MADV_POPULATE_READ
export declare const MADV_POPULATE_WRITE: typeof mmap.MADV_POPULATE_WRITE
export declare const MADV_MERGEABLE: typeof mmap.MADV_MERGEABLE
export declare const MADV_UNMERGEABLE: typeof mmap.MADV_UNMERGEABLE
export declare const MADV_WIPEONFORK: typeof mmap.MADV_WIPEONFORK
export declare const MADV_KEEPONFORK: typeof mmap.MADV_KEEPONFORK
export declare const MADV_COLD: typeof mmap.MADV_COLD
export declare const MADV_PAGEOUT: typeof mmap.MADV_PAGEOUT
export declare const MADV_DONTNEED_LOCKED: typeof mmap.MADV_DONTNEED_LOCKED
export declare const MADV_COLLAPSE: typeof mmap.MADV_COLLAPSE
export declare const MS_ASYNC: typeof mmap.MS_ASYNC
export declare const MS_SYNC: typeof mmap.MS_SYNC
export declare const MS_INVALIDATE: typeof mmap.MS_INVALIDATE
export declare const POSIX_FADV_NORMAL: typeof mmap.POSIX_FADV_NORMAL
export declare const POSIX_FADV_SEQUENTIAL: typeof mmap.POSIX_FADV_SEQUENTIAL
export declare const POSIX_FADV_RANDOM: typeof mmap.POSIX_FADV_RANDOM
export declare const POSIX_FADV_NOREUSE: typeof mmap.POSIX_FADV_NOREUSE
export declare const POSIX_FADV_WILLNEED: typeof mmap.POSIX_FADV_WILLNEED
export declare const POSIX_FADV_DONTNEED: typeof mmap.POSIX_FADV_DONTNEED
export declare const PAGESIZE: typeof mmap.PAGESIZE
export declare const ALLOCATIONGRANULARITY: typeof mmap.ALLOCATIONGRANULARITY
