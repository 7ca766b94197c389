'use strict'
// The public API: shapes and validates arguments, then calls the addon.
// Every argument error is thrown here, before any system call; the addon
// throws only system errors and "not a live mapping".

const fs = require('fs')
const { resolve: resolvePath } = require('path')
const { fileURLToPath } = require('url')
const { constants: { MAX_LENGTH } } = require('buffer')
const binding = require('./binding')
// A worker's end must be told apart from the process's (src/mapping.c).
const inWorker = !require('worker_threads').isMainThread
const isWindows = process.platform === 'win32'
// Explicit resource management (Node 24+, TypeScript 5.2+): every Buffer
// that map(), open(), remap() and shm return has Symbol.dispose and
// Symbol.asyncDispose as own properties, not enumerable, given by the addon
// as it makes the Buffer (here for the ones made in JavaScript).
const canDispose = typeof Symbol.dispose === 'symbol' && typeof Symbol.asyncDispose === 'symbol'
if (canDispose) binding.setup(inWorker, Symbol.dispose, disposeMapping, Symbol.asyncDispose, asyncDisposeMapping)
else binding.setup(inWorker)
const {
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
} = require('./errors')

const C = binding.constants
const { PAGESIZE, ALLOCATIONGRANULARITY } = C
const MAX_OFFSET = Number.MAX_SAFE_INTEGER
const INT32_MAX = 2 ** 31 - 1

const PROT_MASK = C.PROT_READ | C.PROT_WRITE | C.PROT_EXEC
const MAP_KIND = C.MAP_SHARED | C.MAP_PRIVATE
// MAP_SHARED_VALIDATE (Linux) is both bits: shared, with the flags checked.
const MAP_KINDS = new Set([C.MAP_SHARED, C.MAP_PRIVATE, C.MAP_SHARED_VALIDATE].filter((k) => k !== undefined))
// The same as an array indexed by flags & MAP_KIND: map() asks it each call.
const MAP_KIND_OK = Array.from({ length: MAP_KIND + 1 }, (_, kind) => MAP_KINDS.has(kind))
const namesOf = (prefix) => Object.keys(C).filter((name) => name.startsWith(prefix))
// Every MAP_* flag this platform exports may be combined with one kind.
const MAP_MASK = namesOf('MAP_').reduce((mask, name) => mask | C[name], 0)
// Flags the platform defines that map() refuses: { name: [value, reason] }.
const REFUSED_FLAGS = Object.entries(binding.refusedFlags)
// Any bit of those outside the harmless MAP_* flags: map() looks at the list
// only when flags have one.
const REFUSED_BITS = REFUSED_FLAGS.reduce((bits, [, [value]]) => bits | (value & ~MAP_MASK), 0)

// null, like undefined, stands for an optional argument's default, as in
// Node's fs.
const given = (value) => value !== undefined && value !== null
// An option's value; null is no value.
const optionOf = (options, name) => options[name] === null ? undefined : options[name]
const ADVICE = new Set(namesOf('MADV_').map((name) => C[name]))
// What each advice does to data (os.h): 0 keeps it, 1 discards private or
// anonymous data in the pages, 2 frees the file's own pages. The addon
// enforces the whole-page rule itself; open() checks it before it opens.
const ADVICE_KEEPS = 0
const ADVICE_PUNCHES = 2
const adviceKind = (advice) => binding.adviceKinds[advice] ?? ADVICE_KEEPS

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
// Where open() mapped a Buffer from, by its ArrayBuffer: remap() starts the
// new Buffer at the same byte, and finds the file to check and grow.
const origins = new WeakMap()

function emptyBuffer (shared) {
  const empty = handedOutView(Buffer.from(shared ? new SharedArrayBuffer(0) : new ArrayBuffer(0)))
  emptyFiles.add(empty.buffer)
  return empty
}
const isEmptyFile = (view) => lengthOf(view) === 0 && emptyFiles.has(view.buffer)

// Byte length of a view; a DataView's byteLength throws once its
// ArrayBuffer is detached.
const lengthOf = (view) => view.buffer.byteLength === 0 ? 0 : view.byteLength

