/* The OS layer on POSIX systems (Linux, macOS, the BSDs). See os.h. */
#define _GNU_SOURCE /* MAP_POPULATE, MADV_* beyond POSIX on glibc */
#include "os.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/syscall.h>   /* SYS_memfd_create */
#include <sys/sysmacros.h> /* major(), minor() */
#endif
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "glibc_compat.h"
#include "os_linux.h"

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

#if defined(__linux__)
/* Linux values that older C libraries do not name yet. */
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1 */
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08 /* Linux 6.11 */
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
#endif

/* Values come from the system headers; a name the platform does not define
 * is simply absent, so JavaScript can test for it. */
#define C(name) \
  { #name, name, 0 }
#define A(name, kind) \
  { #name, name, kind }
const os_constant_t mmio_os_constants[] = {
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
/* Accepted and harmless: Linux ignores DENYWRITE and EXECUTABLE, FILE
 * is 0, STACK and 32BIT only choose where the mapping goes, SYNC needs
 * SHARED_VALIDATE (which checks the flags) and a DAX file. */
#ifdef MAP_SHARED_VALIDATE
    C(MAP_SHARED_VALIDATE),
#endif
#ifdef MAP_SYNC
    C(MAP_SYNC),
#endif
#ifdef MAP_DENYWRITE
    C(MAP_DENYWRITE),
#endif
#ifdef MAP_EXECUTABLE
    C(MAP_EXECUTABLE),
#endif
#ifdef MAP_FILE
    C(MAP_FILE),
#endif
#ifdef MAP_STACK
    C(MAP_STACK),
#endif
#ifdef MAP_32BIT
    C(MAP_32BIT),
#endif
    A(MADV_NORMAL, ADVICE_KEEPS),
    A(MADV_RANDOM, ADVICE_KEEPS),
    A(MADV_SEQUENTIAL, ADVICE_KEEPS),
    A(MADV_WILLNEED, ADVICE_KEEPS),
    A(MADV_DONTNEED, ADVICE_DISCARDS),
#ifdef MADV_HUGEPAGE
    A(MADV_HUGEPAGE, ADVICE_KEEPS),
#endif
#ifdef MADV_NOHUGEPAGE
    A(MADV_NOHUGEPAGE, ADVICE_KEEPS),
#endif
#ifdef MADV_DONTFORK
    A(MADV_DONTFORK, ADVICE_KEEPS),
#endif
#ifdef MADV_DOFORK
    A(MADV_DOFORK, ADVICE_KEEPS),
#endif
#ifdef MADV_DONTDUMP
    A(MADV_DONTDUMP, ADVICE_KEEPS),
#endif
#ifdef MADV_DODUMP
    A(MADV_DODUMP, ADVICE_KEEPS),
#endif
#ifdef MADV_FREE
    A(MADV_FREE, ADVICE_DISCARDS),
#endif
#ifdef MADV_REMOVE
    A(MADV_REMOVE, ADVICE_PUNCHES),
#endif
#ifdef MADV_POPULATE_READ
    A(MADV_POPULATE_READ, ADVICE_KEEPS),
#endif
#ifdef MADV_POPULATE_WRITE
    A(MADV_POPULATE_WRITE, ADVICE_KEEPS),
#endif
#ifdef MADV_MERGEABLE
    A(MADV_MERGEABLE, ADVICE_KEEPS),
#endif
#ifdef MADV_UNMERGEABLE
    A(MADV_UNMERGEABLE, ADVICE_KEEPS),
#endif
#ifdef MADV_WIPEONFORK
    /* A child process sees these pages zeroed: whole pages only. */
    A(MADV_WIPEONFORK, ADVICE_DISCARDS),
#endif
#ifdef MADV_KEEPONFORK
    A(MADV_KEEPONFORK, ADVICE_KEEPS),
#endif
#ifdef MADV_COLD
    A(MADV_COLD, ADVICE_KEEPS),
#endif
#if defined(__linux__) && defined(MADV_PAGEOUT)
    /* macOS has a private MADV_PAGEOUT (10) of another meaning. */
    A(MADV_PAGEOUT, ADVICE_KEEPS),
#endif
#ifdef MADV_DONTNEED_LOCKED
    A(MADV_DONTNEED_LOCKED, ADVICE_DISCARDS),
#endif
#ifdef MADV_COLLAPSE
    A(MADV_COLLAPSE, ADVICE_KEEPS),
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
    {NULL, 0, 0},
};
#undef A
#undef C

/* Not exported, but named when passed: each can change memory the caller
 * did not name. (Not exported either, as they end the process or make pages
 * fault: MADV_HWPOISON, MADV_SOFT_OFFLINE, MADV_GUARD_INSTALL.) */
#define R(name, reason) \
  { #name, name, reason }
const os_refused_t mmio_os_refused_flags[] = {
    R(MAP_FIXED, "replaces whatever else is mapped at the address, and map() takes no address"),
#ifdef MAP_FIXED_NOREPLACE
    R(MAP_FIXED_NOREPLACE, "needs an address, and map() takes none"),
#endif
#ifdef MAP_GROWSDOWN
    R(MAP_GROWSDOWN,
      "makes the mapping grow down into the addresses below it when they are touched"),
#endif
#ifdef MAP_DROPPABLE
    R(MAP_DROPPABLE,
      "lets the kernel drop the contents under memory pressure, so bytes change unasked"),
#endif
#ifdef MAP_UNINITIALIZED
    R(MAP_UNINITIALIZED,
      "can hand out another process's old memory (kernels built for devices without an MMU)"),
#endif
    {NULL, 0, NULL},
};
#undef R

static int last_error(void) { return -errno; }

size_t mmio_os_page_size(void) {
  /* Asked on every map(): sysconf() once. A race only stores the same value. */
  static size_t page;
  if (page == 0) page = (size_t)sysconf(_SC_PAGESIZE);
  return page;
}

size_t mmio_os_granularity(void) { return mmio_os_page_size(); }

size_t mmio_os_map_count_limit(int *err) {
#if defined(__linux__)
  unsigned long limit = 0;
  FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
  *err = 0;
  if (f == NULL) {
    *err = last_error();
    return 0;
  }
  if (fscanf(f, "%lu", &limit) != 1) limit = 0;
  fclose(f);
  return (size_t)limit;
#else
  *err = 0;
  return 0; /* no per-process mapping-count limit elsewhere */
#endif
}

/* The name each copy's mark maps under: /proc/self/maps shows it as
 * "/memfd:mmap-io copy (deleted)". A file whose path holds it too only
 * makes every copy count one more and read the count more often. */
#define COPY_MARK "/memfd:mmap-io copy"

#if defined(__linux__)
/* Where this copy's mark is mapped (0: not marked). */
static _Atomic uintptr_t own_mark;
#endif

/* Lines of /proc/self/maps, and how many hold COPY_MARK (`marks`: NULL not
 * to look) and whether this copy's own is one of them (`own`), read through
 * `block` with async-signal-safe calls only; 0 with the error in `*err`
 * when it cannot be read. */
static size_t count_maps(char *block, size_t size, size_t *marks, bool *own, int *err) {
#if defined(__linux__)
  /* One line per mapping; read() rather than stdio, which a signal
   * handler may not use. Each line starts with its first address in hex. */
  static const char mark[] = COPY_MARK;
  const uintptr_t ours = atomic_load_explicit(&own_mark, memory_order_relaxed);
  size_t lines = 0, matched = 0, found = 0;
  uintptr_t start = 0;
  bool in_start = true, own_seen = false;
  ssize_t got, i;
  int fd;
  *err = 0;
  do fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    *err = last_error();
    return 0;
  }
  while ((got = read(fd, block, size)) != 0) {
    if (got < 0) {
      if (errno == EINTR) continue;
      *err = last_error();
      lines = 0;
      break;
    }
    if (marks == NULL) {
      for (i = 0; i < got; i++) lines += block[i] == '\n';
      continue;
    }
    for (i = 0; i < got; i++) {
      char c = block[i];
      if (c == '\n') {
        lines++;
        start = 0;
        in_start = true;
        matched = 0;
        continue;
      }
      if (in_start) {
        if (c >= '0' && c <= '9') start = start * 16 + (uintptr_t)(c - '0');
        else if (c >= 'a' && c <= 'f') start = start * 16 + (uintptr_t)(c - 'a' + 10);
        else in_start = false;
        continue;
      }
      /* '/' starts the mark and is nowhere else in it: a mismatch restarts
       * the match at this character. */
      if (c == mark[matched]) matched++;
      else matched = c == mark[0];
      if (matched == sizeof mark - 1) {
        found++;
        own_seen = own_seen || (ours != 0 && start == ours);
        matched = 0;
      }
    }
  }
  close(fd);
  if (marks != NULL) *marks = lines != 0 ? found : 0;
  if (own != NULL) *own = lines != 0 && own_seen;
  return lines;
#else
  (void)block;
  (void)size;
  if (marks != NULL) *marks = 0;
  if (own != NULL) *own = false;
  *err = -ENOSYS;
  return 0;
#endif
}

size_t mmio_os_map_count(size_t *marks, bool *own, int *err) {
  /* A big block: this runs every few thousand map() calls, and at tens of
   * thousands of lines. */
  char block[65536];
  return count_maps(block, sizeof block, marks, own, err);
}

/* No /proc, or not allowed to read it: no later read will do better. Out
 * of descriptors or memory, interrupted: a later one may. */
bool mmio_os_map_count_lasting(int err) {
  return err == -ENOENT || err == -EACCES || err == -EPERM || err == -ENOSYS || err == 0;
}

size_t mmio_os_map_count_with(char *block, size_t size) {
  int err;
  return count_maps(block, size, NULL, NULL, &err);
}

bool mmio_os_mark_copy(void) {
#if defined(__linux__) && defined(SYS_memfd_create)
  /* One page of a memfd of our own, mapped with no access: a mapping of its
   * own file never merges with another copy's. The system call rather than
   * memfd_create(), which glibc 2.28 lacks. Under a lock: every thread's
   * environment asks. */
  static os_spinlock_t lock;
  static int state; /* 0 not tried, 1 marked, -1 cannot be */
  int fd, result;
  void *at;
  mmio_os_spin_lock(&lock);
  if (state == 0) {
    state = -1;
    fd = (int)syscall(SYS_memfd_create, "mmap-io copy", 1U /* MFD_CLOEXEC */);
    if (fd >= 0) {
      if (ftruncate(fd, (off_t)mmio_os_page_size()) == 0) {
        at = mmap(NULL, mmio_os_page_size(), PROT_NONE, MAP_SHARED, fd, 0);
        if (at != MAP_FAILED) {
          atomic_store_explicit(&own_mark, (uintptr_t)at, memory_order_relaxed);
          state = 1;
        }
      }
      close(fd);
    }
  }
  result = state;
  mmio_os_spin_unlock(&lock);
  return result == 1;
#else
  return false; /* no mark: every copy counts as one of many */
#endif
}

int mmio_os_check_mappable(int64_t fd, int prot) {
#if defined(__linux__)
  /* Linux maps a TCP socket for zero-copy receive, and the first read of
   * such a Buffer raises SIGBUS. Asking the socket layer is the cheapest
   * test (fstat() costs as much as the mapping's own bookkeeping). A FIFO
   * needs no test: mmap() refuses it with ENODEV, and so do we sockets.
   * Writable or executable, a TCP socket is refused by mmap() itself
   * (EPERM; other sockets ENODEV): no test, a system call saved. */
  int type;
  socklen_t size = sizeof type;
  if ((prot & (PROT_WRITE | PROT_EXEC)) != 0) return 0;
  if ((int64_t)(int)fd != fd) return -EBADF;
  if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &size) == 0) return -ENODEV;
  return errno == ENOTSOCK ? 0 : last_error();
#else
  (void)fd;     /* elsewhere mmap() refuses sockets itself */
  (void)prot;
  return 0;
#endif
}

