/* The OS layer on POSIX systems (Linux, macOS, the BSDs). See os.h. */
#define _GNU_SOURCE /* MAP_POPULATE, MADV_* beyond POSIX on glibc */
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Values come from the system headers; a name the platform does not define
 * is simply absent, so JavaScript can test for it. */
#define C(name) {#name, name}
const os_constant_t os_constants[] = {
    C(PROT_READ),
    C(PROT_WRITE),
    C(PROT_EXEC),
    C(PROT_NONE),
    C(MAP_SHARED),
    C(MAP_PRIVATE),
#ifdef MAP_NONBLOCK
    C(MAP_NONBLOCK),
#endif
#ifdef MAP_POPULATE
    C(MAP_POPULATE),
#endif
    C(MADV_NORMAL),
    C(MADV_RANDOM),
    C(MADV_SEQUENTIAL),
    C(MADV_WILLNEED),
    C(MADV_DONTNEED),
    {NULL, 0},
};
#undef C

static int last_error(void) { return uv_translate_sys_error(errno); }

size_t os_page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

size_t os_granularity(void) { return os_page_size(); }

size_t os_map_count_limit(void) {
#if defined(__linux__)
  unsigned long limit = 0;
  FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
  if (f == NULL) return 0;
  if (fscanf(f, "%lu", &limit) != 1) limit = 0;
  fclose(f);
  return (size_t)limit;
#else
  return 0; /* no per-process mapping-count limit elsewhere */
#endif
}

int os_map(void **addr, size_t len, int prot, int flags, int64_t fd,
           int64_t offset, os_extra_t *extra) {
  void *p;
  (void)extra;
  if ((int64_t)(off_t)offset != offset || (int64_t)(int)fd != fd)
    return uv_translate_sys_error(EOVERFLOW);
  p = mmap(NULL, len, prot, flags, (int)fd, (off_t)offset);
  if (p == MAP_FAILED) return last_error();
  *addr = p;
  return 0;
}

int os_unmap(void *addr, size_t len, os_extra_t *extra) {
  (void)extra;
  return munmap(addr, len) == 0 ? 0 : last_error();
}

int os_advise(void *addr, size_t len, int advice) {
  return madvise(addr, len, advice) == 0 ? 0 : last_error();
}

int os_sync(void *addr, size_t len, int blocking, int invalidate,
            const os_extra_t *extra) {
  int flags = (blocking ? MS_SYNC : MS_ASYNC) | (invalidate ? MS_INVALIDATE : 0);
  (void)extra;
  return msync(addr, len, flags) == 0 ? 0 : last_error();
}

int os_incore(void *addr, size_t len, unsigned char *vec) {
  /* mincore's vector is char * on the BSDs and macOS, unsigned char * on Linux. */
  return mincore(addr, len, (void *)vec) == 0 ? 0 : last_error();
}
