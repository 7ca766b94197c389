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
/* For signal handlers ('zero' fault policy), which take no lock: the
 * estimate with what handlers added since, and the checkpoint, both set at
 * each call under the lock; a handler may also read the count itself. */
static atomic_size_t handler_used, handler_checkpoint;
static bool marked;       /* this copy's mark is in the count */
static atomic_bool alone; /* the last count saw no other copy's mark */
/* This copy's ranges that hold live mappings' file pages (mapping.c): a
 * live mapping's own, and the earlier ones remap() keeps mapped while the
 * mapping lives. Each may become a kernel mapping of its own however the
 * kernel merged them meanwhile. */
static atomic_size_t live;

static int limit_pending; /* the error of a read of the limit that failed for the moment, or 0 */

/* With the lock held: read the kernel's limit, and mark this copy. A read
 * that failed for the moment (out of file descriptors as the addon loads)
 * is tried again at the next call: hostile review 5 found that it left the
 * budget off for good. */
static void read_limit(void) {
  int err = 0;
  size_t limit = mmio_os_map_count_limit(&err);
  limit_pending = limit == 0 && !mmio_os_map_count_lasting(err) ? err : 0;
  if (limit == 0) return;
  if (!marked) marked = mmio_os_mark_copy();
  if (ceiling == 0) {
    ceiling = limit / 2;
    estimate = checkpoint = 0; /* read at the first call */
  }
}

void mmio_budget_init(void) {
  mmio_os_spin_lock(&lock);
  read_limit();
  mmio_os_spin_unlock(&lock);
}

/* A step of the way from a count to the ceiling. Every copy of the addon
 * in the process keeps its own count, and each may add its step on a
 * reading that other copies have since made stale: together they must stay
 * under the kernel's limit, twice the ceiling. A copy that saw no other
 * copy's mark steps half of what was left. Only one copy can have read
 * while alone (once a second is loaded, every count sees two marks), so
 * one that sees others (or where copies cannot be seen) steps a sixteenth:
 * then at worst one copy reaches the ceiling on a fresh count while the
 * lone one adds its half and seven others their sixteenths on stale ones
 * (1/2 + 7/16 of what was left), and nine copies stay under the limit.
 * With halves for all, four did not; with eighths beside a lone half, the
 * hostile order of test "a copy that read the count while alone" would
 * have added 1/2 + 6/8 (issue 22). */
static size_t step_end(size_t real) {
  size_t left = real < ceiling ? ceiling - real : 0;
  return real + left / (atomic_load_explicit(&alone, memory_order_relaxed) ? 2 : 16);
}

/* With the lock held: read the real count and set the next checkpoint; 0,
 * or the error of a read that failed for now (out of file descriptors):
 * then nothing changes, and the next call reads again. A read that can
 * never succeed (no /proc) turns the budget off: hostile review 4 found
 * that one failed read for lack of descriptors did so for good. */
static int recount(void) {
  size_t marks = 0;
  bool own = false;
  int err = 0;
  size_t real = mmio_os_map_count(&marks, &own, &err);
  if (real == 0) {
    if (!mmio_os_map_count_lasting(err)) return err;
    ceiling = 0; /* unreadable: do not guess */
    return 0;
  }
  released = false;
  /* Alone only if the one mark seen is ours, where we mapped it: a copy
   * whose mark someone unmapped sees another's alone (hostile review 4,
   * F3: four copies each saw one mark, stepped halves and aborted). */
  atomic_store_explicit(&alone, marked && own && marks == 1, memory_order_relaxed);
  last_count = real;
  estimate = real;
  checkpoint = step_end(real);
  return 0;
}