int mmio_os_map(void **addr, size_t len, int prot, int flags, int64_t fd, int64_t offset,
                const char *name, os_extra_t *extra) {
  void *p;
  (void)extra;
  (void)name;
  if ((int64_t)(off_t)offset != offset || (int64_t)(int)fd != fd) return -EOVERFLOW;
  p = mmap(NULL, len, prot, flags, (int)fd, (off_t)offset);
  if (p == MAP_FAILED) return last_error();
  *addr = p;
  return 0;
}

bool mmio_os_mapped_files_locked(void) { return false; }

bool mmio_os_can_split(void) { return true; }

bool mmio_os_prot_writable(int prot) { return (prot & PROT_WRITE) != 0; }

bool mmio_os_prot_readable(int prot) { return (prot & PROT_READ) != 0; }

bool mmio_os_flags_shared(int flags) { return (flags & MAP_SHARED) != 0; }

int mmio_os_unmap(void *addr, size_t len, os_extra_t *extra) {
  (void)extra;
  return munmap(addr, len) == 0 ? 0 : last_error();
}

int mmio_os_placeholder(void *addr, size_t len, os_extra_t *extra, bool *reserved) {
  /* One call: the kernel drops the file's pages and maps anonymous memory in
   * their place with no moment where the range is free. NORESERVE: no swap
   * is set aside for it; it holds nothing unless a stale pointer writes. */
  void *p = mmap(addr, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  (void)extra;
  if (p == MAP_FAILED) return last_error();
  *reserved = true;
  return 0;
}

int mmio_os_release(void *addr, size_t len) { return munmap(addr, len) == 0 ? 0 : last_error(); }

bool mmio_os_release_at_once(int prot, int flags) {
#ifdef MAP_LOCKED
  if ((flags & MAP_LOCKED) != 0) return true;
#endif
  return (flags & MAP_SHARED) != 0 && (prot & PROT_WRITE) != 0;
}

int mmio_os_advise(void *addr, size_t len, int advice) {
  return madvise(addr, len, advice) == 0 ? 0 : last_error();
}

int mmio_os_discard(void *addr, size_t len) {
  return madvise(addr, len, MADV_DONTNEED) == 0 ? 0 : last_error();
}

int mmio_os_sync(void *addr, size_t len, int blocking, int invalidate, const os_extra_t *extra) {
  int flags = (blocking ? MS_SYNC : MS_ASYNC) | (invalidate ? MS_INVALIDATE : 0);
  (void)extra;
  return msync(addr, len, flags) == 0 ? 0 : last_error();
}

int mmio_os_incore(void *addr, size_t len, unsigned char *vec) {
  /* mincore's vector is char * on the BSDs and macOS, unsigned char * on Linux. */
  return mincore(addr, len, (void *)vec) == 0 ? 0 : last_error();
}

#if defined(__linux__)
/* One byte of each page of [addr, addr + len), read through the kernel: a
 * page that cannot be read gives EFAULT instead of SIGSEGV or SIGBUS.
 * process_vm_readv() reads them into a buffer, up to 1024 pages a call.
 * Where it is refused (seccomp profiles such as Docker's without
 * CAP_SYS_PTRACE give EPERM; qemu-user, ENOSYS), writev() into a pipe of our
 * own does the same, and the bytes are read back out of it. */
enum { TOUCH_BATCH = 1024 };

static int touch_by_pipe(void *addr, size_t len, size_t done) {
  struct iovec remote[TOUCH_BATCH];
  unsigned char sink[TOUCH_BATCH];
  size_t page = mmio_os_page_size(), n;
  ssize_t got;
  int fds[2], err = 0;
  if (pipe2(fds, O_CLOEXEC) != 0) return last_error();
  while (err == 0 && done < len) {
    for (n = 0; n < TOUCH_BATCH && done < len; n++, done += page) {
      remote[n].iov_base = (unsigned char *)addr + done;
      remote[n].iov_len = 1;
    }
    while ((got = writev(fds[1], remote, (int)n)) < 0 && errno == EINTR) {
    }
    if (got < 0) {
      err = last_error();
      break;
    }
    /* Drain what was written: at most 1024 bytes, already in the pipe. */
    for (ssize_t left = got, r; left > 0; left -= r) {
      while ((r = read(fds[0], sink, (size_t)left)) < 0 && errno == EINTR) {
      }
      if (r <= 0) {
        err = r < 0 ? last_error() : -EIO;
        break;
      }
    }
    if (err == 0 && (size_t)got != n) err = -EFAULT; /* stopped at a bad page */
  }
  close(fds[0]);
  close(fds[1]);
  return err;
}

static int touch_pages(void *addr, size_t len) {
  struct iovec local, remote[TOUCH_BATCH];
  unsigned char sink[TOUCH_BATCH];
  size_t page = mmio_os_page_size(), done = 0, n;
  ssize_t got;
  local.iov_base = sink;
  while (done < len) {
    size_t from = done;
    for (n = 0; n < TOUCH_BATCH && done < len; n++, done += page) {
      remote[n].iov_base = (unsigned char *)addr + done;
      remote[n].iov_len = 1;
    }
    local.iov_len = n;
    got = process_vm_readv(getpid(), &local, 1, remote, n, 0);
    if (got < 0 && (errno == ENOSYS || errno == EPERM)) return touch_by_pipe(addr, len, from);
    if (got < 0) return last_error();
    if ((size_t)got != n) return -EFAULT; /* stopped at a bad page */
  }
  return 0;
}
#endif

int mmio_os_prefetch(void *addr, size_t len) {
#ifdef MADV_POPULATE_READ
  /* Linux 5.14+: faults the pages in, and fails with EFAULT where touching
   * them would raise SIGBUS or SIGSEGV. EINVAL: an older kernel. */
  if (madvise(addr, len, MADV_POPULATE_READ) == 0) return 0;
  if (errno != EINVAL) return last_error();
#endif
  if (madvise(addr, len, MADV_WILLNEED) != 0) return last_error();
#if defined(__linux__)
  return touch_pages(addr, len);
#else
  return 0;
#endif
}

int mmio_os_fadvise(int64_t fd, int64_t offset, int64_t len, int advice) {
#ifdef POSIX_FADV_NORMAL
  /* posix_fadvise returns the error number rather than setting errno. */
  int err = posix_fadvise((int)fd, (off_t)offset, (off_t)len, advice);
  return err == 0 ? 0 : -err;
#else
  (void)fd;
  (void)offset;
  (void)len;
  (void)advice;
  return -ENOSYS;
#endif
}

int mmio_os_lock(void *addr, size_t len) { return mlock(addr, len) == 0 ? 0 : last_error(); }

int mmio_os_unlock(void *addr, size_t len) { return munlock(addr, len) == 0 ? 0 : last_error(); }

int mmio_os_protect(void *addr, size_t len, int prot) {
  return mprotect(addr, len, prot) == 0 ? 0 : last_error();
}

#if defined(__linux__)
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17; a mere hint before */
#endif

/* What the kernel says of the mapping that holds an address. */
typedef struct {
  unsigned long start, end;          /* its extent (merged neighbours included) */
  unsigned long major, minor, inode; /* the file it maps; inode 0: none */
  bool readable;
} vma_info_t;

/* The kernel mapping that holds `addr`: 0, or ENOSYS when none does or the
 * kernel cannot say. */
static int vma_of(const void *addr, vma_info_t *v) {
  static int query_works = 1;
  char line[512];
  int result = -ENOSYS, fd;
  FILE *f;
  if (__atomic_load_n(&query_works, __ATOMIC_RELAXED) &&
      (fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)) >= 0) {
    struct procmap_query_v1 q;
    memset(&q, 0, sizeof q);
    q.size = sizeof q;
    q.query_addr = (uint64_t)(uintptr_t)addr;
    if (ioctl(fd, PROCMAP_QUERY_IOCTL, &q) == 0) {
      v->start = (unsigned long)q.vma_start;
      v->end = (unsigned long)q.vma_end;
      v->readable = (q.vma_flags & 1) != 0; /* PROCMAP_QUERY_VMA_READABLE */
      v->major = q.dev_major;
      v->minor = q.dev_minor;
      v->inode = (unsigned long)q.inode;
      result = 0;
    } else if (errno == ENOTTY || errno == EINVAL || errno == ENOSYS) {
      __atomic_store_n(&query_works, 0, __ATOMIC_RELAXED); /* an older kernel, or qemu */
    }
    close(fd);
    if (result == 0) return 0;
  }
  /* Else the line of /proc/self/maps whose range contains the address (the
   * kernel may have merged the mapping with a neighbour, so it need not
   * start there): "start-end perms offset major:minor inode path". */
  if ((f = fopen("/proc/self/maps", "re")) == NULL) return -ENOSYS;
  while (fgets(line, sizeof line, f) != NULL) {
    size_t n = strlen(line);
    bool whole = n > 0 && line[n - 1] == '\n';
    char perms[8] = "";
    if (sscanf(line, "%lx-%lx %7s %*x %lx:%lx %lu", &v->start, &v->end, perms, &v->major, &v->minor,
               &v->inode) == 6 &&
        (unsigned long)(uintptr_t)addr >= v->start && (unsigned long)(uintptr_t)addr < v->end) {
      v->readable = perms[0] == 'r';
      result = 0;
    }
    /* A path longer than the buffer: skip the rest of its line. */
    while (!whole && fgets(line, sizeof line, f) != NULL) {
      n = strlen(line);
      whole = n > 0 && line[n - 1] == '\n';
    }
    if (result == 0) break;
  }
  fclose(f);
  return result;
}
#endif