// [offset, length] of a range inside `view`, in bytes; length defaults to
// the rest of the view.
// 1.x's positional functions (map, advise, sync, incore) read sizes,
// offsets, lengths and advice through C++ integer conversions: a fraction
// truncated toward zero and (but for the arguments it checked with
// IsNumber) a numeric string read as its number. Code that divides sizes
// relies on it, so those functions take them so; NaN, infinities,
// negatives and values out of range still throw, and every other function
// stays strict.
function as1x (value, strings = true) {
  if (strings && typeof value === 'string' && value.trim() !== '') {
    const n = Number(value)
    if (!Number.isNaN(n)) value = n
  }
  if (typeof value === 'number' && value > 0 && Number.isFinite(value)) return Math.trunc(value)
  return value
}

function range (view, offset, length, limit = lengthOf(view)) {
  const size = lengthOf(view)
  const from = given(offset) ? toInteger(offset, 'offset', 0, limit) : 0
  const len = given(length)
    ? toInteger(length, 'length', 0, limit - from)
    : Math.max(size - from, 0)
  return [from, len]
}

// advise() takes a range anywhere in the mapping's pages from the view's
// first byte, not only in the view, as 1.x did (advise(buf, 0, PAGESIZE) on
// a 100-byte mapping): to the end of the last page of the memory the view
// lies in. The addon checks it against the mapping itself.
const pagesEnd = (view) => view.buffer.byteLength === 0
  ? 0
  : Math.ceil(view.buffer.byteLength / PAGESIZE) * PAGESIZE - view.byteOffset

// The options object of a function that takes one: undefined and null are
// no options. With `known`, an own key that is not one of them (a typo such
// as `lenght`, which would otherwise be ignored) is an ERR_INVALID_ARG_VALUE
// that names it.
function optionsOf (options, name, known) {
  if (!given(options)) return {}
  validateObject(options, name)
  if (known !== undefined) {
    for (const key of Object.keys(options)) {
      if (!known.includes(key)) {
        const near = known.find((k) => k.toLowerCase() === key.toLowerCase() || nearlyEqual(k, key))
        throw invalidArgValue(`${name}.${key}`,
          `is not an option${near ? ` (did you mean '${near}'?)` : ''}; the options are: ${known.join(', ')}`,
          options[key])
      }
    }
  }
  return options
}

// Whether two names differ by one edit or one swap of neighbours.
function nearlyEqual (a, b) {
  if (Math.abs(a.length - b.length) > 1) return false
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true // one replaced
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2) // swapped
  }
  const [long, short] = a.length > b.length ? [a, b] : [b, a]
  return long.slice(i + 1) === short.slice(i) // one added
}

const OPEN_OPTIONS = ['mode', 'size', 'offset', 'length', 'private', 'populate', 'advice', 'sharedArrayBuffer', 'onFault']
const MAP_OPTIONS = ['sharedArrayBuffer', 'onFault']

// { sharedArrayBuffer }: options of map() (7th argument) and open().
function sharedOption (options, name) {
  if (!given(options)) return false
  options = optionsOf(options, name)
  const value = optionOf(options, 'sharedArrayBuffer')
  const shared = value === undefined ? false : validateBoolean(value, `${name}.sharedArrayBuffer`)
  if (shared && !binding.features.sharedArrayBuffer) throw sharedUnavailable()
  return shared
}

// What a fault in a mapping does (README, "When the file changes under
// you"): 'explain' it on stderr as the process ends, or survive it with
// 'zero' pages. The addon takes -1 (the process default), 0 or 1.
const FAULT_POLICIES = { explain: 0, zero: 1 }
function validateFaultPolicy (value, name) {
  if (!Object.hasOwn(FAULT_POLICIES, value)) throw invalidArgValue(name, "must be one of: 'explain', 'zero'", value)
  return FAULT_POLICIES[value]
}
function faultOption (options) {
  if (!given(options)) return -1
  const value = optionOf(options, 'onFault')
  return value === undefined ? -1 : validateFaultPolicy(value, 'options.onFault')
}

// setFaultPolicy(policy): the default for mappings made from now on, in
// every thread.
function setFaultPolicy (policy) {
  binding.setFaultPolicy(validateFaultPolicy(policy, 'policy'))
}

// faults(buffer) -> the faults its mapping saw: [{ signal, reason, access,
// offset, index, size }], the first 8.
function faults (buffer) {
  validateView(buffer, 'buffer')
  if (isEmptyFile(buffer)) return []
  return binding.faults(buffer)
}

