/* The OS layer on POSIX systems (Linux, macOS, the BSDs). See os.h. */
#define _GNU_SOURCE /* MAP_POPULATE, MADV_* beyond POSIX on glibc */
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/uio.h>
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
#ifdef MAP_ANONYMOUS
    C(MAP_ANONYMOUS),
#endif
#ifdef MAP_NORESERVE
    C(MAP_NORESERVE),
#endif
#ifdef MAP_HUGETLB
    C(MAP_HUGETLB),
#endif
#ifdef MAP_LOCKED
    C(MAP_LOCKED),
#endif
#ifdef MADV_HUGEPAGE
    C(MADV_HUGEPAGE),
#endif
#ifdef MADV_NOHUGEPAGE
    C(MADV_NOHUGEPAGE),
#endif
#ifdef MADV_DONTFORK
    C(MADV_DONTFORK),
#endif
#ifdef MADV_DOFORK
    C(MADV_DOFORK),
#endif
#ifdef MADV_DONTDUMP
    C(MADV_DONTDUMP),
#endif
#ifdef MADV_DODUMP
    C(MADV_DODUMP),
#endif
#ifdef MADV_FREE
    C(MADV_FREE),
#endif
#ifdef MADV_REMOVE
    C(MADV_REMOVE),
#endif
#ifdef MADV_POPULATE_READ
    C(MADV_POPULATE_READ),
#endif
#ifdef MADV_POPULATE_WRITE
    C(MADV_POPULATE_WRITE),
#endif
    C(MS_ASYNC),
    C(MS_SYNC),
    C(MS_INVALIDATE),
#ifdef POSIX_FADV_NORMAL
    C(POSIX_FADV_NORMAL),
    C(POSIX_FADV_SEQUENTIAL),
    C(POSIX_FADV_RANDOM),
    C(POSIX_FADV_NOREUSE),
    C(POSIX_FADV_WILLNEED),
    C(POSIX_FADV_DONTNEED),
#endif
    {NULL, 0},
};
#undef C

static int last_error(void) { return uv_translate_sys_error(errno); }

int os_uv_error(os_errno_t e) {
  switch (e) {
    case OS_ENOMEM: return uv_translate_sys_error(ENOMEM);
    case OS_EPERM: return uv_translate_sys_error(EPERM);
    case OS_ECANCELED: break;
  }
  return uv_translate_sys_error(ECANCELED);
}

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

int os_prefetch(void *addr, size_t len) {
#if defined(__linux__)
  /* One byte of each page, read through the kernel: a page that cannot be
   * read gives EFAULT instead of SIGSEGV or SIGBUS. */
  enum { BATCH = 1024 };
  struct iovec local, remote[BATCH];
  unsigned char sink[BATCH];
  size_t page = os_page_size(), done = 0, n;
  ssize_t got;
#endif
#ifdef MADV_POPULATE_READ
  /* Linux 5.14+: faults the pages in, and fails with EFAULT where touching
   * them would raise SIGBUS or SIGSEGV. EINVAL: an older kernel. */
  if (madvise(addr, len, MADV_POPULATE_READ) == 0) return 0;
  if (errno != EINVAL) return last_error();
#endif
  if (madvise(addr, len, MADV_WILLNEED) != 0) return last_error();
#if defined(__linux__)
  local.iov_base = sink;
  while (done < len) {
    for (n = 0; n < BATCH && done < len; n++, done += page) {
      remote[n].iov_base = (unsigned char *)addr + done;
      remote[n].iov_len = 1;
    }
    local.iov_len = n;
    got = process_vm_readv(getpid(), &local, 1, remote, n, 0);
    if (got < 0) return last_error();
    if ((size_t)got != n) return uv_translate_sys_error(EFAULT); /* stopped at a bad page */
  }
#endif
  return 0;
}

int os_fadvise(int64_t fd, int64_t offset, int64_t len, int advice) {
#ifdef POSIX_FADV_NORMAL
  /* posix_fadvise returns the error number rather than setting errno. */
  int err = posix_fadvise((int)fd, (off_t)offset, (off_t)len, advice);
  return err == 0 ? 0 : uv_translate_sys_error(err);
#else
  (void)fd; (void)offset; (void)len; (void)advice;
  return uv_translate_sys_error(ENOSYS);
#endif
}

int os_lock(void *addr, size_t len) {
  return mlock(addr, len) == 0 ? 0 : last_error();
}

int os_unlock(void *addr, size_t len) {
  return munlock(addr, len) == 0 ? 0 : last_error();
}

int os_protect(void *addr, size_t len, int prot) {
  return mprotect(addr, len, prot) == 0 ? 0 : last_error();
}

#ifdef MADV_POPULATE_READ
/* Whether the running kernel knows `advice`: try it on one anonymous page. */
static int kernel_has_advice(int advice) {
  size_t page = os_page_size();
  int ok;
  void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 0;
  ok = madvise(p, page, advice) == 0;
  munmap(p, page);
  return ok;
}
#endif

size_t os_features(os_feature_t *out, size_t max) {
  size_t n = 0;
#define F(feature, value) \
  if (n < max) { out[n].name = feature; out[n].supported = (value); n++; }
#ifdef MADV_POPULATE_READ
  F("populateRead", kernel_has_advice(MADV_POPULATE_READ))
  F("populateWrite", kernel_has_advice(MADV_POPULATE_WRITE))
#else
  F("populateRead", 0)
  F("populateWrite", 0)
#endif
#ifdef MAP_ANONYMOUS
  F("anonymous", 1)
#else
  F("anonymous", 0)
#endif
  F("residency", 1)
  F("lock", 1)
  F("protect", 1)
  F("mappingLimit", os_map_count_limit() != 0)
#undef F
  return n;
}
