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
#include <sys/uio.h> /* process_vm_readv() */
#if defined(__APPLE__)
#include <sys/ucontext.h> /* ucontext_t; <ucontext.h> wants _XOPEN_SOURCE there */
#else
#include <ucontext.h>
#endif
#include <unistd.h>
#if defined(__linux__)
#include <sys/sysmacros.h> /* major(), minor() */
#endif

#include "fault.h"
#include "os.h"
#include "glibc_compat.h"
#include "os_linux.h"
#include "range.h"

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

/* Four threads' full batches (range.h). */
enum { GUARD_SLOTS = 4 * RANGE_BATCH };

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

/* Read, write or instruction fetch, from the CPU's account of the fault. */
static fault_access_t access_of(void *context) {
#if defined(__linux__) && defined(__x86_64__)
  const ucontext_t *uc = context;
  if (uc == NULL) return ACCESS_UNKNOWN;
  /* The page fault error code: bit 1 a write, bit 4 an instruction fetch. */
  if ((uc->uc_mcontext.gregs[REG_ERR] & 0x10) != 0) return ACCESS_EXECUTE;
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
      if (ec == 0x20 || ec == 0x21) return ACCESS_EXECUTE; /* an instruction abort */
      if (ec != 0x24 && ec != 0x25) return ACCESS_UNKNOWN;
      return (esr & (1u << 6)) != 0 ? ACCESS_WRITE : ACCESS_READ;
    }
    p += h.size;
  }
  return ACCESS_UNKNOWN;
#elif defined(__APPLE__) && defined(__x86_64__)
  const ucontext_t *uc = context;
  if (uc == NULL || uc->uc_mcontext == NULL) return ACCESS_UNKNOWN;
  if ((uc->uc_mcontext->__es.__err & 0x10) != 0) return ACCESS_EXECUTE;
  return (uc->uc_mcontext->__es.__err & 2) != 0 ? ACCESS_WRITE : ACCESS_READ;
#elif defined(__APPLE__) && defined(__aarch64__)
  const ucontext_t *uc = context;
  uint64_t esr;
  if (uc == NULL || uc->uc_mcontext == NULL) return ACCESS_UNKNOWN;
  esr = uc->uc_mcontext->__es.__esr;
  if ((esr >> 26) == 0x20 || (esr >> 26) == 0x21) return ACCESS_EXECUTE;
  if ((esr >> 26) != 0x24 && (esr >> 26) != 0x25) return ACCESS_UNKNOWN;
  return (esr & (1u << 6)) != 0 ? ACCESS_WRITE : ACCESS_READ;
#else
  (void)context;
  return ACCESS_UNKNOWN;
#endif
}

/* What the kernel maps at an address: one kernel mapping (VMA). */
typedef struct {
  uintptr_t start, end;
  bool readable, writable, executable;
  unsigned long major, minor, inode;
  bool named; /* the path buffer holds its file's whole path */
} vma_t;

#if defined(__linux__)
/* The kernel mapping at `addr`, from one PROCMAP_QUERY, or else from the
 * line of /proc/self/maps that holds it ("start-end perms offset
 * major:minor inode path"), read a block at a time with no allocation. */
