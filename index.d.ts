/// <reference types="node" />
// Types for mmap-io 2 (CommonJS; index.d.mts re-exports them for ES modules).
// Sizes and offsets take a number or a BigInt; every range is in bytes and
// lies inside the view it is given with.

declare namespace mmap {
  /** A Buffer, TypedArray or DataView that lies inside a live mapping returned by map() or open(). */
  type MappedView = NodeJS.ArrayBufferView

  /** An integer as a number (up to Number.MAX_SAFE_INTEGER) or a BigInt. */
  type Integer = number | bigint

  interface OpenOptions {
    /** 'r' read-only (default), 'r+' read-write, 'w+' read-write, creating the file. */
    mode?: 'r' | 'r+' | 'w+'
    /** 'w+' only, and required there: extend the file to this many bytes if shorter. */
    size?: Integer
    /** Any byte offset; the Buffer starts at this byte. Default 0. */
    offset?: Integer
    /** Bytes to map from offset. Default: the rest of the file. */
    length?: Integer
    /** Copy-on-write (MAP_PRIVATE): writable, and writes never reach the file. */
    private?: boolean
    /** Fault every page in now (MAP_POPULATE). */
    populate?: boolean
    /** One of the MADV_* constants, for the whole mapping. */
    advice?: number
    /**
     * Return a Buffer over a SharedArrayBuffer, which postMessage shares with
     * worker threads (Node 22.23+, 24.21+, 26, Bun; see features.sharedArrayBuffer).
     */
    sharedArrayBuffer?: boolean
    /**
     * What a fault in this mapping does (README, "When the file changes
     * under you"): 'explain' (one line on stderr, then the process ends as
     * it would have) or 'zero' (zero-filled pages, or a private copy for a
     * write to a read-only page; the process goes on, and the mapping
     * refuses every call but unmap() from then on). Default: the process
     * default, setFaultPolicy(), which starts as 'explain'.
     */
    onFault?: FaultPolicy
  }

  interface MapOptions {
    /**
     * Return a Buffer over a SharedArrayBuffer, which postMessage shares with
     * worker threads (Node 22.23+, 24.21+, 26, Bun; see features.sharedArrayBuffer).
     */
    sharedArrayBuffer?: boolean
    /** As for open(). */
    onFault?: FaultPolicy
  }

  interface RemapOptions {
    /** Extend the file first (never shrinks it): open() knows the file; for map() pass fd. */
    grow?: boolean
    /** An open descriptor of the mapped file: its size is checked exactly (and grown with grow). */
    fd?: number
  }

  /**
   * A Buffer that map(), open(), remap() or shm returned: a Buffer in every
   * way, that also works with explicit resource management (TypeScript 5.2+,
   * Node 24+). `using` unmaps it at the end of the block; `await using` first
   * waits for promises.sync() (a durable flush), then unmaps, even if the
   * flush failed. Both do nothing to a Buffer already unmapped. Its
   * subarrays and slices are plain Buffers.
   */
  interface MappedBuffer extends Buffer {
    /** unmap(this) */
    [Symbol.dispose](): void
    /** await promises.sync(this), then unmap(this) */
    [Symbol.asyncDispose](): Promise<void>
  }

  /** A Buffer whose memory is a SharedArrayBuffer mapping. */
  type SharedBuffer = MappedBuffer & { readonly buffer: SharedArrayBuffer }

  interface ShmCreateOptions {
    /** Fail with EEXIST if the name exists (default true); else open it, grown to size if smaller. */
    exclusive?: boolean
    /** As for open(): a Buffer over a SharedArrayBuffer. */
    sharedArrayBuffer?: boolean
    /** As for open(). */
    onFault?: FaultPolicy
  }

  interface ShmOpenOptions {
    /** Map it read-only. */
    readOnly?: boolean
    /** As for open(): a Buffer over a SharedArrayBuffer. */
    sharedArrayBuffer?: boolean
    /** As for open(). */
    onFault?: FaultPolicy
  }

  /** What a fault in a mapping does: see OpenOptions.onFault. */
  type FaultPolicy = 'explain' | 'zero'

  /** A fault a mapping saw, as faults() lists it. */
  interface Fault {
    /** SIGBUS or SIGSEGV; on Windows EXCEPTION_ACCESS_VIOLATION or EXCEPTION_IN_PAGE_ERROR. */
    readonly signal: 'SIGBUS' | 'SIGSEGV' | 'EXCEPTION_ACCESS_VIOLATION' | 'EXCEPTION_IN_PAGE_ERROR'
    /**
     * 'truncated': past the end of a file that shrank; 'io': the page could
     * not be read or stored; 'read-only': a write to a mapping without write
     * access; 'protected': protect() took the access away; 'unknown'.
     */
    readonly reason: 'truncated' | 'io' | 'read-only' | 'protected' | 'unknown'
    readonly access: 'read' | 'write' | 'execute' | 'unknown'
    /** The byte's offset in the file (or shared memory). */
    readonly offset: number
    /** Its index in the Buffer that map() or open() returned. */
    readonly index: number
    /** The file's size when it faulted, when it could be known. */
    readonly size?: number
  }

