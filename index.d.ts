/// <reference types="node" />
// Types for mmap-io 2. Sizes and offsets take a number or a BigInt; every
// range is in bytes and lies inside the view it is given with.

/** A Buffer, TypedArray or DataView that lies inside a live mapping returned by map(). */
export type MappedView = NodeJS.ArrayBufferView

export type Integer = number | bigint

/**
 * Maps `size` bytes of the file open as `fd`, from `offset` (a multiple of
 * ALLOCATIONGRANULARITY), and returns a Buffer backed by the mapping itself.
 * The mapping lives until unmap() or until the Buffer is garbage collected.
 * @param protection PROT_NONE or a combination of PROT_READ, PROT_WRITE, PROT_EXEC
 * @param flags MAP_SHARED or MAP_PRIVATE, optionally with other MAP_* flags
 * @param advise one of the MADV_* constants, given to madvise() for the whole mapping
 * @throws {TypeError} ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE for bad arguments
 * @throws {RangeError} ERR_OUT_OF_RANGE for out-of-range sizes and offsets
 * @throws {Error} a system error with code, errno and syscall ('mmap' or 'madvise')
 */
export function map (
  size: Integer,
  protection: number,
  flags: number,
  fd: number,
  offset?: Integer,
  advise?: number
): Buffer

/**
 * Releases the mapping that `view` lies in, now. Every view of it (the Buffer,
 * its subarrays, TypedArrays and DataViews over its ArrayBuffer) becomes
 * zero-length. Unmapping a view that is already unmapped does nothing.
 */
export function unmap (view: MappedView): void

/** madvise() over the whole view. */
export function advise (view: MappedView, advice: number): void
/** madvise() over `length` bytes of the view from `offset`. */
export function advise (view: MappedView, offset: Integer, length: Integer, advice: number): void

/**
 * msync() the view. Without `blocking` (or with false) it schedules the
 * write-back (MS_ASYNC); with true it returns once the data is on disk
 * (MS_SYNC). `invalidate` adds MS_INVALIDATE.
 */
export function sync (view: MappedView, blocking?: boolean, invalidate?: boolean): void
/** msync() `length` bytes from `offset` (default: the rest of the view); length 0 syncs nothing. */
export function sync (
  view: MappedView,
  offset: Integer,
  length?: Integer,
  blocking?: boolean,
  invalidate?: boolean
): void

/** Pages of the view (or of the range) that are not resident and that are: `[unmappedPages, mappedPages]`. */
export function incore (view: MappedView, offset?: Integer, length?: Integer): [number, number]

export const PROT_READ: number
export const PROT_WRITE: number
export const PROT_EXEC: number
export const PROT_NONE: number
export const MAP_SHARED: number
export const MAP_PRIVATE: number
/** Defined on Linux only. */
export const MAP_NONBLOCK: number | undefined
/** Defined on Linux only. */
export const MAP_POPULATE: number | undefined
export const MADV_NORMAL: number
export const MADV_RANDOM: number
export const MADV_SEQUENTIAL: number
export const MADV_WILLNEED: number
export const MADV_DONTNEED: number
/** The system page size in bytes. */
export const PAGESIZE: number
/** What map() offsets must be a multiple of: PAGESIZE on POSIX. */
export const ALLOCATIONGRANULARITY: number

declare const mmap: {
  map: typeof map
  unmap: typeof unmap
  advise: typeof advise
  sync: typeof sync
  incore: typeof incore
  readonly PROT_READ: number
  readonly PROT_WRITE: number
  readonly PROT_EXEC: number
  readonly PROT_NONE: number
  readonly MAP_SHARED: number
  readonly MAP_PRIVATE: number
  readonly MAP_NONBLOCK: number | undefined
  readonly MAP_POPULATE: number | undefined
  readonly MADV_NORMAL: number
  readonly MADV_RANDOM: number
  readonly MADV_SEQUENTIAL: number
  readonly MADV_WILLNEED: number
  readonly MADV_DONTNEED: number
  readonly PAGESIZE: number
  readonly ALLOCATIONGRANULARITY: number
}
export default mmap