static bool vma_at(uintptr_t addr, vma_t *v, char *path, size_t cap, char *block,
                   size_t block_size) {
  unsigned long f[7];
  unsigned field = 0;
  size_t n = 0;
  ssize_t got;
  bool found = false, cut = false, r = false, w = false, x = false;
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC), done;
  struct procmap_query_v1 q;
  memset(v, 0, sizeof *v);
  path[0] = '\0';
  if (fd < 0) return false;
  memset(&q, 0, sizeof q);
  q.size = sizeof q;
  q.query_addr = addr;
  q.vma_name_addr = (uint64_t)(uintptr_t)path;
  q.vma_name_size = (uint32_t)cap;
  done = ioctl(fd, PROCMAP_QUERY_IOCTL, &q);
  if (done != 0 && errno == ENAMETOOLONG) { /* all but the name, then */
    q.vma_name_addr = 0;
    q.vma_name_size = 0;
    done = ioctl(fd, PROCMAP_QUERY_IOCTL, &q);
  }
  if (done == 0) {
    close(fd);
    v->start = (uintptr_t)q.vma_start;
    v->end = (uintptr_t)q.vma_end;
    v->readable = (q.vma_flags & PROCMAP_QUERY_VMA_READABLE) != 0;
    v->writable = (q.vma_flags & 2) != 0;   /* PROCMAP_QUERY_VMA_WRITABLE */
    v->executable = (q.vma_flags & 4) != 0; /* PROCMAP_QUERY_VMA_EXECUTABLE */
    v->major = q.dev_major;
    v->minor = q.dev_minor;
    v->inode = (unsigned long)q.inode;
    v->named = q.vma_name_size > 0 && path[0] == '/';
    if (!v->named) path[0] = '\0';
    return true;
  }
  memset(f, 0, sizeof f);
  while (!found && (got = read(fd, block, block_size)) > 0) {
    ssize_t i;
    for (i = 0; i < got && !found; i++) {
      char c = block[i];
      int d;
      if (c == '\n') {
        if (field >= 6 && addr >= f[0] && addr < f[1]) {
          found = true;
        } else {
          memset(f, 0, sizeof f);
          field = 0;
          n = 0;
          cut = r = w = x = false;
          path[0] = '\0';
        }
        continue;
      }
      if (field == 7) { /* the path, after the spaces */
        if (n == 0 && c == ' ') continue;
        if (n + 1 < cap) {
          path[n++] = c;
          path[n] = '\0';
        } else {
          cut = true;
        }
        continue;
      }
      if (c == ' ') {
        field++;
        continue;
      }
      if ((field == 0 && c == '-') || (field == 4 && c == ':')) {
        field++;
        continue;
      }
      if (field == 2) { /* rwxp */
        r = r || c == 'r';
        w = w || c == 'w';
        x = x || c == 'x';
        continue;
      }
      d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d >= 0 && (d < 10 || field != 6))
        f[field] = f[field] * (field == 6 ? 10u : 16u) + (unsigned)d;
    }
  }
  close(fd);
  if (!found) {
    path[0] = '\0';
    return false;
  }
  v->start = f[0];
  v->end = f[1];
  v->readable = r;
  v->writable = w;
  v->executable = x;
  v->major = f[4];
  v->minor = f[5];
  v->inode = f[6];
  v->named = !cut && path[0] == '/';
  if (!v->named) path[0] = '\0';
  return true;
}
#else
static bool vma_at(uintptr_t addr, vma_t *v, char *path, size_t cap, char *block,
                   size_t block_size) {
  (void)addr;
  (void)cap;
  (void)block;
  (void)block_size;
  memset(v, 0, sizeof *v);
  path[0] = '\0';
  return false; /* no way to ask */
}
#endif

/* The size of the file (or shared memory) mapped at the faulting address
 * now, if it can be known for sure: the file the kernel maps there (`v`,
 * whose path is `path`), found by that path, the caller's descriptor or
 * the caller's path, the same device and inode. Elsewhere than Linux, the
 * caller's descriptor or path when it names a regular file. */
static bool size_now(const fault_hit_t *hit, const vma_t *v, bool have_vma, const char *path,
                     int64_t *size) {
  struct stat st;
#if defined(__linux__)
#define SAME(st)                                                               \
  ((unsigned long)(st).st_ino == v->inode && major((st).st_dev) == v->major && \
   minor((st).st_dev) == v->minor)
#else
#define SAME(st) S_ISREG((st).st_mode)
#endif
  if (have_vma && v->inode == 0) return false; /* anonymous memory */
  if ((have_vma && v->named && stat(path, &st) == 0 && SAME(st)) ||
      (hit->origin == ORIGIN_FD && (int64_t)(int)hit->fd == hit->fd &&
       fstat((int)hit->fd, &st) == 0 && SAME(st)) ||
      (hit->origin == ORIGIN_PATH && !hit->name_cut && stat(hit->name, &st) == 0 && SAME(st))) {
    *size = (int64_t)st.st_size;
    return true;
  }
#undef SAME
  return false;
}

/* ---- surviving it (FAULT_ZERO) -------------------------------------------------- */

typedef enum {
  FIX_DONE,   /* retry the access */
  FIX_FAILED, /* explain it */
  FIX_STALE   /* the slot changed meanwhile (unmap(), remap()): look again */
} fix_t;

/* Zero-filled private pages from the faulting page: to the end of the mapping
 * (or of what earlier faults left), or that page alone for an I/O error,
 * and no further than the kernel mapping it lies in, whose protection they
 * get (protect() may have changed it). A truncation takes a private
 * mapping's copied pages past the new end too: nothing of the caller's own
 * is lost there. */
/* The kernel's count of the process's mappings, for the budget, read
 * through `block` (MAPS_BLOCK bytes, off the signal stack). */
enum { MAPS_BLOCK = 256 };
static size_t count_maps(void *block) { return mmio_os_map_count_with(block, MAPS_BLOCK); }

