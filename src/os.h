/*
 * The operating-system layer: everything binding.c needs from the OS, and
 * nothing else. os_posix.c and os_win.c each implement all of it.
 *
 * Every function that can fail returns 0 or a negative libuv error code
 * (uv_translate_sys_error of the OS error), so binding.c can name it with
 * uv_err_name() and describe it with uv_strerror() the way Node's fs does.
 */
#ifndef MMAP_IO_OS_H
#define MMAP_IO_OS_H

#include <stddef.h>
#include <stdint.h>

/* libuv is part of every Node process; these three functions have kept their
 * ABI for all of libuv 1.x. Declared here so the addon needs no uv headers. */
#if defined(_WIN32)
#define MMAP_IO_UV_EXTERN __declspec(dllimport)
#else
#define MMAP_IO_UV_EXTERN
#endif
MMAP_IO_UV_EXTERN int uv_translate_sys_error(int sys_errno);
MMAP_IO_UV_EXTERN const char *uv_err_name(int err);
MMAP_IO_UV_EXTERN const char *uv_strerror(int err);

/* Errors the binding raises itself, as libuv error numbers (they differ
 * between platforms). */
typedef enum { OS_ENOMEM, OS_EPERM, OS_ECANCELED } os_errno_t;
int os_uv_error(os_errno_t e);

/* A name the platform defines, with its value, for the exports object. */
typedef struct {
  const char *name;
  int64_t value;
} os_constant_t;

/* NULL-terminated table of PROT_*, MAP_*, MADV_* ... this platform has. */
extern const os_constant_t os_constants[];

/* What a live mapping needs beyond its address and length. On POSIX nothing;
 * on Windows the file handle that sync(…, blocking) flushes. */
typedef struct {
  intptr_t file;
} os_extra_t;

size_t os_page_size(void);
/* Offsets given to os_map must be multiples of this (PAGESIZE on POSIX). */
size_t os_granularity(void);
/* How many mappings this process may hold before the kernel refuses more
 * (vm.max_map_count on Linux), or 0 when the OS sets no such limit. */
size_t os_map_count_limit(void);

int os_map(void **addr, size_t len, int prot, int flags, int64_t fd,
           int64_t offset, os_extra_t *extra);
int os_unmap(void *addr, size_t len, os_extra_t *extra);
int os_advise(void *addr, size_t len, int advice);
/* blocking: wait until the pages are on disk (MS_SYNC); otherwise only
 * schedule the write-back (MS_ASYNC). invalidate adds MS_INVALIDATE. */
int os_sync(void *addr, size_t len, int blocking, int invalidate,
            const os_extra_t *extra);
/* One byte per page of [addr, addr + len), bit 0 set when resident. */
int os_incore(void *addr, size_t len, unsigned char *vec);
/* Bring [addr, addr + len) into memory, failing (not faulting) where a page
 * cannot be read. Runs on the libuv threadpool. */
int os_prefetch(void *addr, size_t len);
int os_lock(void *addr, size_t len);
int os_unlock(void *addr, size_t len);
int os_protect(void *addr, size_t len, int prot);
/* posix_fadvise: advice about a file's pages in the page cache. */
int os_fadvise(int64_t fd, int64_t offset, int64_t len, int advice);

/* What the running system supports, for the `features` object. */
typedef struct {
  const char *name;
  int supported;
} os_feature_t;
/* Fills `out` (at most `max` entries) and returns how many it filled. */
size_t os_features(os_feature_t *out, size_t max);

#endif
