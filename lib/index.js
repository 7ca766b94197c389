'use strict'
// The public API: shapes and validates arguments, then calls the addon.
// Every argument error is thrown here, before any system call; the addon
// throws only system errors and "not a live mapping".

const path = require('path')
const { constants: { MAX_LENGTH } } = require('buffer')
const binding = require('node-gyp-build')(path.join(__dirname, '..'))
const {
  invalidArgValue,
  outOfRange,
  toInteger,
  validateInteger,
  validateBoolean,
  validateView
} = require('./errors')

const C = binding.constants
const { PAGESIZE, ALLOCATIONGRANULARITY } = C
const MAX_OFFSET = Number.MAX_SAFE_INTEGER

const PROT_MASK = C.PROT_READ | C.PROT_WRITE | C.PROT_EXEC
const MAP_KIND = C.MAP_SHARED | C.MAP_PRIVATE
// Every MAP_* flag this platform exports may be combined with one kind.
const MAP_MASK = Object.keys(C)
  .filter((name) => name.startsWith('MAP_'))
  .reduce((mask, name) => mask | C[name], 0)
const ADVICE = new Set(Object.keys(C)
  .filter((name) => name.startsWith('MADV_'))
  .map((name) => C[name]))
// Advice that throws data away: only page-aligned ranges inside the view.
const DESTRUCTIVE = new Set(['MADV_DONTNEED', 'MADV_FREE', 'MADV_REMOVE']
  .filter((name) => name in C)
  .map((name) => C[name]))

function validateAdvice (advice, name) {
  validateInteger(advice, name, -(2 ** 31), 2 ** 31 - 1)
  if (!ADVICE.has(advice)) {
    throw invalidArgValue(name, 'must be one of the MADV_* constants', advice)
  }
  return advice
}

// offset and length of a range inside `view`, in bytes; length defaults to
// the rest of the view.
function range (view, offset, length) {
  // A DataView's byteLength throws once its ArrayBuffer is detached.
  const size = view.buffer.byteLength === 0 ? 0 : view.byteLength
  const from = offset === undefined ? 0 : toInteger(offset, 'offset', 0, size)
  const len = length === undefined
    ? size - from
    : toInteger(length, 'length', 0, size - from)
  return [from, len]
}

function map (size, protection, flags, fd, offset = 0, advise = 0) {
  const len = toInteger(size, 'size', 1, MAX_LENGTH)
  validateInteger(protection, 'protection', 0, 2 ** 31 - 1)
  if ((protection & ~PROT_MASK) !== 0) {
    throw invalidArgValue('protection',
      'must be PROT_NONE or a combination of PROT_READ, PROT_WRITE and PROT_EXEC',
      protection)
  }
  validateInteger(flags, 'flags', 0, 2 ** 31 - 1)
  const kind = flags & MAP_KIND
  if ((flags & ~MAP_MASK) !== 0 || (kind !== C.MAP_SHARED && kind !== C.MAP_PRIVATE)) {
    throw invalidArgValue('flags',
      'must be MAP_SHARED or MAP_PRIVATE, optionally combined with other MAP_* constants',
      flags)
  }
  validateInteger(fd, 'fd', 0, 2 ** 31 - 1)
  const off = toInteger(offset, 'offset', 0, MAX_OFFSET)
  if (off % ALLOCATIONGRANULARITY !== 0) {
    throw outOfRange('offset', `a multiple of ${ALLOCATIONGRANULARITY}`, offset)
  }
  validateAdvice(advise, 'advise')
  return binding.map(len, protection, flags, fd, off, advise)
}

function unmap (buffer) {
  binding.unmap(validateView(buffer, 'buffer'))
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
  if (DESTRUCTIVE.has(advice)) {
    const start = buffer.byteOffset + from
    const end = start + len
    if (start % PAGESIZE !== 0 || (end % PAGESIZE !== 0 && end !== buffer.buffer.byteLength)) {
      throw outOfRange('offset',
        'page-aligned, with a length in whole pages, for advice that discards data',
        offset === undefined ? 0 : offset)
    }
  }
  binding.advise(buffer, from, len, advice)
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
  binding.sync(buffer, from, len, blocking, invalidate)
}

// incore(buffer[, offset[, length]]) -> [unmappedPages, mappedPages]
function incore (buffer, offset, length) {
  validateView(buffer, 'buffer')
  const [from, len] = range(buffer, offset, length)
  return binding.incore(buffer, from, len)
}

module.exports = { map, unmap, advise, sync, incore }

for (const name of Object.keys(C)) {
  Object.defineProperty(module.exports, name, {
    value: C[name],
    enumerable: true,
    writable: false,
    configurable: false
  })
}