int mmio_budget_take(size_t n) {
  int result = 0;
  mmio_os_spin_lock(&lock);
  if (limit_pending != 0) read_limit();
  if (limit_pending != 0) {
    /* Still unknown: refused as a count that cannot be read is (hostile
     * review 6: granted, the process mapped until V8 aborted). */
    result = limit_pending;
    mmio_os_spin_unlock(&lock);
    return result;
  }
  estimate += atomic_exchange_explicit(&from_handlers, 0, memory_order_relaxed);
  /* The kernel merges adjacent mappings of consecutive pages of a file into
   * one, so the count can stay low while mappings pile up; unmap() of every
   * other one then splits them apart (a placeholder each), and that cannot
   * be refused (hostile review 4, F2: 70,000 merged one-page maps, then V8
   * aborted). So the ranges of live mappings stay under the ceiling too
   * (remap() keeps earlier ones mapped: hostile review 6 merged 30,000
   * mappings' five ranges each, and split them past the limit): split
   * apart, half of them and the placeholders between them are as many
   * kernel mappings. Placeholders are not counted: a loop that maps and
   * unmaps without yielding leaves them merged (hostile review 5 found that
   * counting them refused it at 32,765). */
  if (ceiling != 0 && atomic_load_explicit(&live, memory_order_relaxed) + n > ceiling) {
    mmio_os_spin_unlock(&lock);
    return BUDGET_LIVE;
  }
  if (ceiling != 0 && estimate + n > checkpoint) {
    uint64_t now = mmio_os_monotonic_ms();
    if (refused && !released && now - refused_when < REFUSED_RECOUNT_MS) {
      result = BUDGET_FULL; /* nothing can have changed here: the same answer */
    } else if ((result = recount()) == 0) {
      if (ceiling != 0 && estimate + n > ceiling) result = BUDGET_FULL;
      refused = result != 0;
      refused_when = now;
    }
  }
  if (result == 0) estimate += n;
  atomic_store_explicit(&handler_used, estimate, memory_order_relaxed);
  atomic_store_explicit(&handler_checkpoint, checkpoint, memory_order_relaxed);
  mmio_os_spin_unlock(&lock);
  return result;
}

void mmio_budget_charge(size_t n) {
  mmio_os_spin_lock(&lock);
  estimate += n;
  atomic_fetch_add_explicit(&handler_used, n, memory_order_relaxed);
  mmio_os_spin_unlock(&lock);
}

/* Within the current step, as map() is between readings: a step is what
 * keeps copies of the addon under the kernel's limit together (hostile
 * review: with the whole ceiling, two copies' handlers reached it). */
bool mmio_budget_take_async(size_t n) {
  size_t used;
  if (ceiling == 0) return true;
  used = atomic_fetch_add_explicit(&handler_used, n, memory_order_relaxed) + n;
  if (used <= atomic_load_explicit(&handler_checkpoint, memory_order_relaxed)) {
    atomic_fetch_add_explicit(&from_handlers, n, memory_order_relaxed);
    return true;
  }
  atomic_fetch_sub_explicit(&handler_used, n, memory_order_relaxed);
  return false;
}

bool mmio_budget_recount_async(size_t real, size_t n) {
  if (ceiling == 0) return true;
  if (real == 0 || real + n > ceiling) return false;
  atomic_store_explicit(&handler_used, real + n, memory_order_relaxed);
  atomic_store_explicit(&handler_checkpoint, step_end(real), memory_order_relaxed);
  atomic_fetch_add_explicit(&from_handlers, n, memory_order_relaxed);
  return true;
}

void mmio_budget_live_add(void) { atomic_fetch_add_explicit(&live, 1, memory_order_relaxed); }

void mmio_budget_live_remove(void) { atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed); }

size_t mmio_budget_live(void) { return atomic_load_explicit(&live, memory_order_relaxed); }

void mmio_budget_released(void) {
  mmio_os_spin_lock(&lock);
  released = true;
  mmio_os_spin_unlock(&lock);
}

size_t mmio_budget_ceiling(void) { return ceiling; }

size_t mmio_budget_last_count(void) { return last_count; }