#if defined(__linux__)
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
/* Whether mremap() can move a shared mapping's page tables and leave the
 * mapping where it was (MREMAP_DONTUNMAP: Linux 5.7, shared mappings from
 * 5.13). Asked once, of a page of shared memory; mincore() of the old
 * range must still work afterwards, which qemu-user (it forgets the old
 * range) fails. A race between threads only asks twice. The new address
 * is passed as NULL: without MREMAP_FIXED the kernel takes it as a hint,
 * and whatever the register held (unaligned) made it EINVAL. */
static int dontunmap_works(void) {
  static int known = -1;
  if (known < 0) {
    size_t len = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char vec = 0;
    void *p = MAP_FAILED,
         *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (a != MAP_FAILED) p = mremap(a, len, len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    known = p != MAP_FAILED && mincore(a, len, &vec) == 0;
    if (p != MAP_FAILED) munmap(p, len);
    if (a != MAP_FAILED) munmap(a, len);
  }
  return known;
}

/* A range of `len` that no one else has the address of, to move a mapping
 * into. Shared anonymous memory is a new object each time, which the
 * kernel merges with no neighbour: a mapping that spans exactly this range
 * later is the reservation itself, untouched. No memory is charged for it
 * (PROT_NONE, MAP_NORESERVE). */
static char *reserve(size_t len, const void *like) {
  /* At the same offset from a huge-page boundary as the mapping it will
   * hold: the kernel maps a file's large folios with one page-table entry
   * per huge page (PMD), and moving such an entry to an address that is not
   * so aligned splits it, which for a file drops its pages from the page
   * tables (a 16 MiB mapping kept 60 kB resident). A PMD covers a page of
   * entries: 2 MiB with 4 KiB pages, 32 MiB with 16 KiB, 512 MiB with 64 KiB. */
  size_t page = mmio_os_page_size(), pmd = page / 8 * page, pad, head;
  char *raw;
  void *r;
  pad = len >= pmd ? pmd : 0;
  r = mmap(NULL, len + pad, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) return NULL;
  if (pad == 0) return r;
  raw = r;
  head = ((uintptr_t)like - (uintptr_t)raw) & (pmd - 1);
  /* The parts around it are ours alone: given back at once. */
  if (head != 0) munmap(raw, head);
  if (pad - head != 0) munmap(raw + head + len, pad - head);
  return raw + head;
}

/* After a move into the first `head` bytes of reservation `r` failed. With
 * MREMAP_FIXED the kernel unmaps the target before it moves, and may fail
 * after that: the head may be a hole, which another thread may have mapped
 * since. Only what is still the reservation's goes back: all of it when it
 * is one mapping still; else the tail, which the move never touched, and
 * the head if it is a hole (refilled by us, then unmapped). A head the
 * kernel cannot tell us about stays reserved: lost address space, never
 * another thread's mapping unmapped. */
static void unreserve_after_failure(char *r, size_t head, size_t len) {
  vma_info_t v;
  void *q;
  if (vma_of(r, &v) == 0 && v.start == (uintptr_t)r && v.end == (uintptr_t)r + len) {
    munmap(r, len);
    return;
  }
  munmap(r + head, len - head);
  q = mmap(r, head, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
           -1, 0);
  if (q != MAP_FAILED) munmap(q, head); /* r: the hole; elsewhere: a kernel without NOREPLACE */
}

/* Moves the page tables of [addr, addr + old_len) to a range of new_len,
 * leaving the old range mapped (MREMAP_DONTUNMAP). First into the head of a
 * reservation of new_len (MREMAP_FIXED replaces nothing but our own
 * reservation there), whose tail is then freed and grown into in place:
 * one move of the page tables instead of two; another thread that maps
 * into the freed tail meanwhile only makes the growth move them again.
 * Without a reservation, or when that move fails, wherever the kernel puts
 * them, then grown there or moved again; neither call uses MREMAP_FIXED.
 * MAP_FAILED when it could not be done: the old range is as it was. */
static void *move_and_grow(void *addr, size_t old_len, size_t new_len, bool shared) {
  char *r = reserve(new_len, addr);
  void *p = MAP_FAILED, *grown;
  if (r != NULL) {
    p = mremap(addr, old_len, old_len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, r);
    if (p == MAP_FAILED) {
      unreserve_after_failure(r, old_len, new_len);
    } else {
      munmap(r + old_len, new_len - old_len);
      if ((grown = mremap(p, old_len, new_len, 0)) != MAP_FAILED) return grown;
    }
  }
  if (p == MAP_FAILED &&
      (p = mremap(addr, old_len, old_len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL)) == MAP_FAILED)
    return MAP_FAILED;
  if ((grown = mremap(p, old_len, new_len, MREMAP_MAYMOVE)) != MAP_FAILED) return grown;
  /* The old range was never unmapped: still ours. A shared mapping's copy
   * is dropped (no one has its address); a private one's pages move back. */
  if (shared) munmap(p, old_len);
  else mremap(p, old_len, old_len, MREMAP_MAYMOVE | MREMAP_FIXED, addr);
  return MAP_FAILED;
}
#endif

int mmio_os_remap_supported(bool shared, const os_extra_t *extra) {
  (void)extra;
#if defined(__linux__)
  /* A private mapping that cannot grow in place moves; the move must leave
   * the old range mapped (and ours) until its placeholder replaces it. */
  return shared || dontunmap_works() ? 0 : -ENOTSUP;
#else
  (void)shared;
  return -ENOSYS; /* no mremap() */
#endif
}

int mmio_os_remap(void *addr, size_t old_len, size_t new_len, bool shared, int64_t offset, int prot,
                  os_extra_t *extra, os_extra_t *new_extra, void **new_addr, os_remap_t *how) {
#if defined(__linux__)
  void *p;
  (void)offset;
  (void)prot;
  *new_extra = *extra;
  /* Where it is, when the range after it is free. */
  if ((p = mremap(addr, old_len, new_len, 0)) != MAP_FAILED) {
    *new_addr = p;
    *how = REMAP_IN_PLACE;
    return 0;
  }
  if (errno != ENOMEM) return last_error();
  /* The page tables to a new range, the old range left mapped (shared: to
   * the same pages, which fault in again only if a stale pointer touches
   * them; private: to nothing of value, until the caller's placeholder). */
  if (dontunmap_works()) {
    if ((p = move_and_grow(addr, old_len, new_len, shared)) != MAP_FAILED) {
      *new_addr = p;
      *how = shared ? REMAP_DUPLICATE : REMAP_MOVED;
      return 0;
    }
    if (!shared) return -ENOMEM;
  }
  if (!shared) return -ENOTSUP; /* mmio_os_remap_supported() said so */
  /* old_len 0: a new mapping of the same pages, the old one untouched. */
  if ((p = mremap(addr, 0, new_len, MREMAP_MAYMOVE)) == MAP_FAILED) return last_error();
  *new_addr = p;
  *how = REMAP_DUPLICATE;
  return 0;
#else
  (void)addr;
  (void)old_len;
  (void)new_len;
  (void)shared;
  (void)offset;
  (void)prot;
  (void)extra;
  (void)new_extra;
  (void)new_addr;
  (void)how;
  return -ENOSYS; /* no mremap() */
#endif
}

void mmio_os_unremap(void *addr, size_t old_len, void *new_addr, size_t new_len, os_remap_t how,
                     os_extra_t *new_extra) {
  (void)new_extra;
#if defined(__linux__)
  switch (how) {
    case REMAP_IN_PLACE: mremap(addr, new_len, old_len, 0); break; /* shrinking cannot fail */
    case REMAP_DUPLICATE: munmap(new_addr, new_len); break;
    case REMAP_MOVED:
      /* Back over the old range: MREMAP_DONTUNMAP left it mapped, so it is
       * still ours, whatever else happened meanwhile. */
      mremap(new_addr, new_len, old_len, MREMAP_MAYMOVE | MREMAP_FIXED, addr);
      break;
  }
#else
  (void)addr;
  (void)old_len;
  (void)new_addr;
  (void)new_len;
  (void)how;
#endif
}

int mmio_os_fd_is_mapped_file(int64_t fd, void *addr, uint64_t *size, const os_extra_t *extra) {
  struct stat st;
  (void)extra;
  if ((int64_t)(int)fd != fd) return -EBADF;
  if (fstat((int)fd, &st) != 0) return last_error();
  *size = (uint64_t)st.st_size;
#if defined(__linux__)
  {
    vma_info_t v;
    int err = vma_of(addr, &v);
    if (err != 0) return err;
    return v.inode == (unsigned long)st.st_ino && v.major == major(st.st_dev) &&
                   v.minor == minor(st.st_dev)
               ? 0
               : -EINVAL;
  }
#else
  (void)addr;
  return -ENOSYS;
#endif
}

int mmio_os_readable(void *addr) {
#if defined(__linux__)
  vma_info_t v;
  int err = vma_of(addr, &v);
  return err != 0 ? err : v.readable ? 1 : 0;
#else
  (void)addr;
  return -ENOSYS;
#endif
}

int mmio_os_grow_fd(int64_t fd, uint64_t size) {
  struct stat st;
  if ((int64_t)(int)fd != fd) return -EBADF;
  if (fstat((int)fd, &st) != 0) return last_error();
  if ((uint64_t)st.st_size >= size) return 0;
  if ((uint64_t)(off_t)size != size) return -EFBIG;
  while (ftruncate((int)fd, (off_t)size) != 0)
    if (errno != EINTR) return last_error();
  return 0;
}

void *mmio_os_runtime_symbol(const char *name) { return dlsym(RTLD_DEFAULT, name); }

int mmio_os_pin_module(void) {
  Dl_info info;
  if (dladdr((void *)(uintptr_t)mmio_os_pin_module, &info) == 0 || info.dli_fname == NULL)
    return -ENOENT;
  /* One more reference to ourselves, never dropped, and never unloaded. */
  return dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE) != NULL ? 0 : -ENOENT;
}