function sharedUnavailable () {
  const err = new Error('SharedArrayBuffer mappings need node_api_create_external_sharedarraybuffer, ' +
    `which this runtime (${runtimeName()}) does not have: Node 22.23+, 24.21+ and 26 (and Bun) do`)
  err.code = 'ERR_MMAP_IO_SHARED_ARRAYBUFFER_UNAVAILABLE'
  return err
}

function runtimeName () {
  if (process.versions.bun) return `Bun ${process.versions.bun}`
  if (process.versions.deno) return `Deno ${process.versions.deno}`
  return `Node ${process.version}`
}

// A Buffer over a SharedArrayBuffer mapping: Buffer.from() of it is a view
// of the same memory, which postMessage shares with other threads.
const sharedBuffer = (sab, offset = 0, length = sab.byteLength - offset) =>
  handedOutView(Buffer.from(sab, offset, length))

// `using`: unmapped at the end of the block. `await using`: promises.sync()
// first (a durable flush), then unmapped, even if the flush failed. Both do
// nothing to a Buffer already unmapped. A subarray or slice is a plain
// Buffer, which `using` refuses: disposing of a part never unmaps the whole.
// Own properties rather than a prototype of our own: the Buffer's prototype
// stays Buffer.prototype, so it compares (assert.deepStrictEqual), prints
// and spreads as any Buffer does, as in 1.x.
function disposeMapping () {
  unmap(this)
}
async function asyncDisposeMapping () {
  try {
    if (lengthOf(this) !== 0) await promises.sync(this)
  } catch (err) {
    // Not a live mapping any more: a SharedArrayBuffer mapping that unmap()
    // released keeps its length (it cannot be detached); nothing to flush.
    if (err.code !== 'ERR_INVALID_ARG_VALUE') throw err
  } finally {
    unmap(this)
  }
}
const disposers = canDispose
  ? {
      [Symbol.dispose]: { value: disposeMapping, writable: true, configurable: true },
      [Symbol.asyncDispose]: { value: asyncDisposeMapping, writable: true, configurable: true }
    }
  : {}
// The Buffers made here rather than by the addon: over SharedArrayBuffer
// mappings, and for empty files.
const handedOutView = (buf) => Object.defineProperties(buf, disposers)

// The call most code makes (a whole file region, no advice, no options),
// told apart in a few steps: a loop of map() calls spends its first
// thousands in the interpreter, where each helper call costs. Anything else
// goes through the checks below, which accept everything this accepts.
const ANONYMOUS_BITS = C.MAP_ANONYMOUS ?? 0
const PLAIN_ADVICE_OK = ADVICE.has(0)
const plainCall = (size, protection, flags, fd, offset, advise, options) =>
  options === undefined && (offset === undefined || offset === 0) && (advise === undefined || advise === 0) &&
  PLAIN_ADVICE_OK && typeof size === 'number' && Number.isInteger(size) && size >= 1 && size <= MAX_LENGTH &&
  typeof protection === 'number' && (protection & PROT_MASK) === protection &&
  typeof flags === 'number' && flags >= 0 && (flags & MAP_MASK) === flags && MAP_KIND_OK[flags & MAP_KIND] &&
  (flags & ANONYMOUS_BITS) === 0 && typeof fd === 'number' && (fd & INT32_MAX) === fd