static fix_t zero_fill(const fault_hit_t *hit, uintptr_t addr, fault_cause_t cause, const vma_t *v,
                       char *block) {
  uintptr_t at = addr & ~(page - 1);
  uintptr_t end = (hit->base + hit->len + page - 1) & ~(page - 1), from, to, zeroed;
  int prot = v != NULL ? (v->readable ? PROT_READ : 0) | (v->writable ? PROT_WRITE : 0) |
                             (v->executable ? PROT_EXEC : 0)
                       : PROT_READ | (hit->writable ? PROT_WRITE : 0);
  bool ok = true, tail = cause != CAUSE_IO;
  if (!mmio_fault_change_allowed(count_maps, block)) return FIX_FAILED;
  if (!mmio_fault_change_begin(hit, &zeroed)) return FIX_STALE;
  from = zeroed != 0 ? zeroed : end;
  if (at < from) {
    to = tail ? from : at + page;
    if (v != NULL && v->end > at && v->end < to) to = v->end;
    ok = mmap((void *)at, to - at, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
              -1, 0) != MAP_FAILED;
    if (ok && tail && to == from) zeroed = at;
  }
  mmio_fault_change_end(hit, zeroed);
  return ok ? FIX_DONE : FIX_FAILED;
}

/* A private, writable copy of the page, put in its place in one step (and
 * executable if the page was). */
static fix_t private_copy(const fault_hit_t *hit, uintptr_t addr, const vma_t *v, char *block) {
#if defined(__linux__) && defined(MREMAP_FIXED)
  uintptr_t at = addr & ~(page - 1), zeroed;
  void *copy = MAP_FAILED;
  struct iovec local, remote;
  bool ok;
  if (mmio_fault_change_allowed(count_maps, block))
    copy = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (copy == MAP_FAILED) return FIX_FAILED;
  /* The page's bytes through the kernel, which reports a page past the end
   * of a truncated file (EFAULT: the copy stays zeros) instead of raising
   * a SIGBUS on this signal stack. Where the call is refused (seccomp,
   * qemu-user), a plain copy, whose SIGBUS is handled as any other. */
  local.iov_base = copy;
  local.iov_len = page;
  remote.iov_base = (void *)at;
  remote.iov_len = page;
  if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) < 0 && errno != EFAULT)
    memcpy(copy, (void *)at, page);
  if (v != NULL && v->executable && mprotect(copy, page, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
    munmap(copy, page);
    return FIX_FAILED;
  }
  if (!mmio_fault_change_begin(hit, &zeroed)) {
    munmap(copy, page);
    return FIX_STALE;
  }
  ok = mremap(copy, page, page, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)at) != MAP_FAILED;
  mmio_fault_change_end(hit, zeroed);
  if (!ok) munmap(copy, page);
  return ok ? FIX_DONE : FIX_FAILED;
#else
  (void)hit;
  (void)addr;
  (void)v;
  (void)block;
  return FIX_FAILED; /* no atomic replacement: explained, not survived */
#endif
}

/* ---- the handler ------------------------------------------------------------------ */

/* What a handler works with, kept off its stack: runtimes give signal
 * handlers small alternate stacks (Rust's, in Deno: 8 KiB, of which the
 * kernel's own frame takes half on a machine with AVX-512). A handler
 * takes one for its run; a fault inside a handler (nested) takes another. */
typedef struct {
  atomic_flag busy;
  fault_hit_t hit;
  vma_t vma;
  char path[FAULT_NAME_MAX]; /* the mapped file's, to stat() it */
  char block[MAPS_BLOCK];    /* of /proc/self/maps */
} scratch_t;

enum { SCRATCH = 32 };
static scratch_t scratch[SCRATCH];

/* Waits while all are taken (32 threads in the handler at once): each
 * holder finishes without waiting on another. */
static scratch_t *scratch_take(void) {
  int i;
  for (;;)
    for (i = 0; i < SCRATCH; i++)
      if (!atomic_flag_test_and_set(&scratch[i].busy)) return &scratch[i];
}

static void scratch_give(scratch_t *sc) { atomic_flag_clear(&sc->busy); }

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

/* A fault in a live mapping: FIX_DONE when survived, FIX_FAILED when
 * explained, FIX_STALE when the mapping changed under the handler; and
 * FIX_FAILED, silently, when the address is in no mapping of ours. */
