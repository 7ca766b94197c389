'use strict'
// The public API: shapes and validates arguments, then calls the addon.
// Every argument error is thrown here, before any system call; the addon
// throws only system errors and "not a live mapping".

const fs = require('fs')
const path = require('path')
const { fileURLToPath } = require('url')
const { constants: { MAX_LENGTH } } = require('buffer')
const binding = require('node-gyp-build')(path.join(__dirname, '..'))
const {
  invalidArgType,
  invalidArgValue,
  outOfRange,
  toInteger,
  validateInteger,
  validateBoolean,
  validateObject,
  validateView
} = require('./errors')

const C = binding.constants
const { PAGESIZE, ALLOCATIONGRANULARITY } = C
const MAX_OFFSET = Number.MAX_SAFE_INTEGER
const INT32_MAX = 2 ** 31 - 1

const PROT_MASK = C.PROT_READ | C.PROT_WRITE | C.PROT_EXEC
const MAP_KIND = C.MAP_SHARED | C.MAP_PRIVATE
const namesOf = (prefix) => Object.keys(C).filter((name) => name.startsWith(prefix))
// Every MAP_* flag this platform exports may be combined with one kind.
const MAP_MASK = namesOf('MAP_').reduce((mask, name) => mask | C[name], 0)
const ADVICE = new Set(namesOf('MADV_').map((name) => C[name]))
// Advice that throws data away: only page-aligned ranges inside the view.
const DESTRUCTIVE = new Set(['MADV_DONTNEED', 'MADV_FREE', 'MADV_REMOVE']
  .filter((name) => name in C)
  .map((name) => C[name]))

function validateAdvice (advice, name) {
  validateInteger(advice, name, -(2 ** 31), INT32_MAX)
  if (!ADVICE.has(advice)) {
    throw invalidArgValue(name, 'must be one of the MADV_* constants', advice)
  }
  return advice
}

function validateProtection (protection, name) {
  validateInteger(protection, name, 0, INT32_MAX)
  if ((protection & ~PROT_MASK) !== 0) {
    throw invalidArgValue(name,
      'must be PROT_NONE or a combination of PROT_READ, PROT_WRITE and PROT_EXEC',
      protection)
  }
  return protection
}

// Zero-length Buffers that open() returns for empty files: every function
// accepts them and does nothing.
const emptyFiles = new WeakSet()
const isEmptyFile = (view) => lengthOf(view) === 0 && emptyFiles.has(view.buffer)

// Byte length of a view; a DataView's byteLength throws once its
// ArrayBuffer is detached.
const lengthOf = (view) => view.buffer.byteLength === 0 ? 0 : view.byteLength

// [offset, length] of a range inside `view`, in bytes; length defaults to
// the rest of the view.
function range (view, offset, length) {
  const size = lengthOf(view)
  const from = offset === undefined ? 0 : toInteger(offset, 'offset', 0, size)
  const len = length === undefined
    ? size - from
    : toInteger(length, 'length', 0, size - from)
  return [from, len]
}

// Calls that change whole pages (discarding advice, protect) must not reach
// bytes outside the view: the range must start on a page and end on one, or
// at the end of the mapping.
function checkWholePages (view, from, len, offset, what) {
  const start = view.byteOffset + from
  const end = start + len
  if (start % PAGESIZE !== 0 || (end % PAGESIZE !== 0 && end !== view.buffer.byteLength)) {
    throw outOfRange('offset',
      `page-aligned, with a length in whole pages, for ${what}`,
      offset === undefined ? 0 : offset)
  }
}

function map (size, protection, flags, fd, offset = 0, advise = 0) {
  const len = toInteger(size, 'size', 1, MAX_LENGTH)
  validateProtection(protection, 'protection')
  validateInteger(flags, 'flags', 0, INT32_MAX)
  const kind = flags & MAP_KIND
  if ((flags & ~MAP_MASK) !== 0 || (kind !== C.MAP_SHARED && kind !== C.MAP_PRIVATE)) {
    throw invalidArgValue('flags',
      'must be MAP_SHARED or MAP_PRIVATE, optionally combined with other MAP_* constants',
      flags)
  }
  const anonymous = C.MAP_ANONYMOUS !== undefined && (flags & C.MAP_ANONYMOUS) !== 0
  // Anonymous memory takes fd -1; a file, a descriptor.
  validateInteger(fd, 'fd', anonymous ? -1 : 0, anonymous ? -1 : INT32_MAX)
  const off = toInteger(offset, 'offset', 0, anonymous ? 0 : MAX_OFFSET)
  if (off % ALLOCATIONGRANULARITY !== 0) {
    throw outOfRange('offset', `a multiple of ${ALLOCATIONGRANULARITY}`, offset)
  }
  validateAdvice(advise, 'advise')
  return binding.map(len, protection, flags, fd, off, advise)
}