  /** What every call on a mapping that saw a fault throws (and unmap(), after releasing it). */
  interface FaultError extends Error, Fault {
    readonly code: 'ERR_MMAP_IO_FAULT'
    /** open(): the path as given; shm: the name. */
    readonly path?: string
    /** map(): the descriptor. */
    readonly fd?: number
    /** How many faults it saw. */
    readonly faults: number
  }

  interface SyncOptions {
    /** Add MS_INVALIDATE. */
    invalidate?: boolean
  }

  /** What the running system supports. */
  interface Features {
    /** The kernel accepts MADV_POPULATE_READ (Linux 5.14+). */
    readonly populateRead: boolean
    /** The kernel accepts MADV_POPULATE_WRITE (Linux 5.14+). */
    readonly populateWrite: boolean
    /** MAP_ANONYMOUS exists. */
    readonly anonymous: boolean
    readonly residency: boolean
    readonly lock: boolean
    readonly protect: boolean
    /** The OS limits how many mappings a process holds (vm.max_map_count). */
    readonly mappingLimit: boolean
    /** onFault: 'zero' survives faults (POSIX); on Windows faults are explained, not survived. */
    readonly faultZero: boolean
    /** The runtime has node_api_create_external_sharedarraybuffer: { sharedArrayBuffer: true } works. */
    readonly sharedArrayBuffer: boolean
  }

  /**
   * Maps `size` bytes of the file open as `fd`, from `offset` (a multiple of
   * ALLOCATIONGRANULARITY), and returns a Buffer backed by the mapping itself.
   * The mapping lives until unmap() or until the Buffer is garbage collected.
   * @param protection PROT_NONE or a combination of PROT_READ, PROT_WRITE, PROT_EXEC
   * @param flags MAP_SHARED or MAP_PRIVATE, optionally with other MAP_* flags
   * @param fd an open file descriptor, or -1 with MAP_ANONYMOUS
   * @param advise one of the MADV_* constants, given to madvise() for the whole mapping
   * @throws {TypeError} ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE for bad arguments
   * @throws {RangeError} ERR_OUT_OF_RANGE for out-of-range sizes and offsets
   * @throws {Error} a system error with code, errno and syscall ('mmap' or 'madvise')
   */
  function map (
    size: Integer,
    protection: number,
    flags: number,
    fd: number,
    offset: Integer | null | undefined,
    advise: number | null | undefined,
    options: MapOptions & { sharedArrayBuffer: true }
  ): SharedBuffer
  function map (
    size: Integer,
    protection: number,
    flags: number,
    fd: number,
    offset?: Integer | null,
    advise?: number | null,
    /**
     * Options, or @riaskov/mmap-io's 7th argument: a string that on Windows
     * names the file mapping object (anonymous memory of a name that exists
     * is that memory; a file mapping of a name that exists is EEXIST),
     * ignored elsewhere; 1 to 255 bytes.
     */
    options?: MapOptions | string | null
  ): MappedBuffer

  /**
   * Maps a file by path and closes the fd it opened. An empty file (or length
   * 0) gives a zero-length Buffer that every function accepts.
   * @throws {RangeError} ERR_OUT_OF_RANGE when offset + length is past the end of the file
   * @throws {Error} a system error with code, errno, syscall and path
   */
  function open (path: string | Buffer | URL, options: OpenOptions & { sharedArrayBuffer: true }): SharedBuffer
  function open (path: string | Buffer | URL, options?: OpenOptions | null): MappedBuffer

  /**
   * The mapping `view` lies in, as `length` bytes from where the Buffer that
   * map() or open() returned started; the contents are kept and every old
   * view is detached, as unmap() detaches them. Grows in place when it can,
   * else maps the same pages anew (mremap on Linux, a new view on Windows).
   * @throws {RangeError} ERR_OUT_OF_RANGE when the new range ends past the end of the file
   * @throws {Error} ENOSYS where the platform cannot remap (macOS, BSDs; Windows but for shared views of files)
   * @throws {Error} ERR_INVALID_STATE when the path open() mapped now names another file (pass options.fd)
   */
  function remap (view: MappedView, length: Integer, options?: RemapOptions | null): MappedBuffer

