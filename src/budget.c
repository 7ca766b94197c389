/* The process's mapping budget: see budget.h. */
#include "budget.h"

#include <stdatomic.h>

#include "os.h"

/* A refused call reads the real count again only after this long, unless
 * this copy released something since: other copies of the addon and V8
 * release too, but reading tens of thousands of lines for every refused
 * call would cost 10 ms each. */
#define REFUSED_RECOUNT_MS 100

static os_spinlock_t lock;
static size_t ceiling;    /* 0: the OS sets no limit */
static size_t estimate;   /* an upper bound of the real count */
static size_t checkpoint; /* read the real count again past this */
static size_t last_count;
static bool refused;                /* the last count refused a call */
static bool released;               /* something was released since the last count */
static uint64_t refused_when;       /* when that count was read (ms) */
static atomic_size_t from_handlers; /* charged by signal handlers, not yet in estimate */
static atomic_size_t seen;          /* the estimate, for signal handlers */

void mmio_budget_init(void) {
  size_t limit = mmio_os_map_count_limit();
  mmio_os_spin_lock(&lock);
  if (ceiling == 0 && limit != 0) {
    ceiling = limit / 2;
    estimate = checkpoint = 0; /* read at the first call */
  }
  mmio_os_spin_unlock(&lock);
}

/* With the lock held: read the real count and set the next checkpoint. */
static void recount(void) {
  size_t real = mmio_os_map_count();
  released = false;
  if (real == 0) { /* unreadable: do not guess */
    ceiling = 0;
    return;
  }
  last_count = real;
  estimate = real;
  /* An eighth of the way to the ceiling: every copy of the addon in the
   * process keeps its own count, and each may add this much on a reading
   * that other copies have since made stale. With eighths, nine copies
   * stay under the kernel's limit (twice the ceiling) together; with
   * halves, four did not (hostile review of issue 22). */
  checkpoint = real < ceiling ? real + (ceiling - real) / 8 : real;
}

bool mmio_budget_take(size_t n) {
  bool ok = true;
  mmio_os_spin_lock(&lock);
  estimate += atomic_exchange_explicit(&from_handlers, 0, memory_order_relaxed);
  if (ceiling != 0 && estimate + n > checkpoint) {
    uint64_t now = mmio_os_monotonic_ms();
    if (refused && !released && now - refused_when < REFUSED_RECOUNT_MS) {
      ok = false; /* nothing can have changed here: the same answer */
    } else {
      recount();
      ok = ceiling == 0 || estimate + n <= ceiling;
      refused = !ok;
      refused_when = now;
    }
  }
  if (ok) estimate += n;
  atomic_store_explicit(&seen, estimate, memory_order_relaxed);
  mmio_os_spin_unlock(&lock);
  return ok;
}

void mmio_budget_charge(size_t n) {
  mmio_os_spin_lock(&lock);
  estimate += n;
  atomic_store_explicit(&seen, estimate, memory_order_relaxed);
  mmio_os_spin_unlock(&lock);
}

void mmio_budget_charge_async(size_t n) {
  atomic_fetch_add_explicit(&from_handlers, n, memory_order_relaxed);
}

bool mmio_budget_room_async(size_t n) {
  size_t c = ceiling;
  return c == 0 || atomic_load_explicit(&seen, memory_order_relaxed) +
                           atomic_load_explicit(&from_handlers, memory_order_relaxed) + n <=
                       c;
}

void mmio_budget_released(void) {
  mmio_os_spin_lock(&lock);
  released = true;
  mmio_os_spin_unlock(&lock);
}

size_t mmio_budget_ceiling(void) { return ceiling; }

size_t mmio_budget_last_count(void) { return last_count; }
