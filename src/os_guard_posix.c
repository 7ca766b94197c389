/* The fault handlers on POSIX systems: SIGBUS and SIGSEGV. See os.h.
 *
 * Two tables decide what a fault is ours:
 *
 * The guard (below): an unmapped read-only or private mapping keeps its
 * file's pages for a moment (range.c batches the switch to placeholders).
 * Native code that took a pointer into it before unmap() may still read it
 * then, and if the file has been truncated meanwhile, that read raises
 * SIGBUS. The handler maps the placeholder over the range (the same mmap()
 * range.c would make) and returns, so the read is retried and sees zeros,
 * as it would had the placeholder been made at unmap().
 *
 * Live mappings (fault.c): a fault in one is explained on stderr in one
 * line, then passed on as if we were not there (the process ends with the
 * same signal); or, under FAULT_ZERO, a truncation fault maps zero-filled
 * private pages from the faulting page to the end of the mapping (the I/O
 * error of one page: that page), and a write to a read-only page goes to a
 * private copy of the page put in its place in one mremap(); the access is
 * retried and the process goes on. Either way the slot records the fault.
 *
 * Everything else, and any signal sent with kill(), goes to the handler
 * that was installed before ours (V8's WebAssembly trap handler, a
 * runtime's crash reporter, another copy of this addon), or to the
 * default action. Only async-signal-safe calls are made here.
 *
 * The guard's table is read here while the owning threads change it: each
 * slot carries a sequence number, odd while its range is being written. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/sysmacros.h> /* major(), minor() */
#endif

#include "fault.h"
#include "os.h"
#include "glibc_compat.h"
#include "os_linux.h"

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

enum { GUARD_SLOTS = 128 };

typedef struct {
  atomic_uint seq;       /* odd while base and len change */
  atomic_uintptr_t base; /* 0: the slot guards nothing */
  atomic_size_t len;
  atomic_flag taken;
} slot_t;

static slot_t slots[GUARD_SLOTS];
static struct sigaction previous_bus, previous_segv;
static atomic_size_t caught;
static os_spinlock_t install_lock;
static int installed; /* 1 done, -1 failed; under install_lock */
static uintptr_t page;

/* The range of the slot that `addr` lies in, read consistently. */
static bool guarded_range(const slot_t *s, uintptr_t addr, uintptr_t *base, size_t *len) {
  for (;;) {
    unsigned before = atomic_load(&s->seq);
    uintptr_t b;
    size_t l;
    if (before & 1u) continue; /* its owner is writing it: a few stores */
    b = atomic_load(&s->base);
    l = atomic_load(&s->len);
    if (atomic_load(&s->seq) != before) continue;
    if (b == 0 || addr < b || addr - b >= l) return false;
    *base = b;
    *len = l;
    return true;
  }
}