function unmap (buffer) {
  validateView(buffer, 'buffer')
  if (!isEmptyFile(buffer)) binding.unmap(buffer)
}

// advise(buffer, advice) or advise(buffer, offset, length, advice)
function advise (buffer, offset, length, advice) {
  validateView(buffer, 'buffer')
  if (arguments.length <= 2) {
    advice = offset
    offset = length = undefined
  }
  const [from, len] = range(buffer, offset, length)
  validateAdvice(advice, 'advice')
  if (DESTRUCTIVE.has(advice)) checkWholePages(buffer, from, len, offset, 'advice that discards data')
  if (!isEmptyFile(buffer)) binding.advise(buffer, from, len, advice)
}

// sync(buffer), sync(buffer, blocking[, invalidate]) or
// sync(buffer, offset[, length[, blocking[, invalidate]]])
function sync (buffer, offset, length, blocking = false, invalidate = false) {
  validateView(buffer, 'buffer')
  if (typeof offset === 'boolean') {
    invalidate = length === undefined ? false : length
    blocking = offset
    offset = length = undefined
  }
  const [from, len] = range(buffer, offset, length)
  validateBoolean(blocking, 'blocking')
  validateBoolean(invalidate, 'invalidate')
  if (!isEmptyFile(buffer)) binding.sync(buffer, from, len, blocking, invalidate)
}

// incore(buffer[, offset[, length]]) -> [unmappedPages, mappedPages]
function incore (buffer, offset, length) {
  validateView(buffer, 'buffer')
  const [from, len] = range(buffer, offset, length)
  return isEmptyFile(buffer) ? [0, 0] : binding.incore(buffer, from, len)
}

// residency(buffer[, offset[, length]]) -> Uint8Array, 1 per resident page
function residency (buffer, offset, length) {
  validateView(buffer, 'buffer')
  const [from, len] = range(buffer, offset, length)
  return isEmptyFile(buffer) ? new Uint8Array(0) : binding.residency(buffer, from, len)
}

function lock (buffer, offset, length) {
  validateView(buffer, 'buffer')
  const [from, len] = range(buffer, offset, length)
  if (!isEmptyFile(buffer)) binding.lock(buffer, from, len)
}

function unlock (buffer, offset, length) {
  validateView(buffer, 'buffer')
  const [from, len] = range(buffer, offset, length)
  if (!isEmptyFile(buffer)) binding.unlock(buffer, from, len)
}

// protect(buffer, protection[, offset[, length]])
function protect (buffer, protection, offset, length) {
  validateView(buffer, 'buffer')
  validateProtection(protection, 'protection')
  const [from, len] = range(buffer, offset, length)
  checkWholePages(buffer, from, len, offset, 'protect()')
  if (!isEmptyFile(buffer)) binding.protect(buffer, from, len, protection)
}

// Reads one byte of each page; the sum goes to a module variable so that the
// reads cannot be optimized away.
let touched = 0
function touchPages (buf) {
  let sum = touched
  for (let i = 0; i < buf.length; i += PAGESIZE) sum = (sum + buf[i]) | 0
  return sum
}

const FADVICE = new Set(namesOf('POSIX_FADV_').map((name) => C[name]))

// fadvise(fd, offset, length, advice): posix_fadvise on an open file. length
// 0 means to the end of the file.
function fadvise (fd, offset, length, advice) {
  validateInteger(fd, 'fd', 0, INT32_MAX)
  const off = toInteger(offset, 'offset', 0, MAX_OFFSET)
  const len = toInteger(length, 'length', 0, MAX_OFFSET)
  validateInteger(advice, 'advice', -(2 ** 31), INT32_MAX)
  if (FADVICE.size > 0 && !FADVICE.has(advice)) {
    throw invalidArgValue('advice', 'must be one of the POSIX_FADV_* constants', advice)
  }
  binding.fadvise(fd, off, len, advice)
}

const OPEN_MODES = {
  r: fs.constants.O_RDONLY,
  'r+': fs.constants.O_RDWR,
  'w+': fs.constants.O_RDWR | fs.constants.O_CREAT
}