  /**
   * Named shared memory: memory that belongs to no file, found by name from
   * any process (POSIX shm_open; a named pagefile-backed mapping on Windows).
   * Names are 1 to 200 letters, digits, '.', '_' or '-', not starting with '.'.
   */
  namespace shm {
    /** Creates it (size bytes, zero-filled) and maps it read-write. @throws {Error} EEXIST when exclusive and it exists */
    function create (name: string, size: Integer, options: ShmCreateOptions & { sharedArrayBuffer: true }): SharedBuffer
    function create (name: string, size: Integer, options?: ShmCreateOptions): MappedBuffer
    /** Maps an existing one. @throws {Error} ENOENT when there is none */
    function open (name: string, options: ShmOpenOptions & { sharedArrayBuffer: true }): SharedBuffer
    function open (name: string, options?: ShmOpenOptions): MappedBuffer
    /** Its size in bytes (on Windows rounded up to whole pages). */
    function size (name: string): number
    /** Removes the name (POSIX); the memory lives on in its mappings. A no-op on Windows, where it goes with its last mapping. */
    function remove (name: string): void
  }

  /**
   * Releases the mapping that `view` lies in, now. Every view of it (the Buffer,
   * its subarrays, TypedArrays and DataViews over its ArrayBuffer) becomes
   * zero-length. The file's pages go at once, but for a read-only or private
   * mapping of at most 64 KiB, whose pages go with a batch of up to 16, by
   * the next turn of the event loop (or the next fadvise()) at the latest.
   * Unmapping a view that is already unmapped does nothing.
   */
  function unmap (view: MappedView): void

  /**
   * The faults the mapping `view` lies in saw (the first 8), oldest first;
   * empty for one that saw none.
   */
  function faults (view: MappedView): Fault[]

  /**
   * What a fault does in mappings made from now on, in every thread, when
   * their own onFault option does not say. Starts as 'explain'.
   */
  function setFaultPolicy (policy: FaultPolicy): void

  /** madvise() over the whole view. */
  function advise (view: MappedView, advice: number): void
  /** madvise() over `length` bytes of the view from `offset`. */
  function advise (view: MappedView, offset: Integer | null, length: Integer | null, advice: number): void

  /**
   * msync() the view. Without `blocking` (or with false) it schedules the
   * write-back (MS_ASYNC); with true it returns once the data is on disk
   * (MS_SYNC). `invalidate` adds MS_INVALIDATE. Both are read as booleans,
   * as 1.x read them. (A number in second place is an offset, as in 1.x.)
   */
  function sync (view: MappedView, blocking?: boolean | null, invalidate?: unknown): void
  /**
   * msync() `length` bytes from `offset`; a missing, null or 0 length (0 as
   * in 1.x) means the rest of the view. `blocking` may also be a number, as
   * in 1.x code: any nonzero number waits for the disk (MS_SYNC), MS_ASYNC
   * included, and the MS_INVALIDATE bit adds invalidation; 0 schedules.
   */
  function sync (
    view: MappedView,
    offset: Integer | null,
    length?: Integer | null,
    blocking?: boolean | number | null,
    invalidate?: unknown
  ): void

  /** Pages of the range that are not resident and that are: `[unmappedPages, mappedPages]`. */
  function incore (view: MappedView, offset?: Integer | null, length?: Integer | null): [number, number]

  /** One byte per page of the range: 1 if resident, 0 if not. */
  function residency (view: MappedView, offset?: Integer | null, length?: Integer | null): Uint8Array

  /**
   * mlock() the range: keep its pages in RAM.
   * @throws {Error} ENOMEM or EPERM past RLIMIT_MEMLOCK
   */
  function lock (view: MappedView, offset?: Integer | null, length?: Integer | null): void

  /** munlock() the range. */
  function unlock (view: MappedView, offset?: Integer | null, length?: Integer | null): void

  /**
   * mprotect() whole pages of the range (page-aligned start; end on a page or
   * at the end of the mapping).
   * @param protection PROT_NONE or a combination of PROT_READ, PROT_WRITE, PROT_EXEC
   */
  function protect (view: MappedView, protection: number, offset?: Integer | null, length?: Integer | null): void

  /**
   * posix_fadvise() on an open file: advice about its pages in the page cache
   * (POSIX_FADV_DONTNEED drops clean pages that no process has mapped).
   * `length` 0 means to the end of the file. Throws ENOSYS on Windows.
   */
  function fadvise (fd: number, offset: Integer | null, length: Integer | null, advice: number): void

