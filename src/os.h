/*
 * The operating-system layer: everything the binding needs from the OS, and
 * nothing else. os_posix.c and os_win.c each implement all of it.
 *
 * Every function that can fail returns 0 or a negative error number as
 * Node gives it (err.errno): -errno on POSIX, libuv's numbers for the
 * translated Win32 error on Windows. syserr.c names it.
 */
#ifndef MMAP_IO_OS_H
#define MMAP_IO_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What madvise() advice does to the data in the pages it is given. */
typedef enum {
  ADVICE_KEEPS,    /* nothing is lost (hints, populate, fork and dump flags) */
  ADVICE_DISCARDS, /* private or anonymous data in the pages is lost */
  ADVICE_PUNCHES   /* the file's (or shared memory's) own pages are freed */
} os_advice_kind_t;

/* A name the platform defines, with its value, for the exports object. For
 * MADV_* names, `kind` says what the advice does; other names have 0. */
typedef struct {
  const char *name;
  int64_t value;
  int kind;
} os_constant_t;

/* NULL-terminated table of PROT_*, MAP_*, MADV_* ... this platform has. */
extern const os_constant_t mmio_os_constants[];

/* A MAP_* flag the platform defines that map() refuses, and why. */
typedef struct {
  const char *name;
  int64_t value;
  const char *reason;
} os_refused_t;

/* NULL-terminated; the reasons complete "it ...". */
extern const os_refused_t mmio_os_refused_flags[];

/* What a live mapping needs beyond its address and length. On POSIX nothing;
 * on Windows the file handle that sync(…, blocking) flushes, and for named
 * shared memory the section, whose name lives only as long as a handle. */
typedef struct {
  intptr_t file;
  intptr_t section;
} os_extra_t;

size_t mmio_os_page_size(void);
/* Offsets given to mmio_os_map must be multiples of this (PAGESIZE on POSIX). */
size_t mmio_os_granularity(void);
/* How many mappings this process may hold before the kernel refuses more
 * (vm.max_map_count on Linux), or 0 when the OS sets no such limit or it
 * cannot be read; then `*err` says why (0: no limit; an error of the
 * moment, such as EMFILE, when mmio_os_map_count_lasting() says so). */
size_t mmio_os_map_count_limit(int *err);
/* How many mappings the process holds now, as the kernel counts them (lines
 * of /proc/self/maps), or 0 when that cannot be known, with the error in
 * `*err`: one that lasts (no /proc, or not allowed to read it) or one of
 * the moment (out of file descriptors); in `*marks`, how many copies of
 * this addon marked themselves (mmio_os_mark_copy()), and in `*own`
 * whether this copy's mark, at the address it was mapped at, is one. */
size_t mmio_os_map_count(size_t *marks, bool *own, int *err);
/* Whether an error of mmio_os_map_count() lasts for the process's life. */
bool mmio_os_map_count_lasting(int err);
/* Marks this copy of the addon, once, with a mapping that every copy's
 * mmio_os_map_count() sees: true when it is marked. */
bool mmio_os_mark_copy(void);
/* The same, read through the caller's `block` of `size` bytes with
 * async-signal-safe calls only (for a signal handler, off its stack). */
size_t mmio_os_map_count_with(char *block, size_t size);

/* 0 when `fd` can be mapped with protection `prot` without a hidden
 * hazard; an error for what mmap() accepts but cannot serve safely (a
 * socket's pages raise SIGBUS) and for what it cannot map at all (a FIFO).
 * Where mmap() itself refuses the hazard for `prot`, 0 without asking the
 * OS: then mmio_os_map() fails, and this with prot 0 says why. */
int mmio_os_check_mappable(int64_t fd, int prot);

/* `name` (UTF-8, or NULL): on Windows, the name of the file mapping object
 * (@riaskov/mmap-io's 7th argument of map()): anonymous memory of that name
 * that exists already is mapped; a file mapping of a name that exists is
 * EEXIST (it may map another file). Ignored elsewhere. */
int mmio_os_map(void **addr, size_t len, int prot, int flags, int64_t fd, int64_t offset,
                const char *name, os_extra_t *extra);
