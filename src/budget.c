/* The process's mapping budget: see budget.h. */
#include "budget.h"

#include "os.h"

static os_spinlock_t lock;
static size_t ceiling;    /* 0: the OS sets no limit */
static size_t estimate;   /* an upper bound of the real count */
static size_t checkpoint; /* read the real count again past this */
static size_t last_count;

void budget_init(void) {
  size_t limit = os_map_count_limit();
  os_spin_lock(&lock);
  if (ceiling == 0 && limit != 0) {
    ceiling = limit / 2;
    estimate = checkpoint = 0; /* read at the first call */
  }
  os_spin_unlock(&lock);
}

/* With the lock held: read the real count and set the next checkpoint. */
static void recount(void) {
  size_t real = os_map_count();
  if (real == 0) { /* unreadable: do not guess */
    ceiling = 0;
    return;
  }
  last_count = real;
  estimate = real;
  checkpoint = real < ceiling ? real + (ceiling - real) / 8 : real;
}

bool budget_take(size_t n) {
  bool ok = true;
  os_spin_lock(&lock);
  if (ceiling != 0 && estimate + n > checkpoint) {
    recount();
    ok = ceiling == 0 || estimate + n <= ceiling;
  }
  if (ok) estimate += n;
  os_spin_unlock(&lock);
  return ok;
}

void budget_charge(size_t n) {
  os_spin_lock(&lock);
  estimate += n;
  os_spin_unlock(&lock);
}

size_t budget_ceiling(void) { return ceiling; }

size_t budget_last_count(void) { return last_count; }