  /**
   * The errors that system calls end in, shaped as Node's fs errors:
   * `err.code` is the errno name ('ENOMEM'), `err.errno` Node's negative
   * number for it (as in `os.constants.errno`, negated on POSIX),
   * `err.syscall` the call ('mmap', 'msync', 'open'...), and `err.path` the
   * file or shared-memory name, when there is one.
   */
  interface SystemError extends Error {
    code: string
    errno: number
    syscall: string
    path?: string
  }

  /** Whether `err` is a system error (narrows it to SystemError). */
  function isSystemError (err: unknown): err is SystemError

  /** The same work on the libuv threadpool; the mapping stays mapped until the promise settles. */
  namespace promises {
    /** msync(MS_SYNC) the view; resolves when the data is durable. */
    function sync (view: MappedView, options?: SyncOptions): Promise<void>
    function sync (view: MappedView, offset: Integer | null, length?: Integer | null, options?: SyncOptions): Promise<void>
    /** Brings the range into memory; rejects with EFAULT where a page cannot be read. */
    function prefetch (view: MappedView, offset?: Integer | null, length?: Integer | null): Promise<void>
    /** As residency(). */
    function residency (view: MappedView, offset?: Integer | null, length?: Integer | null): Promise<Uint8Array>
  }

  const features: Features

  const PROT_READ: number
  const PROT_WRITE: number
  const PROT_EXEC: number
  const PROT_NONE: number
  const MAP_SHARED: number
  const MAP_PRIVATE: number
  /** Linux only; undefined elsewhere. */
  const MAP_NONBLOCK: number | undefined
  /** Linux only; undefined elsewhere. */
  const MAP_POPULATE: number | undefined
  /** Anonymous memory: pass fd -1. */
  const MAP_ANONYMOUS: number
  /** The constants below that may be undefined are Linux's (absent on Windows and macOS). */
  const MAP_NORESERVE: number | undefined
  const MAP_HUGETLB: number | undefined
  const MAP_LOCKED: number | undefined
  /** MAP_SHARED with the other flags checked by the kernel (needed for MAP_SYNC). */
  const MAP_SHARED_VALIDATE: number | undefined
  /** DAX files only, with MAP_SHARED_VALIDATE. */
  const MAP_SYNC: number | undefined
  /** Ignored by Linux; accepted for old code. */
  const MAP_DENYWRITE: number | undefined
  /** Ignored by Linux; accepted for old code. */
  const MAP_EXECUTABLE: number | undefined
  /** 0; accepted for old code. */
  const MAP_FILE: number | undefined
  const MAP_STACK: number | undefined
  /** x86-64 only: an address in the first 2 GiB. */
  const MAP_32BIT: number | undefined
  const MADV_NORMAL: number
  const MADV_RANDOM: number
  const MADV_SEQUENTIAL: number
  const MADV_WILLNEED: number
  /** Discards pages: page-aligned whole pages only. */
  const MADV_DONTNEED: number
  const MADV_HUGEPAGE: number | undefined
  const MADV_NOHUGEPAGE: number | undefined
  const MADV_DONTFORK: number | undefined
  const MADV_DOFORK: number | undefined
  const MADV_DONTDUMP: number | undefined
  const MADV_DODUMP: number | undefined
  /** Discards pages: page-aligned whole pages only. */
  const MADV_FREE: number | undefined
  /** Discards pages: page-aligned whole pages only. */
  const MADV_REMOVE: number | undefined
  const MADV_POPULATE_READ: number | undefined
  const MADV_POPULATE_WRITE: number | undefined
  const MADV_MERGEABLE: number | undefined
  const MADV_UNMERGEABLE: number | undefined
  /** A child process sees the pages zeroed: page-aligned whole pages only. */
  const MADV_WIPEONFORK: number | undefined
  const MADV_KEEPONFORK: number | undefined
  const MADV_COLD: number | undefined
  const MADV_PAGEOUT: number | undefined
  /** Discards pages, locked ones too: page-aligned whole pages only. */
  const MADV_DONTNEED_LOCKED: number | undefined
  const MADV_COLLAPSE: number | undefined
  const MS_ASYNC: number
  const MS_SYNC: number
  const MS_INVALIDATE: number
  /** posix_fadvise advice; undefined where the platform lacks it (Windows). */
  const POSIX_FADV_NORMAL: number | undefined
  const POSIX_FADV_SEQUENTIAL: number | undefined
  const POSIX_FADV_RANDOM: number | undefined
  const POSIX_FADV_NOREUSE: number | undefined
  const POSIX_FADV_WILLNEED: number | undefined
  const POSIX_FADV_DONTNEED: number | undefined
  /** The system page size in bytes. */
  const PAGESIZE: number
  /** What map() offsets must be a multiple of: PAGESIZE on POSIX, 65536 on Windows. */
  const ALLOCATIONGRANULARITY: number
}

export = mmap