function map (size, protection, flags, fd, offset, advise, options) {
  if (plainCall(size, protection, flags, fd, offset, advise, options)) {
    return handedOut(binding.map(size, protection, flags, fd, 0, 0))
  }
  offset = given(offset) ? as1x(offset) : 0
  advise = given(advise) ? as1x(advise) : 0
  const len = toInteger(as1x(size, false), 'size', 1, MAX_LENGTH)
  validateProtection(protection, 'protection')
  validateInteger(flags, 'flags', 0, INT32_MAX)
  if ((flags & REFUSED_BITS) !== 0) {
    for (const [name, [value, reason]] of REFUSED_FLAGS) {
      if ((flags & value) === value && (value & ~MAP_MASK) !== 0) {
        throw invalidArgValue('flags', `must not include ${name}: it ${reason}`, flags)
      }
    }
  }
  if ((flags & ~MAP_MASK) !== 0 || !MAP_KIND_OK[flags & MAP_KIND]) {
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
  // @riaskov/mmap-io's 7th argument: the name of the file mapping object on
  // Windows (ignored elsewhere, as it was there).
  if (typeof options === 'string') {
    // No NUL (Windows would end the name there) and no lone surrogate
    // (UTF-8 has none): two different strings never name one section.
    if (options.length === 0 || Buffer.byteLength(options) > 255 || options.includes('\0') || /\p{Surrogate}/u.test(options)) {
      throw invalidArgValue('name', 'must be 1 to 255 bytes (UTF-8), without NUL or lone surrogates', options)
    }
    if (isWindows) return handedOut(binding.map(len, protection, flags, fd, off, advise, undefined, -1, 0, options))
    options = undefined
  }
  if (given(options)) optionsOf(options, 'options', MAP_OPTIONS)
  const shared = sharedOption(options, 'options')
  const policy = faultOption(options)
  if (shared) return sharedBuffer(binding.mapShared(len, protection, flags, fd, off, advise, undefined, policy, 0))
  if (policy !== -1) return handedOut(binding.map(len, protection, flags, fd, off, advise, undefined, policy, 0))
  return handedOut(binding.map(len, protection, flags, fd, off, advise))
}

// After unmap(), a mapping's addresses stay reserved (a placeholder) until
// its ArrayBuffer is garbage collected, since native code may still hold a
// pointer into it. The addon notices collections when asked: an unref'd
// timer asks while any mapping waits, less often while none is collected.
const POLL_FIRST = 250
const POLL_MAX = 60000
let pollTimer = null
let pollDelay = POLL_FIRST
function poll () {
  const before = pollTimer === null ? 0 : pollTimer.waiting
  const waiting = binding.poll()
  pollTimer = null
  if (waiting > 0) schedulePoll(waiting, waiting < before ? POLL_FIRST : Math.min(2 * pollDelay, POLL_MAX))
}
function schedulePoll (waiting, delay) {
  if (pollTimer !== null) return
  pollDelay = delay
  pollTimer = setTimeout(poll, delay)
  pollTimer.unref()
  pollTimer.waiting = waiting
}

// Small unmapped read-only and private mappings become placeholders in
// batches (src/range.h): the addon asks, at the first unmap() of a batch,
// for a poll (which switches the batch) on the next turn of the event loop.
function flush () {
  const waiting = binding.poll()
  if (waiting > 0 && pollTimer === null) schedulePoll(waiting, POLL_FIRST)
}

// In a worker (Node 22+), the mappings made in a turn of the event loop are
// followed by a sentinel, so that when the worker ends, mmap-io can tell
// what dies with it from what transfer() moved away (docs/lifetime.md):
// asked for once per turn, after the first map.
let sentinelDue = false
function placeSentinel () {
  sentinelDue = false
  binding.sentinel()
}
function handedOut (buf) {
  if (inWorker && !sentinelDue) {
    sentinelDue = true
    setImmediate(placeSentinel)
  }
  return buf
}

function unmap (buffer) {
  validateView(buffer, 'buffer')
  if (isEmptyFile(buffer)) return
  const result = binding.unmap(buffer)
  // A mapping that saw a fault: released all the same, then the error.
  const [status, fault] = Array.isArray(result) ? result : [result]
  if ((status & 1) !== 0) setImmediate(flush)
  const waiting = status >>> 1
  if (waiting > 0 && pollTimer === null) schedulePoll(waiting, POLL_FIRST)
  if (fault !== undefined) throw fault
}

// advise(buffer, advice) or advise(buffer, offset, length, advice)
function advise (buffer, offset, length, advice) {
  validateView(buffer, 'buffer')
  if (arguments.length <= 2) {
    advice = as1x(offset, false)
    offset = length = undefined
  } else {
    offset = as1x(offset, false)
    length = as1x(length)
    advice = as1x(advice)
  }
  const [from, len] = range(buffer, offset, length, pagesEnd(buffer))
  validateAdvice(advice, 'advice')
  // Advice that discards data takes whole pages: checked by the addon on the
  // view as the engine sees it.
  if (!isEmptyFile(buffer)) binding.advise(buffer, from, len, advice)
}

// sync(buffer), sync(buffer, blocking[, invalidate]) or
// sync(buffer, offset[, length[, blocking[, invalidate]]]). length 0 means
// to the end of the buffer, as in 1.x.
function sync (buffer, offset, length, blocking, invalidate) {
  validateView(buffer, 'buffer')
  if (typeof offset === 'boolean') {
    invalidate = length
    blocking = offset
    offset = length = undefined
  }
  offset = as1x(offset)
  length = as1x(length)
  if (length === 0 || length === 0n) length = undefined
  const [from, len] = range(buffer, offset, length)
  // As 1.x read them: any truthy value blocks, and any truthy value
  // invalidates. A number never asks for less than 1.x did: every nonzero
  // number waits for the disk (MS_SYNC), MS_ASYNC (1) included, since 1.x
  // code passes 1 for "blocking"; the MS_INVALIDATE bit adds invalidation.
  const wait = Boolean(blocking)
  let drop = Boolean(invalidate)
  if (typeof blocking === 'number' && Number.isInteger(blocking) && (blocking & C.MS_INVALIDATE) !== 0) drop = true
  if (!isEmptyFile(buffer)) binding.sync(buffer, from, len, wait, drop)
}

// incore(buffer[, offset[, length]]) -> [unmappedPages, mappedPages]
function incore (buffer, offset, length) {
  validateView(buffer, 'buffer')
  const [from, len] = range(buffer, as1x(offset), as1x(length))
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
  // Whole pages only: checked by the addon on the view as the engine sees it.
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
  const off = given(offset) ? toInteger(offset, 'offset', 0, MAX_OFFSET) : 0
  const len = given(length) ? toInteger(length, 'length', 0, MAX_OFFSET) : 0
  validateInteger(advice, 'advice', -(2 ** 31), INT32_MAX)
  if (FADVICE.size > 0 && !FADVICE.has(advice)) {
    throw invalidArgValue('advice', 'must be one of the POSIX_FADV_* constants', advice)
  }
  binding.fadvise(fd, off, len, advice)
}

// O_NONBLOCK: opening a FIFO must not wait for a writer; open() refuses
// what is not a regular file once it has it open.
const NONBLOCK = fs.constants.O_NONBLOCK || 0
const OPEN_MODES = {
  r: fs.constants.O_RDONLY | NONBLOCK,
  'r+': fs.constants.O_RDWR | NONBLOCK,
  'w+': fs.constants.O_RDWR | fs.constants.O_CREAT | NONBLOCK
}

const pathOf = (file) => file instanceof URL ? fileURLToPath(file) : String(file)

function notRegular (file, st) {
  const path = pathOf(file)
  if (st.isDirectory()) {
    return systemError('EISDIR', 'open', path, 'illegal operation on a directory')
  }
  const kind = fileKind(st)
  const how = st.isBlockDevice() || st.isCharacterDevice()
    ? ': map its fd with map() and an explicit size'
    : ''
  return systemError('ENODEV', 'open', path, `cannot map ${kind}, only regular files${how}`)
}

// open(path[, { mode, size, offset, length, private, populate, advice, onFault }])
function open (file, options) {
  if (file instanceof Uint8Array) {
    // fs takes a Buffer path; an empty (or unmapped) one is no path at all.
    if (lengthOf(file) === 0) throw invalidArgValue('path', 'must be a non-empty string, Buffer or URL', file)
  } else if (typeof file !== 'string' && !(file instanceof URL)) {
    throw invalidArgType('path', 'of type string or an instance of Buffer or URL', file)
  }
  options = optionsOf(options, 'options', OPEN_OPTIONS)
  const option = (name) => optionOf(options, name)
  const mode = option('mode') === undefined ? 'r' : options.mode
  if (!Object.hasOwn(OPEN_MODES, mode)) {
    throw invalidArgValue('options.mode', "must be one of: 'r', 'r+', 'w+'", mode)
  }
  let size
  if (mode === 'w+') {
    if (option('size') === undefined) throw invalidArgType('options.size', 'one of type number or bigint', options.size)
    size = toInteger(options.size, 'options.size', 1, MAX_OFFSET)
  } else if (option('size') !== undefined) {
    throw invalidArgValue('options.size', "is only for mode 'w+'", options.size)
  }
  const offset = option('offset') === undefined ? 0 : toInteger(options.offset, 'options.offset', 0, MAX_OFFSET)
  const priv = option('private') === undefined ? false : validateBoolean(options.private, 'options.private')
  const populate = option('populate') === undefined ? false : validateBoolean(options.populate, 'options.populate')
  const advice = option('advice') === undefined ? 0 : validateAdvice(options.advice, 'options.advice')
  const shared = sharedOption(options, 'options')
  const policy = faultOption(options)
  const wanted = option('length') === undefined ? undefined : toInteger(options.length, 'options.length', 0, MAX_OFFSET)
  const delta = offset % ALLOCATIONGRANULARITY
  const kind = advice === 0 ? ADVICE_KEEPS : adviceKind(advice)
  // Advice that discards data acts on whole pages: the view must start on
  // one (the mapping starts at the page below offset).
  if (kind !== ADVICE_KEEPS && offset % PAGESIZE !== 0) {
    throw outOfRange('options.offset', 'a multiple of PAGESIZE, for advice that discards data', options.offset)
  }
  // Everything that depends on the arguments alone is checked before the
  // file is created or grown.
  const checkLength = (length, name, value) => {
    if (delta + length > MAX_LENGTH) {
      throw outOfRange(name, `<= ${MAX_LENGTH - delta} (buffer.constants.MAX_LENGTH)`, value)
    }
    if (kind === ADVICE_PUNCHES && length % PAGESIZE !== 0) {
      throw outOfRange(name, 'a whole number of pages, for advice that frees the file\'s pages', value)
    }
  }
  if (mode === 'w+') {
    // The file will be at least `size` long: know its size now, to check
    // the range before anything is created or grown.
    let existing = 0
    try {
      const st = fs.statSync(file)
      if (!st.isFile()) throw notRegular(file, st)
      existing = st.size
    } catch (err) {
      if (err.code !== 'ENOENT') throw err
    }
    const end = Math.max(existing, size)
    if (offset > end) throw outOfRange('options.offset', `<= the file's size (${end})`, options.offset)
    if (wanted === undefined) checkLength(end - offset, 'options.size', options.size)
    else if (wanted > end - offset) throw outOfRange('options.length', `<= ${end - offset}`, options.length)
    else checkLength(wanted, 'options.length', options.length)
  } else if (wanted !== undefined) {
    checkLength(wanted, 'options.length', options.length)
  }

  const fd = fs.openSync(file, OPEN_MODES[mode], 0o666)
  try {
    const st = fs.fstatSync(fd)
    if (!st.isFile()) throw notRegular(file, st)
    let fileSize = st.size
    // 'w+' grows the file to `size`; it never shrinks one (a file shrunk
    // under a mapping raises SIGBUS).
    if (mode === 'w+' && fileSize < size) {
      fs.ftruncateSync(fd, size)
      fileSize = size
    }
    if (offset > fileSize) {
      throw outOfRange('options.offset', `<= the file's size (${fileSize})`, options.offset)
    }
    const length = wanted === undefined
      ? fileSize - offset
      : toInteger(wanted, 'options.length', 0, fileSize - offset)
    // remap() opens the file again: by its absolute path (the working
    // directory may change), checked to be this file (dev and ino).
    const origin = { path: pathOf(file), absolute: resolvePath(pathOf(file)), dev: st.dev, ino: st.ino, offset, delta, mode, private: priv, policy }
    if (length === 0) {
      const empty = emptyBuffer(shared)
      origins.set(empty.buffer, origin)
      return empty
    }
    // Without a length, the file's own size is what does not fit.
    if (wanted === undefined && delta + length > MAX_LENGTH) throw fileTooLarge(pathOf(file), fileSize, MAX_LENGTH)
    checkLength(length, 'options.length', wanted === undefined ? length : options.length)
    return mapOpened(fd, origin, length, { populate, advice, shared })
  } finally {
    fs.closeSync(fd)
  }
}

// Maps `length` bytes of the open file `fd` from origin.offset, as open()
// does, and remembers the origin for remap(): from the granularity boundary
// below the offset, handing out the view at the byte asked for.
function mapOpened (fd, origin, length, { populate, advice, shared }) {
  const { offset, delta, mode, private: priv, path, policy } = origin
  let flags = priv ? C.MAP_PRIVATE : C.MAP_SHARED
  if (populate && C.MAP_POPULATE !== undefined) flags |= C.MAP_POPULATE
  // A private mapping is copy-on-write, so writable even on a read-only file.
  const prot = mode === 'r' && !priv ? C.PROT_READ : C.PROT_READ | C.PROT_WRITE
  let buf
  try {
    buf = shared
      ? sharedBuffer(binding.mapShared(delta + length, prot, flags, fd, offset - delta, advice, path, policy, delta))
      : handedOut(binding.map(delta + length, prot, flags, fd, offset - delta, advice, path, policy, delta))
  } catch (err) {
    if (err.syscall) {
      err.path = origin.path
      err.message += ` '${err.path}'`
    }
    throw err
  }
  // Without MAP_POPULATE (Windows), fault the pages in by reading one byte
  // of each: the file is at least this long, so no page is past its end.
  if (populate && C.MAP_POPULATE === undefined) touched = touchPages(buf)
  origins.set(buf.buffer, origin)
  return delta === 0 ? buf : handedOutView(buf.subarray(delta))
}

// The file that open() mapped, opened again with `flags`, and its size:
// refused if its path now names another file, before anything is done to
// that one.
function reopen (origin, flags) {
  let fd
  try {
    fd = fs.openSync(origin.absolute, flags | NONBLOCK)
  } catch (err) {
    // Nothing has the name now (removed or renamed): the file is not there.
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw fileReplaced(origin.path, err)
    throw err
  }
  let st
  try {
    st = fs.fstatSync(fd)
  } catch (err) {
    fs.closeSync(fd)
    throw err
  }
  if (st.dev !== origin.dev || st.ino !== origin.ino) {
    fs.closeSync(fd)
    throw fileReplaced(origin.path)
  }
  return { fd, size: st.size }
}

// remap(buffer, length[, { grow, fd }]) -> Buffer: the mapping that `buffer`
// lies in, as `length` bytes from where the Buffer that map() or open()
// returned started. The old views are detached as unmap() detaches them;
// the contents are kept. `grow` extends the file first (never shrinks it):
// open() knows the file, map() needs `fd`. Past the end of the file is a
// RangeError, as in open().
function remap (buffer, length, options) {
  validateView(buffer, 'buffer')
  options = optionsOf(options, 'options', ['grow', 'fd'])
  const grow = optionOf(options, 'grow') === undefined ? false : validateBoolean(options.grow, 'options.grow')
  let fd = optionOf(options, 'fd') === undefined ? -1 : validateInteger(options.fd, 'options.fd', 0, INT32_MAX)
  const origin = origins.get(buffer.buffer)
  const delta = origin === undefined ? 0 : origin.delta
  const len = toInteger(length, 'length', 1, MAX_LENGTH - delta)
  if (grow && fd === -1 && origin === undefined) {
    throw invalidArgValue('options.grow', 'needs options.fd for a mapping made by map()', grow)
  }
  if (isEmptyFile(buffer)) {
    // open() of an empty file mapped nothing: map what is there now,
    // through the one descriptor that was checked to be that file.
    if (origin === undefined) throw invalidArgValue('buffer', 'must be a view of a live mapping (a Buffer that map(), open(), remap() or shm returned, or a view of its memory)', buffer)
    const end = origin.offset + len
    const again = reopen(origin, origin.mode === 'r' && !grow ? fs.constants.O_RDONLY : fs.constants.O_RDWR)
    try {
      if (grow && again.size < end) fs.ftruncateSync(again.fd, end)
      else if (again.size < end) throw outOfRange('length', `<= ${again.size - origin.offset} (the file's size from the offset)`, length)
      return mapOpened(again.fd, origin, len, { populate: false, advice: 0, shared: false })
    } finally {
      fs.closeSync(again.fd)
    }
  }
  // The file open() mapped, to check its size exactly (the addon checks it
  // is the mapped file too); without one, the addon checks the last page.
  let opened = -1
  if (fd === -1 && origin !== undefined) {
    try {
      opened = fd = reopen(origin, grow ? fs.constants.O_RDWR : fs.constants.O_RDONLY).fd
    } catch (err) {
      // Without grow, a file that no longer has the name (removed, or
      // renamed away) is not needed: the addon checks the mapping's last
      // page itself. A path that names another file is refused.
      if (grow || (err.code === 'ERR_INVALID_STATE' && err.cause === undefined)) throw err
    }
  }
  try {
    const buf = handedOut(binding.remap(buffer, delta + len, fd, grow))
    if (origin !== undefined) origins.set(buf.buffer, origin)
    return delta === 0 ? buf : handedOutView(buf.subarray(delta))
  } finally {
    if (opened !== -1) fs.closeSync(opened)
  }
}

// Named shared memory: memory that belongs to no file, found by name from
// any process. Names are portable: letters, digits, '.', '_' and '-'.
const SHM_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/

function validateShmName (name) {
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name)
  if (!SHM_NAME.test(name)) {
    throw invalidArgValue('name', "must be 1 to 200 letters, digits, '.', '_' or '-', not starting with '.'", name)
  }
  return name
}

