// ES module entry: the same object as require('mmap-io'), plus named exports.
// A constant the platform does not define is undefined here.
import mmap from './index.js'

export default mmap
export const {
  map, unmap, open, remap, advise, sync, incore, residency, lock, unlock, protect, fadvise,
  promises, shm, features,
  PROT_READ, PROT_WRITE, PROT_EXEC, PROT_NONE,
  MAP_SHARED, MAP_PRIVATE, MAP_NONBLOCK, MAP_POPULATE, MAP_ANONYMOUS,
  MAP_NORESERVE, MAP_HUGETLB, MAP_LOCKED,
  MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
  MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTFORK, MADV_DOFORK, MADV_DONTDUMP,
  MADV_DODUMP, MADV_FREE, MADV_REMOVE, MADV_POPULATE_READ, MADV_POPULATE_WRITE,
  MS_ASYNC, MS_SYNC, MS_INVALIDATE,
  POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM, POSIX_FADV_NOREUSE,
  POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,
  PAGESIZE, ALLOCATIONGRANULARITY
} = mmap