/* "/" + name: shm_open's names. The name is checked by lib/ (letters,
 * digits, '.', '_', '-'). */
static int shm_name(const char *name, char *out, size_t size) {
  if ((size_t)snprintf(out, size, "/%s", name) >= size) return -ENAMETOOLONG;
  return 0;
}

/* Open the shared memory object `name` without waiting: /dev/shm is
 * writable by every local user, who may have planted a FIFO under a name
 * (opening one for reading would block until a writer came). What is not a
 * regular file is refused, as open() refuses it: EISDIR for a directory,
 * ENODEV for the rest. Returns the fd, or a negative error. */
static int shm_open_regular(const char *name, int flags, struct stat *st) {
  char path[256];
  int fd, err;
  if ((err = shm_name(name, path, sizeof path)) != 0) return err;
  if ((fd = shm_open(path, flags | O_NONBLOCK | O_CLOEXEC, 0600)) < 0) return last_error();
  if (fstat(fd, st) != 0) {
    err = last_error();
  } else if (!S_ISREG(st->st_mode)) {
    err = S_ISDIR(st->st_mode) ? -EISDIR : -ENODEV;
  } else {
    return fd; /* O_NONBLOCK changes nothing for a regular file */
  }
  close(fd);
  return err;
}

int mmio_os_shm_map(const char *name, bool create, bool exclusive, bool readonly, size_t max,
                    size_t *size, void **addr, os_extra_t *extra) {
  struct stat st;
  int fd, err, flags = readonly ? O_RDONLY : O_RDWR;
  void *p;
  (void)extra;
  if (create) flags |= O_CREAT | (exclusive ? O_EXCL : 0);
  if ((fd = shm_open_regular(name, flags, &st)) < 0) return fd;
  if (create && (uint64_t)st.st_size < *size) {
    if (ftruncate(fd, (off_t)*size) != 0) goto failed;
  } else {
    *size = (size_t)st.st_size;
    if ((uint64_t)st.st_size > max) {
      close(fd);
      return -EFBIG;
    }
  }
  if (*size == 0) { /* nothing to map: an empty object is EINVAL for mmap */
    close(fd);
    *addr = NULL;
    return 0;
  }
  p = mmap(NULL, *size, readonly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) goto failed;
  close(fd); /* the mapping keeps the memory */
  *addr = p;
  return 0;
failed:
  err = last_error();
  close(fd);
  return err;
}