// Adds the name to a system error, as fs adds the path; memory larger than a
// Buffer can hold is the error open() gives for such a file.
function withName (name, fn) {
  try {
    return fn()
  } catch (err) {
    if (err.code === 'EFBIG' && err.syscall) throw fileTooLarge(name, binding.shmSize(name), MAX_LENGTH)
    if (err.syscall) {
      err.path = name
      err.message += ` '${name}'`
    }
    throw err
  }
}

function shmResult (result, shared) {
  if (result === null) return emptyBuffer(shared)
  return shared ? sharedBuffer(result) : handedOut(result)
}

const shm = {
  // create(name, size[, { exclusive = true, sharedArrayBuffer = false, onFault }])
  create (name, size, options) {
    validateShmName(name)
    const len = toInteger(size, 'size', 1, MAX_LENGTH)
    options = optionsOf(options, 'options', ['exclusive', 'sharedArrayBuffer', 'onFault'])
    const exclusive = optionOf(options, 'exclusive') === undefined ? true : validateBoolean(options.exclusive, 'options.exclusive')
    const shared = sharedOption(options, 'options')
    const policy = faultOption(options)
    return withName(name, () => shmResult(binding.shmMap(name, len, true, exclusive, false, shared, MAX_LENGTH, policy), shared))
  },

  // open(name[, { readOnly = false, sharedArrayBuffer = false, onFault }])
  open (name, options) {
    validateShmName(name)
    options = optionsOf(options, 'options', ['readOnly', 'sharedArrayBuffer', 'onFault'])
    const readOnly = optionOf(options, 'readOnly') === undefined ? false : validateBoolean(options.readOnly, 'options.readOnly')
    const shared = sharedOption(options, 'options')
    const policy = faultOption(options)
    return withName(name, () => shmResult(binding.shmMap(name, 0, false, false, readOnly, shared, MAX_LENGTH, policy), shared))
  },

  // size(name) -> bytes (whole pages on Windows)
  size (name) {
    validateShmName(name)
    return withName(name, () => binding.shmSize(name))
  },

  // remove(name): the memory itself lives on while mappings of it do.
  remove (name) {
    validateShmName(name)
    withName(name, () => binding.shmRemove(name))
  }
}
Object.freeze(shm)

