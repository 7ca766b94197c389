/* The fault guard on POSIX systems: a SIGBUS handler. See os.h.
 *
 * An unmapped read-only or private mapping keeps its file's pages for a
 * moment (range.c batches the switch to placeholders). Native code that
 * took a pointer into it before unmap() may still read it then, and if the
 * file has been truncated meanwhile, that read raises SIGBUS. The handler
 * finds the range in the table below, maps the placeholder over it (the
 * same mmap() range.c would make) and returns, so the read is retried
 * and sees zeros, as it would had the placeholder been made at unmap().
 *
 * The table is read in the handler, on whichever thread faulted, while the
 * owning threads change it: each slot carries a sequence number, odd while
 * its range is being written, so that the handler never acts on a base from
 * one range and a length from another. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "os.h"

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
static struct sigaction previous;
static atomic_size_t caught;
static os_spinlock_t install_lock;
static int installed; /* 1 done, -1 failed; under install_lock */

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

static void on_sigbus(int sig, siginfo_t *info, void *context) {
  int saved = errno;
  /* si_code > 0: raised by a fault, not sent by kill(). */
  if (info != NULL && info->si_code > 0) {
    uintptr_t addr = (uintptr_t)info->si_addr, base;
    size_t len, i;
    for (i = 0; i < GUARD_SLOTS; i++) {
      if (!guarded_range(&slots[i], addr, &base, &len)) continue;
      if (mmap((void *)base, len, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
        break; /* out of mappings: nothing better than the default */
      atomic_fetch_add(&caught, 1);
      errno = saved;
      return; /* the access is retried, on the placeholder */
    }
  }
  errno = saved;
  if ((previous.sa_flags & SA_SIGINFO) != 0) {
    if ((void *)previous.sa_sigaction != (void *)SIG_DFL &&
        (void *)previous.sa_sigaction != (void *)SIG_IGN) {
      previous.sa_sigaction(sig, info, context);
      return;
    }
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
    return;
  }
  /* As without us: a fault is retried and kills the process; a signal that
   * was sent is delivered again once this handler returns. */
  signal(SIGBUS, SIG_DFL);
  if (info == NULL || info->si_code <= 0) raise(SIGBUS);
}

static bool ours(void) {
  struct sigaction current;
  if (sigaction(SIGBUS, NULL, &current) != 0) return false;
  return (current.sa_flags & SA_SIGINFO) != 0 && current.sa_sigaction == on_sigbus;
}

bool os_guard_ready(void) {
  struct sigaction sa;
  os_spin_lock(&install_lock);
  if (installed == 0) {
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    installed = sigaction(SIGBUS, &sa, &previous) == 0 ? 1 : -1;
  }
  os_spin_unlock(&install_lock);
  /* Someone may have put another handler in ours' place since. */
  return installed == 1 && ours();
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