int mmio_os_shm_size(const char *name, size_t *size) {
  struct stat st;
  int fd = shm_open_regular(name, O_RDONLY, &st);
  if (fd < 0) return fd;
  close(fd);
  *size = (size_t)st.st_size;
  return 0;
}

int mmio_os_shm_remove(const char *name) {
  char path[256];
  int err;
  if ((err = shm_name(name, path, sizeof path)) != 0) return err;
  return shm_unlink(path) == 0 ? 0 : last_error();
}

/* From /proc/self/status: whether this process may lock memory without
 * limit (CAP_IPC_LOCK), and how many bytes it has locked. */
static void lock_status(int *unlimited, unsigned long long *locked) {
#if defined(__linux__)
  char line[256];
  unsigned long long caps, kib;
  FILE *f = fopen("/proc/self/status", "re");
  *unlimited = 0;
  *locked = 0;
  if (f == NULL) return;
  while (fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, "VmLck: %llu kB", &kib) == 1) *locked = kib * 1024;
    if (sscanf(line, "CapEff: %llx", &caps) == 1)
      *unlimited = (caps & (1ull << 14)) != 0; /* CAP_IPC_LOCK */
  }
  fclose(f);
#else
  *unlimited = 0;
  *locked = 0;
#endif
}

const char *mmio_os_lock_hint(int err, size_t len) {
  struct rlimit limit;
  unsigned long long locked;
  int unlimited;
  if (err == -EAGAIN) return "locked memory is limited by RLIMIT_MEMLOCK, see ulimit -l";
  if (err != -ENOMEM && err != -EPERM) return NULL;
  lock_status(&unlimited, &locked);
  if (!unlimited && getrlimit(RLIMIT_MEMLOCK, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      (err == -EPERM || locked + len > limit.rlim_cur))
    return "locked memory is limited by RLIMIT_MEMLOCK, see ulimit -l";
  /* The limit is not the cause: mlock() also says ENOMEM for pages that it
   * cannot bring into memory. */
  return err == -ENOMEM ? "the range has pages that cannot be locked: PROT_NONE pages, or "
                          "pages past the end of the file"
                        : NULL;
}

uint64_t mmio_os_monotonic_ms(void) {
  struct timespec ts;
#if defined(CLOCK_MONOTONIC_COARSE)
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
#endif
    clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uintptr_t mmio_os_thread_self(void) { return (uintptr_t)pthread_self(); }

void *mmio_os_peek_pointer(void *const *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

void mmio_os_spin_lock(os_spinlock_t *l) {
  while (__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE) != 0) sched_yield();
}

void mmio_os_spin_unlock(os_spinlock_t *l) { __atomic_store_n(&l->held, 0, __ATOMIC_RELEASE); }

#ifdef MADV_POPULATE_READ
/* Whether the running kernel knows `advice`: try it on one anonymous page. */
static int kernel_has_advice(int advice) {
  size_t page = mmio_os_page_size();
  int ok;
  void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 0;
  ok = madvise(p, page, advice) == 0;
  munmap(p, page);
  return ok;
}
#endif

size_t mmio_os_features(os_feature_t *out, size_t max) {
  size_t n = 0;
  int err = 0;
#define F(feature, value)       \
  if (n < max) {                \
    out[n].name = feature;      \
    out[n].supported = (value); \
    n++;                        \
  }
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
  F("faultZero", 1)
  F("mappingLimit", mmio_os_map_count_limit(&err) != 0 || !mmio_os_map_count_lasting(err))
#undef F
  return n;
}
