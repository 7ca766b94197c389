'use strict'
// Argument errors in the shape and wording of Node's own (lib/internal/errors.js),
// and the validators that throw them. Nothing here touches the addon.

const { inspect, getSystemErrorMap } = require('util')

function nodeError (Base, code, message) {
  const err = new Base(message)
  err.code = code
  // Node prints "TypeError [ERR_X]: ..." in stacks; do the same.
  err.name = `${Base.name} [${code}]`
  err.stack // eslint-disable-line no-unused-expressions -- captures the name
  delete err.name
  return err
}

// What Node's messages say after "Received".
function describe (value) {
  if (value == null) return String(value)
  if (typeof value === 'function') return `function ${value.name}`
  if (typeof value === 'object') {
    if (value.constructor && value.constructor.name) {
      return `an instance of ${value.constructor.name}`
    }
    return inspect(value, { depth: -1 })
  }
  let shown = inspect(value, { colors: false })
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`
  return `type ${typeof value} (${shown})`
}

function withSeparators (digits) {
  let out = ''
  let i = digits.length
  const first = digits[0] === '-' ? 1 : 0
  for (; i >= first + 4; i -= 3) out = `_${digits.slice(i - 3, i)}${out}`
  return `${digits.slice(0, i)}${out}`
}

function received (value) {
  if (Number.isInteger(value) && Math.abs(value) > 2 ** 32) {
    return withSeparators(String(value))
  }
  if (typeof value === 'bigint') {
    const s = String(value)
    return `${value > 2n ** 32n || value < -(2n ** 32n) ? withSeparators(s) : s}n`
  }
  return inspect(value)
}

// Node says "property" for a name with a dot in it ("options.size").
const kind = (name) => name.includes('.') ? 'property' : 'argument'

function invalidArgType (name, expected, value) {
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
    `The "${name}" ${kind(name)} must be ${expected}. Received ${describe(value)}`)
}

function outOfRange (name, range, value) {
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${received(value)}`)
}

function invalidArgValue (name, reason, value) {
  let shown = inspect(value)
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE',
    `The ${kind(name)} '${name}' ${reason}. Received ${shown}`)
}

// The number Node gives a system error `code` (util.getSystemErrorName
// maps it back), on every platform.
let errnos
function errnoOf (code) {
  if (errnos === undefined) {
    errnos = new Map()
    for (const [errno, [name]] of getSystemErrorMap()) errnos.set(name, errno)
  }
  return errnos.get(code)
}

// An fs-style system error: "<CODE>: <description>, <syscall> '<path>'".
function systemError (code, syscall, path, description) {
  const err = new Error(`${code}: ${description}, ${syscall} '${path}'`)
  err.errno = errnoOf(code)
  err.code = code
  err.syscall = syscall
  err.path = path
  return err
}

// The path that open() mapped now names another file (ERR_INVALID_STATE, as
// Node names an operation that the state of things refuses).
function fileReplaced (path, cause) {
  const err = nodeError(Error, 'ERR_INVALID_STATE',
    `Invalid state: '${path}' is no longer the file this mapping maps (renamed, removed or replaced since open()); pass options.fd, a descriptor of the mapped file`)
  err.path = path
  if (cause !== undefined) err.cause = cause
  return err
}

// An integer given as a number or a BigInt, between min and max (numbers),
// returned as a number.
function toInteger (value, name, min, max) {
  if (typeof value === 'bigint') {
    if (value < BigInt(min) || value > BigInt(max)) {
      throw outOfRange(name, `>= ${min} && <= ${max}`, value)
    }
    return Number(value)
  }
  if (typeof value !== 'number') {
    throw invalidArgType(name, 'one of type number or bigint', value)
  }
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value)
  if (value < min || value > max) {
    throw outOfRange(name, `>= ${min} && <= ${max}`, value)
  }
  return value
}

// A plain integer (no BigInt), as Node's validateInteger.
function validateInteger (value, name, min, max) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value)
  if (value < min || value > max) {
    throw outOfRange(name, `>= ${min} && <= ${max}`, value)
  }
  return value
}

function validateBoolean (value, name) {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value)
  return value
}

function validateObject (value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgType(name, 'of type object', value)
  }
  return value
}

function validateView (value, name) {
  if (!ArrayBuffer.isView(value)) {
    throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', value)
  }
  return value
}

// What fs.Stats says a file is, for errors about one that cannot be mapped
// (open() and the mmap-io command).
function fileKind (st) {
  if (st.isDirectory()) return 'a directory'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  return 'not a regular file'
}

// A file longer than one Buffer can hold, named as Node's fs.readFile names
// it (ERR_FS_FILE_TOO_LARGE), with what to do instead.
function fileTooLarge (path, size, max) {
  const err = nodeError(RangeError, 'ERR_FS_FILE_TOO_LARGE',
    `File size (${size}) is greater than a Buffer can hold here (buffer.constants.MAX_LENGTH, ${max}): ` +
    'map it in pieces with open(path, { offset, length })' +
    (max < 2 ** 33 ? ', or use Node 22 or later, where a Buffer can be up to 2^53 - 1 bytes' : ''))
  err.path = path
  return err
}

module.exports = {
  fileKind,
  fileReplaced,
  fileTooLarge,
  invalidArgType,
  invalidArgValue,
  outOfRange,
  systemError,
  toInteger,
  validateInteger,
  validateBoolean,
  validateObject,
  validateView
}