// open(path[, { mode, size, offset, length, private, populate, advice }])
function open (file, options = {}) {
  if (file instanceof Uint8Array) {
    // fs takes a Buffer path; an empty (or unmapped) one is no path at all.
    if (lengthOf(file) === 0) throw invalidArgValue('path', 'must be a non-empty string, Buffer or URL', file)
  } else if (typeof file !== 'string' && !(file instanceof URL)) {
    throw invalidArgType('path', 'of type string or an instance of Buffer or URL', file)
  }
  validateObject(options, 'options')
  const mode = options.mode === undefined ? 'r' : options.mode
  if (!Object.hasOwn(OPEN_MODES, mode)) {
    throw invalidArgValue('options.mode', "must be one of: 'r', 'r+', 'w+'", mode)
  }
  let size
  if (mode === 'w+') {
    if (options.size === undefined) throw invalidArgType('options.size', 'one of type number or bigint', undefined)
    size = toInteger(options.size, 'options.size', 1, MAX_OFFSET)
  } else if (options.size !== undefined) {
    throw invalidArgValue('options.size', "is only for mode 'w+'", options.size)
  }
  const offset = options.offset === undefined ? 0 : toInteger(options.offset, 'options.offset', 0, MAX_OFFSET)
  const priv = options.private === undefined ? false : validateBoolean(options.private, 'options.private')
  const populate = options.populate === undefined ? false : validateBoolean(options.populate, 'options.populate')
  const advice = options.advice === undefined ? 0 : validateAdvice(options.advice, 'options.advice')
  if (options.length !== undefined) toInteger(options.length, 'options.length', 0, MAX_OFFSET)

  const fd = fs.openSync(file, OPEN_MODES[mode], 0o666)
  try {
    let fileSize = fs.fstatSync(fd).size
    // 'w+' grows the file to `size`; it never shrinks one (a file shrunk
    // under a mapping raises SIGBUS).
    if (mode === 'w+' && fileSize < size) {
      fs.ftruncateSync(fd, size)
      fileSize = size
    }
    if (offset > fileSize) {
      throw outOfRange('options.offset', `<= the file's size (${fileSize})`, options.offset)
    }
    const length = options.length === undefined
      ? fileSize - offset
      : toInteger(options.length, 'options.length', 0, fileSize - offset)
    if (length === 0) {
      const empty = Buffer.from(new ArrayBuffer(0))
      emptyFiles.add(empty.buffer)
      return empty
    }
    // Map from the granularity boundary below offset; hand out the view at
    // the byte asked for.
    const delta = offset % ALLOCATIONGRANULARITY
    if (delta + length > MAX_LENGTH) {
      throw outOfRange('options.length', `<= ${MAX_LENGTH - delta} (buffer.constants.MAX_LENGTH)`, length)
    }
    let flags = priv ? C.MAP_PRIVATE : C.MAP_SHARED
    if (populate && C.MAP_POPULATE !== undefined) flags |= C.MAP_POPULATE
    // A private mapping is copy-on-write, so writable even on a read-only file.
    const prot = mode === 'r' && !priv ? C.PROT_READ : C.PROT_READ | C.PROT_WRITE
    let buf
    try {
      buf = binding.map(delta + length, prot, flags, fd, offset - delta, advice)
    } catch (err) {
      if (err.syscall) {
        err.path = file instanceof URL ? fileURLToPath(file) : String(file)
        err.message += ` '${err.path}'`
      }
      throw err
    }
    // Without MAP_POPULATE (Windows), fault the pages in by reading one byte
    // of each: the file is at least this long, so no page is past its end.
    if (populate && C.MAP_POPULATE === undefined) touched = touchPages(buf)
    return delta === 0 ? buf : buf.subarray(delta)
  } finally {
    fs.closeSync(fd)
  }
}

// Promise-returning functions whose system calls run on the libuv
// threadpool. The mapping stays mapped until they settle, even if unmap()
// is called meanwhile.

// Splits (offset, length, options) where options may come at any position.
function rangeAndOptions (args) {
  const positional = []
  let options = {}
  for (const arg of args) {
    if (arg !== null && typeof arg === 'object') {
      options = arg
      break
    }
    positional.push(arg)
  }
  return [positional[0], positional[1], options]
}

const promises = {
  // sync(buffer[, offset, length][, { invalidate }])
  async sync (buffer, ...rest) {
    validateView(buffer, 'buffer')
    const [offset, length, options] = rangeAndOptions(rest)
    const [from, len] = range(buffer, offset, length)
    const invalidate = options.invalidate === undefined
      ? false
      : validateBoolean(options.invalidate, 'options.invalidate')
    if (!isEmptyFile(buffer)) await binding.syncAsync(buffer, from, len, invalidate)
  },

  // prefetch(buffer[, offset, length])
  async prefetch (buffer, offset, length) {
    validateView(buffer, 'buffer')
    const [from, len] = range(buffer, offset, length)
    if (!isEmptyFile(buffer)) await binding.prefetchAsync(buffer, from, len)
  },

  // residency(buffer[, offset, length]) -> Uint8Array
  async residency (buffer, offset, length) {
    validateView(buffer, 'buffer')
    const [from, len] = range(buffer, offset, length)
    return isEmptyFile(buffer) ? new Uint8Array(0) : binding.residencyAsync(buffer, from, len)
  }
}
Object.freeze(promises)

module.exports = {
  map,
  unmap,
  open,
  advise,
  sync,
  incore,
  residency,
  lock,
  unlock,
  protect,
  fadvise,
  promises,
  features: Object.freeze({ ...binding.features })
}

for (const name of Object.keys(C)) {
  Object.defineProperty(module.exports, name, {
    value: C[name],
    enumerable: true,
    writable: false,
    configurable: false
  })
}