/* Whether `prot` gives write access; read access. */
bool mmio_os_prot_writable(int prot);
bool mmio_os_prot_readable(int prot);
/* Whether `flags` make a shared mapping (MAP_SHARED). */
bool mmio_os_flags_shared(int flags);
int mmio_os_unmap(void *addr, size_t len, os_extra_t *extra);
/* Replace the mapping at [addr, addr + len) with a placeholder: zero-filled,
 * readable and writable memory that belongs to no file and reserves the
 * range, so that the address cannot be handed to another mapping and a
 * stale pointer into it neither faults nor reaches a file. On success the
 * file's pages are gone, and *reserved says whether the placeholder holds
 * the range: false where the system has no atomic replacement (Windows) and
 * another thread took the range in between, which is then not ours to
 * release. On failure nothing changed. */
int mmio_os_placeholder(void *addr, size_t len, os_extra_t *extra, bool *reserved);
/* Give a placeholder's range back to the system. */
int mmio_os_release(void *addr, size_t len);
/* Whether a mapping made with `prot` and `flags` must become a placeholder
 * the moment it is unmapped: a shared writable one (a stale pointer's
 * writes would reach its file) and a locked one (MAP_LOCKED: its pages
 * count against RLIMIT_MEMLOCK until they go). See range.h. */
bool mmio_os_release_at_once(int prot, int flags);

/* The fault handlers (POSIX: SIGBUS and SIGSEGV handlers; Windows: a
 * vectored exception handler), installed once, on first use, in front of
 * whatever was there. A fault in a live mapping is explained or survived
 * as fault.h says; faults anywhere else, and signals sent with kill(), go
 * on to the handler before ours, or end the process as without us. False
 * when they could not be installed. */
bool mmio_os_fault_install(void);
/* The fault guard: its ranges are unmapped mappings whose pages wait to
 * become placeholders (range.c): when a stale pointer touches one after
 * its file was truncated, the handler turns that range into a placeholder
 * there and then, and the access reads zeros instead of killing the
 * process. */
/* Whether ranges can be guarded now: false where there is no guard
 * (Windows, where a mapped file cannot be truncated anyway, but where
 * releases are not batched) or when another handler has replaced ours. */
bool mmio_os_guard_ready(void);
/* Guard [addr, addr + len): a slot number, or -1 when all are in use. */
int mmio_os_guard_add(void *addr, size_t len);
void mmio_os_guard_remove(int slot);
/* How many faults the guard has turned into placeholders (for the tests). */
size_t mmio_os_guard_caught(void);

int mmio_os_advise(void *addr, size_t len, int advice);
/* Drop the private pages of [addr, addr + len) (the range stays mapped: a
 * later touch reads the file, or zeros, again). */
int mmio_os_discard(void *addr, size_t len);
/* blocking: wait until the pages are on disk (MS_SYNC); otherwise only
 * schedule the write-back (MS_ASYNC). invalidate adds MS_INVALIDATE. */
int mmio_os_sync(void *addr, size_t len, int blocking, int invalidate, const os_extra_t *extra);
/* One byte per page of [addr, addr + len), bit 0 set when resident. */
int mmio_os_incore(void *addr, size_t len, unsigned char *vec);
/* Bring [addr, addr + len) into memory, failing (not faulting) where a page
 * cannot be read. Runs on the libuv threadpool. */
int mmio_os_prefetch(void *addr, size_t len);
int mmio_os_lock(void *addr, size_t len);
int mmio_os_unlock(void *addr, size_t len);
int mmio_os_protect(void *addr, size_t len, int prot);
/* posix_fadvise: advice about a file's pages in the page cache. */
int mmio_os_fadvise(int64_t fd, int64_t offset, int64_t len, int advice);

/* How mmio_os_remap() kept the pages. */
typedef enum {
  REMAP_IN_PLACE,  /* grown where it was: the old addresses are part of it */
  REMAP_DUPLICATE, /* a second mapping of the same pages elsewhere; the old
                      one is untouched, for the caller to release */
  REMAP_MOVED      /* moved elsewhere (its page tables with it); the old
                      range is still mapped, to nothing of value, and ours:
                      the caller puts its placeholder over it */
} os_remap_t;

/* 0 when mmio_os_remap() can serve a mapping that is `shared` (MAP_SHARED) or
 * not; ENOSYS where the OS cannot remap at all (macOS and the BSDs; on
 * Windows, anything but a shared view of a file), ENOTSUP for a private
 * mapping where a move would leave the old range free for a moment
 * (Linux without MREMAP_DONTUNMAP, qemu-user). Asked before anything
 * changes. */
