// ES module entry: the same object as require('mmap-io'), plus named exports.
import mmap from './index.js'

export default mmap
export const {
  map, unmap, advise, sync, incore,
  PROT_READ, PROT_WRITE, PROT_EXEC, PROT_NONE,
  MAP_SHARED, MAP_PRIVATE, MAP_NONBLOCK, MAP_POPULATE,
  MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
  PAGESIZE, ALLOCATIONGRANULARITY
} = mmap