/* A released range's fault: its placeholder now. */
static bool guard_catch(uintptr_t addr) {
  uintptr_t base;
  size_t len, i;
  for (i = 0; i < GUARD_SLOTS; i++) {
    if (!guarded_range(&slots[i], addr, &base, &len)) continue;
    if (mmap((void *)base, len, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
      return false; /* out of mappings: nothing better than the default */
    atomic_fetch_add(&caught, 1);
    return true;
  }
  return false;
}

/* ---- what the fault was --------------------------------------------------------- */

/* Read or write, from the CPU's account of the fault. */
static fault_access_t access_of(void *context) {
#if defined(__linux__) && defined(__x86_64__)
  const ucontext_t *uc = context;
  if (uc == NULL) return ACCESS_UNKNOWN;
  return (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0 ? ACCESS_WRITE : ACCESS_READ;
#elif defined(__linux__) && defined(__aarch64__)
  /* The records after the registers; ESR_EL1's WnR bit for a data abort. */
  struct head {
    uint32_t magic, size;
  };
  const ucontext_t *uc = context;
  const unsigned char *p, *end;
  if (uc == NULL) return ACCESS_UNKNOWN;
  p = (const unsigned char *)uc->uc_mcontext.__reserved;
  end = p + sizeof uc->uc_mcontext.__reserved;
  while (p + sizeof(struct head) <= end) {
    struct head h;
    memcpy(&h, p, sizeof h);
    if (h.magic == 0 || h.size < sizeof h) break;
    if (h.magic == 0x45535201u /* ESR_MAGIC */ && h.size >= 16) {
      uint64_t esr, ec;
      memcpy(&esr, p + 8, sizeof esr);
      ec = esr >> 26;
      if (ec != 0x24 && ec != 0x25) return ACCESS_UNKNOWN;
      return (esr & (1u << 6)) != 0 ? ACCESS_WRITE : ACCESS_READ;
    }
    p += h.size;
  }
  return ACCESS_UNKNOWN;
#elif defined(__APPLE__) && defined(__x86_64__)
  const ucontext_t *uc = context;
  if (uc == NULL || uc->uc_mcontext == NULL) return ACCESS_UNKNOWN;
  return (uc->uc_mcontext->__es.__err & 2) != 0 ? ACCESS_WRITE : ACCESS_READ;
#elif defined(__APPLE__) && defined(__aarch64__)
  const ucontext_t *uc = context;
  uint64_t esr;
  if (uc == NULL || uc->uc_mcontext == NULL) return ACCESS_UNKNOWN;
  esr = uc->uc_mcontext->__es.__esr;
  if ((esr >> 26) != 0x24 && (esr >> 26) != 0x25) return ACCESS_UNKNOWN;
  return (esr & (1u << 6)) != 0 ? ACCESS_WRITE : ACCESS_READ;
#else
  (void)context;
  return ACCESS_UNKNOWN;
#endif
}

#if defined(__linux__)
/* The file mapped at `addr`: its device, inode and path (cut to `cap`), from
 * one PROCMAP_QUERY, or else the line of /proc/self/maps that holds it,
 * read a block at a time with no allocation. */
static bool mapped_file(uintptr_t addr, unsigned long *major, unsigned long *minor,
                        unsigned long *inode, char *path, size_t cap) {
  char block[512];
  /* Fields of a line: start-end perms offset major:minor inode path. */
  unsigned long v[7];
  unsigned field = 0;
  size_t n = 0;
  ssize_t got;
  bool found = false;
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  struct procmap_query_v1 q;
  if (fd < 0) return false;
  memset(&q, 0, sizeof q);
  q.size = sizeof q;
  q.query_addr = addr;
  q.vma_name_addr = (uint64_t)(uintptr_t)path;
  q.vma_name_size = (uint32_t)cap;
  path[0] = '\0';
  if (ioctl(fd, PROCMAP_QUERY_IOCTL, &q) == 0) {
    close(fd);
    *major = q.dev_major;
    *minor = q.dev_minor;
    *inode = (unsigned long)q.inode;
    if (q.vma_name_size == 0) path[0] = '\0';
    return true;
  }
  memset(v, 0, sizeof v);
  while (!found && (got = read(fd, block, sizeof block)) > 0) {
    ssize_t i;
    for (i = 0; i < got && !found; i++) {
      char c = block[i];
      if (c == '\n') {
        if (field >= 6 && addr >= v[0] && addr < v[1]) found = true;
        else {
          memset(v, 0, sizeof v);
          field = 0;
          n = 0;
        }
        continue;
      }
      if (field < 7) {
        /* Hex but for the inode; '-', ':' and ' ' end a field. */
        unsigned base = field == 6 ? 10 : 16;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (c == '-' || c == ':' || c == ' ') {
          if (field == 6 && c == ' ') field = 7;
          else if (field < 6) field++;
          continue;
        }
        if (d >= 0 && (unsigned)d < base) v[field] = v[field] * base + (unsigned)d;
        continue;
      }
      /* The path, after the spaces. */
      if (n == 0 && c == ' ') continue;
      if (n + 1 < cap) {
        path[n++] = c;
        path[n] = '\0';
      }
    }
  }
  close(fd);
  if (!found) return false;
  *major = v[4];
  *minor = v[5];
  *inode = v[6];
  return true;
}
#endif

/* The size of the file (or shared memory) mapped at `addr` now, if it can
 * be known for sure: the file the kernel maps there, found by path or by
 * the caller's descriptor, the same device and inode. */
static bool size_now(const fault_hit_t *hit, uintptr_t addr, int64_t *size) {
  struct stat st;
#if defined(__linux__)
  char path[FAULT_NAME_MAX];
  unsigned long major, minor, inode;
  if (!mapped_file(addr, &major, &minor, &inode, path, sizeof path) || inode == 0) return false;
#define SAME(st)                                                         \
  ((unsigned long)(st).st_ino == inode && major((st).st_dev) == major && \
   minor((st).st_dev) == minor)
  if (path[0] == '/' && stat(path, &st) == 0 && SAME(st)) {
    *size = (int64_t)st.st_size;
    return true;
  }
  if (hit->origin == ORIGIN_FD && (int64_t)(int)hit->fd == hit->fd &&
      fstat((int)hit->fd, &st) == 0 && SAME(st)) {
    *size = (int64_t)st.st_size;
    return true;
  }
#undef SAME
  return false;
#else
  /* No way to ask which file is mapped: the caller's descriptor, or path
   * when it still names a regular file. */
  (void)addr;
  if (hit->origin == ORIGIN_FD && (int64_t)(int)hit->fd == hit->fd &&
      fstat((int)hit->fd, &st) == 0 && S_ISREG(st.st_mode)) {
    *size = (int64_t)st.st_size;
    return true;
  }
  if (hit->origin == ORIGIN_PATH && !hit->name_cut && stat(hit->name, &st) == 0 &&
      S_ISREG(st.st_mode)) {
    *size = (int64_t)st.st_size;
    return true;
  }
  return false;
#endif
}

/* ---- surviving it (FAULT_ZERO) -------------------------------------------------- */

/* Zero-filled private pages from the faulting page: to the end of the mapping
 * (or of what earlier faults left), or that page alone for an I/O error.
 * (A truncation takes a private mapping's copied pages past the new end
 * too: nothing of the caller's own is lost there.) */
static bool zero_fill(const fault_hit_t *hit, uintptr_t addr, fault_cause_t cause) {
  uintptr_t at = addr & ~(page - 1);
  uintptr_t end = (hit->base + hit->len + page - 1) & ~(page - 1), from, to;
  int prot = PROT_READ | (hit->writable ? PROT_WRITE : 0);
  bool ok = true;
  from = fault_zero_begin(hit);
  if (from == 0) from = end;
  if (at < from) {
    bool tail = cause != CAUSE_IO;
    to = tail ? from : at + page;
    ok = mmap((void *)at, to - at, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
              -1, 0) != MAP_FAILED;
    if (ok && tail) from = at;
  }
  fault_zero_end(hit, from);
  return ok;
}

/* A private, writable copy of the page, put in its place in one step. */
static bool private_copy(uintptr_t addr) {
#if defined(__linux__) && defined(MREMAP_FIXED)
  uintptr_t at = addr & ~(page - 1);
  void *copy = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (copy == MAP_FAILED) return false;
  /* A page past the end of a truncated file faults here too, and is
   * zero-filled by the nested SIGBUS (the mapping's policy is the same). */
  memcpy(copy, (void *)at, page);
  if (mremap(copy, page, page, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)at) == MAP_FAILED) {
    munmap(copy, page);
    return false;
  }
  return true;
#else
  (void)addr;
  return false; /* no atomic replacement: explained, not survived */
#endif
}

/* ---- the handler ------------------------------------------------------------------ */

static void pass_on(int sig, siginfo_t *info, void *context) {
  const struct sigaction *previous = sig == SIGBUS ? &previous_bus : &previous_segv;
  if ((previous->sa_flags & SA_SIGINFO) != 0) {
    if ((void *)previous->sa_sigaction != (void *)SIG_DFL &&
        (void *)previous->sa_sigaction != (void *)SIG_IGN) {
      previous->sa_sigaction(sig, info, context);
      return;
    }
  } else if (previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN) {
    previous->sa_handler(sig);
    return;
  }
  /* As without us: a fault is retried and kills the process; a signal that
   * was sent is delivered again once this handler returns. */
  signal(sig, SIG_DFL);
  if (info == NULL || info->si_code <= 0) raise(sig);
}

/* A fault in a live mapping: survived (true) or explained. */
static bool in_mapping(int sig, const siginfo_t *info, void *context, uintptr_t addr) {
  fault_hit_t hit;
  fault_record_t rec;
  char line[768];
  size_t n;
  if (!fault_find(addr, &hit)) return false;
  memset(&rec, 0, sizeof rec);
  rec.kind = sig == SIGBUS ? KIND_SIGBUS : KIND_SIGSEGV;
  rec.access = access_of(context);
  rec.offset = (uint64_t)hit.offset + (addr - hit.base);
  rec.index = addr - hit.base >= hit.delta ? addr - hit.base - hit.delta : 0;
  rec.size = -1;
  if (sig == SIGBUS) {
#ifdef BUS_MCEERR_AR
    if (info->si_code == BUS_MCEERR_AR) rec.cause = CAUSE_IO;
    else
#endif
        if (size_now(&hit, addr, &rec.size))
      rec.cause = (int64_t)rec.offset >= rec.size ? CAUSE_TRUNCATED : CAUSE_IO;
  } else if (info->si_code == SEGV_ACCERR) {
    rec.cause = hit.protected_                                               ? CAUSE_PROTECTED
                : hit.readable && !hit.writable && rec.access != ACCESS_READ ? CAUSE_READ_ONLY
                                                                             : CAUSE_UNKNOWN;
  }
  if (hit.policy == FAULT_ZERO &&
      (sig == SIGBUS ? zero_fill(&hit, addr, rec.cause)
                     : rec.cause == CAUSE_READ_ONLY && hit.readable && private_copy(addr))) {
    rec.survived = true;
    fault_note(&hit, &rec);
    return true;
  }
  fault_note(&hit, &rec);
  n = fault_format(&hit, &rec, "mmap-io: ", line, sizeof line - 1);
  line[n++] = '\n';
  while (write(STDERR_FILENO, line, n) < 0 && errno == EINTR) {
  }
  return false;
}

static void on_fault(int sig, siginfo_t *info, void *context) {
  int saved = errno;
  /* si_code > 0: raised by a fault, not sent by kill(). */
  if (info != NULL && info->si_code > 0) {
    uintptr_t addr = (uintptr_t)info->si_addr;
    if ((sig == SIGBUS && guard_catch(addr)) || in_mapping(sig, info, context, addr)) {
      errno = saved;
      return; /* the access is retried */
    }
  }
  errno = saved;
  pass_on(sig, info, context);
}

static bool ours(int sig) {
  struct sigaction current;
  if (sigaction(sig, NULL, &current) != 0) return false;
  return (current.sa_flags & SA_SIGINFO) != 0 && current.sa_sigaction == on_fault;
}

bool os_fault_install(void) {
  struct sigaction sa;
  os_spin_lock(&install_lock);
  if (installed == 0) {
    page = (uintptr_t)sysconf(_SC_PAGESIZE);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    installed =
        sigaction(SIGBUS, &sa, &previous_bus) == 0 && sigaction(SIGSEGV, &sa, &previous_segv) == 0
            ? 1
            : -1;
  }
  os_spin_unlock(&install_lock);
  return installed == 1;
}

bool os_guard_ready(void) {
  /* Someone may have put another handler in ours' place since. */
  return os_fault_install() && ours(SIGBUS);
}

int os_guard_add(void *addr, size_t len) {
  int i;
  for (i = 0; i < GUARD_SLOTS; i++) {
    slot_t *s = &slots[i];
    if (atomic_flag_test_and_set(&s->taken)) continue;
    atomic_fetch_add(&s->seq, 1);
    atomic_store(&s->len, len);
    atomic_store(&s->base, (uintptr_t)addr);
    atomic_fetch_add(&s->seq, 1);
    return i;
  }
  return -1;
}

void os_guard_remove(int slot) {
  slot_t *s;
  if (slot < 0 || slot >= GUARD_SLOTS) return;
  s = &slots[slot];
  atomic_fetch_add(&s->seq, 1);
  atomic_store(&s->base, 0);
  atomic_store(&s->len, 0);
  atomic_fetch_add(&s->seq, 1);
  atomic_flag_clear(&s->taken);
}

size_t os_guard_caught(void) { return atomic_load(&caught); }