int mmio_os_remap_supported(bool shared, const os_extra_t *extra);
/* Grow the mapping at [addr, addr + old_len) to new_len bytes (both whole
 * pages), keeping its pages: in place when the range after it is free,
 * else a duplicate of a shared mapping (which leaves the old one mapped),
 * else a move that leaves the old range mapped. No address that was mapped
 * is ever free, even for a moment. ERANGE when the file is shorter than the
 * new range and the OS would have grown it (Windows). */
int mmio_os_remap(void *addr, size_t old_len, size_t new_len, bool shared, int64_t offset, int prot,
                  os_extra_t *extra, os_extra_t *new_extra, void **new_addr, os_remap_t *how);
/* Whether part of a mapping can be unmapped or replaced on its own (POSIX);
 * Windows unmaps whole views only. */
bool mmio_os_can_split(void);
/* Whether a mapped file cannot be deleted or truncated while mapped
 * (Windows): then a mapping that is done with is released at once. */
bool mmio_os_mapped_files_locked(void);
/* Undo a successful mmio_os_remap() whose result is not wanted. */
void mmio_os_unremap(void *addr, size_t old_len, void *new_addr, size_t new_len, os_remap_t how,
                     os_extra_t *new_extra);
/* Whether `fd` is the file mapped at `addr` (0), another file (EINVAL), or
 * cannot be told (ENOSYS); and the file's size. Asks the kernel about the
 * one mapping that covers `addr` (merged with neighbours or not). */
int mmio_os_fd_is_mapped_file(int64_t fd, void *addr, uint64_t *size, const os_extra_t *extra);
/* Whether the page at `addr` may be read (1), may not (0: PROT_NONE,
 * write-only), or cannot be told (negative). */
int mmio_os_readable(void *addr);
/* Grow the file to `size` bytes if it is shorter (never shrinks). */
int mmio_os_grow_fd(int64_t fd, uint64_t size);

/* Keep this addon loaded for the life of the process: the runtime unloads
 * it with the last environment that loaded it (a worker), while code of
 * ours can still be called: a SharedArrayBuffer's finalizer on any thread,
 * the SIGBUS handler, a finalizer handed over from another thread. */
int mmio_os_pin_module(void);

/* A function the runtime exports (an experimental Node-API call that older
 * runtimes lack), or NULL. */
void *mmio_os_runtime_symbol(const char *name);

/* Named shared memory (POSIX shm_open, Windows named pagefile-backed file
 * mappings), mapped read-write (or read-only) and shared. `create`: make it
 * `*size` bytes if it does not exist, grow it to `*size` if it is smaller
 * (never shrink), and with `exclusive`, fail with EEXIST if it exists.
 * Otherwise open it as it is. *size is then its size (on Windows, rounded
 * up to whole pages: the system keeps no exact size). EFBIG, with *size
 * set, when it is larger than `max` (what a Buffer can hold): nothing is
 * mapped. */
int mmio_os_shm_map(const char *name, bool create, bool exclusive, bool readonly, size_t max,
                    size_t *size, void **addr, os_extra_t *extra);
/* Its size without mapping it. */
int mmio_os_shm_size(const char *name, size_t *size);
/* Remove the name (POSIX); on Windows the memory goes when its last handle
 * and view do, and this does nothing (ENOENT if no such memory exists). */
int mmio_os_shm_remove(const char *name);

/* Why mlock() failed with `err`, for the error message, or NULL when there
 * is nothing to add. `len` is the size of the range it was given. */
const char *mmio_os_lock_hint(int err, size_t len);

/* What the running system supports, for the `features` object. */
typedef struct {
  const char *name;
  int supported;
} os_feature_t;
/* Fills `out` (at most `max` entries) and returns how many it filled. */
size_t mmio_os_features(os_feature_t *out, size_t max);

/* A monotonic clock in milliseconds (coarse: for intervals of 100 ms). */
uint64_t mmio_os_monotonic_ms(void);

/* The calling thread, comparable with ==. */
uintptr_t mmio_os_thread_self(void);
/* A pointer that another thread may be writing, read without a lock: the
 * caller takes the lock only when it is not NULL. */
void *mmio_os_peek_pointer(void *const *p);

/* A lock for state shared by every thread (a spin lock: it is held only
 * for a few loads and stores). */
typedef struct {
  volatile long held;
} os_spinlock_t;
void mmio_os_spin_lock(os_spinlock_t *l);
void mmio_os_spin_unlock(os_spinlock_t *l);

#endif