// Promise-returning functions whose system calls run on the libuv
// threadpool. The mapping stays mapped until they settle, even if unmap()
// is called meanwhile.

// Splits ([offset[, length]][, options]): the options object, if any, comes
// last; anything else that is an object (an array, say) is a wrong offset
// or length, not options.
function rangeAndOptions (args) {
  const positional = [...args]
  let options = {}
  const last = positional[positional.length - 1]
  if (last !== null && typeof last === 'object' && !Array.isArray(last) && positional.length <= 3) {
    options = positional.pop()
  }
  if (positional.length > 2) {
    throw invalidArgType('options', 'of type object', positional[2])
  }
  return [positional[0], positional[1], options]
}

const promises = {
  // sync(buffer[, offset, length][, { invalidate }])
  async sync (buffer, ...rest) {
    validateView(buffer, 'buffer')
    const [offset, length, options] = rangeAndOptions(rest)
    optionsOf(options, 'options', ['invalidate'])
    const [from, len] = range(buffer, offset, length)
    const invalidate = optionOf(options, 'invalidate') === undefined
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

// Whether `err` is a system error: code, errno and syscall, as Node's fs
// errors have them.
function isSystemError (err) {
  return err instanceof Error && typeof err.code === 'string' && typeof err.errno === 'number' &&
    typeof err.syscall === 'string'
}

module.exports = {
  map,
  unmap,
  open,
  remap,
  advise,
  sync,
  incore,
  residency,
  lock,
  unlock,
  protect,
  fadvise,
  faults,
  setFaultPolicy,
  promises,
  shm,
  features: Object.freeze({ ...binding.features }),
  isSystemError
}

for (const name of Object.keys(C)) {
  Object.defineProperty(module.exports, name, {
    value: C[name],
    enumerable: true,
    writable: false,
    configurable: false
  })
}