static fix_t in_mapping(int sig, const siginfo_t *info, void *context, uintptr_t addr,
                        scratch_t *sc) {
  fault_hit_t *hit = &sc->hit;
  vma_t *vma = &sc->vma;
  fault_record_t rec;
  bool have_vma;
  fix_t fix = FIX_FAILED;
  switch (mmio_fault_find(addr, hit)) {
    case FIND_NONE: return FIX_FAILED; /* not ours: nothing said */
    case FIND_CHANGED: return FIX_STALE;
    default: break;
  }
  memset(&rec, 0, sizeof rec);
  rec.kind = sig == SIGBUS ? KIND_SIGBUS : KIND_SIGSEGV;
  rec.access = access_of(context);
  rec.offset = (uint64_t)hit->offset + (addr - hit->base);
  rec.index = addr - hit->base >= hit->delta ? addr - hit->base - hit->delta : 0;
  rec.size = -1;
  have_vma = vma_at(addr, vma, sc->path, sizeof sc->path, sc->block, sizeof sc->block);
  if (sig == SIGBUS) {
#ifdef BUS_MCEERR_AR
    if (info->si_code == BUS_MCEERR_AR) rec.cause = CAUSE_IO;
    else
#endif
        if (size_now(hit, vma, have_vma, sc->path, &rec.size))
      rec.cause = (int64_t)rec.offset >= rec.size ? CAUSE_TRUNCATED : CAUSE_IO;
  } else if (info->si_code == SEGV_ACCERR) {
    /* What the page allows now, against what the mapping was made with. */
    bool can_read = have_vma ? vma->readable : hit->readable && !hit->protected_;
    bool can_write = have_vma ? vma->writable : hit->writable && !hit->protected_;
    if (rec.access == ACCESS_EXECUTE) rec.cause = CAUSE_UNKNOWN; /* "does not allow this access" */
    else if (rec.access != ACCESS_READ && !can_write && can_read)
      rec.cause = hit->writable ? CAUSE_PROTECTED : CAUSE_READ_ONLY;
    else if (!can_read && hit->readable) rec.cause = CAUSE_PROTECTED;
  }
  if (hit->policy == FAULT_ZERO) {
    if (sig == SIGBUS) fix = zero_fill(hit, addr, rec.cause, have_vma ? vma : NULL, sc->block);
    else if (rec.cause == CAUSE_READ_ONLY)
      fix = private_copy(hit, addr, have_vma ? vma : NULL, sc->block);
    if (fix == FIX_STALE) return FIX_STALE;
  }
  rec.survived = fix == FIX_DONE;
  mmio_fault_note(hit, &rec);
  if (fix != FIX_DONE) mmio_fault_write(hit, &rec, "mmap-io: ", STDERR_FILENO);
  return fix;
}

static bool placeholder_now(uintptr_t addr, scratch_t *sc) {
  vma_t *v = &sc->vma;
  return vma_at(addr, v, sc->path, sizeof sc->path, sc->block, sizeof sc->block) && v->inode == 0 &&
         v->major == 0 && v->readable && v->writable && sc->path[0] == '\0';
}

static void on_fault(int sig, siginfo_t *info, void *context) {
  int saved = errno, tries;
  bool stale = false;
  /* si_code > 0: raised by a fault, not sent by kill(). */
  if (info != NULL && info->si_code > 0) {
    uintptr_t addr = (uintptr_t)info->si_addr;
    scratch_t *sc = scratch_take();
    for (tries = 0; tries < 4; tries++) {
      fix_t fix;
      if (sig == SIGBUS && guard_catch(addr)) {
        scratch_give(sc);
        errno = saved;
        return; /* the access is retried, on the placeholder */
      }
      if ((fix = in_mapping(sig, info, context, addr, sc)) == FIX_DONE) {
        scratch_give(sc);
        errno = saved;
        return; /* the access is retried */
      }
      if (fix == FIX_FAILED) break;
      stale = true;
    }
    /* The range was ours when this handler looked, and changed under it
     * (unmap(), remap() in another thread): if a placeholder (readable and
     * writable anonymous memory, which raises neither signal) is there
     * now, the access is retried on it. */
    if (stale && placeholder_now(addr, sc)) {
      scratch_give(sc);
      errno = saved;
      return;
    }
    scratch_give(sc);
  }
  errno = saved;
  pass_on(sig, info, context);
}

static bool ours(int sig) {
  struct sigaction current;
  if (sigaction(sig, NULL, &current) != 0) return false;
  return (current.sa_flags & SA_SIGINFO) != 0 && current.sa_sigaction == on_fault;
}

bool mmio_os_fault_install(void) {
  struct sigaction sa;
  mmio_os_spin_lock(&install_lock);
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
  mmio_os_spin_unlock(&install_lock);
  return installed == 1;
}

bool mmio_os_guard_ready(void) {
  /* Someone may have put another handler in ours' place since. */
  return mmio_os_fault_install() && ours(SIGBUS);
}

int mmio_os_guard_add(void *addr, size_t len) {
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

void mmio_os_guard_remove(int slot) {
  slot_t *s;
  if (slot < 0 || slot >= GUARD_SLOTS) return;
  s = &slots[slot];
  atomic_fetch_add(&s->seq, 1);
  atomic_store(&s->base, 0);
  atomic_store(&s->len, 0);
  atomic_fetch_add(&s->seq, 1);
  atomic_flag_clear(&s->taken);
}

size_t mmio_os_guard_caught(void) { return atomic_load(&caught); }
