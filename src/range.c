/* Address ranges and their states: see range.h and docs/lifetime.md. */
#include "range.h"

#include <stdlib.h>

#include "budget.h"

/* Process-wide totals, for mmio_range_totals(): ranges kept for the life of the
 * process, and placeholders that will be given back. */
static os_spinlock_t totals_lock;
static size_t kept_ranges, kept_bytes, waiting_ranges, waiting_bytes;

static void count(size_t *ranges, size_t *bytes, const range_t *r, int delta) {
  mmio_os_spin_lock(&totals_lock);
  *ranges += (size_t)delta;
  *bytes += (size_t)delta * r->span;
  mmio_os_spin_unlock(&totals_lock);
}

void mmio_range_totals(size_t *kept, size_t *kept_b, size_t *waiting, size_t *waiting_b) {
  mmio_os_spin_lock(&totals_lock);
  *kept = kept_ranges;
  *kept_b = kept_bytes;
  *waiting = waiting_ranges;
  *waiting_b = waiting_bytes;
  mmio_os_spin_unlock(&totals_lock);
}

void mmio_range_env_init(range_env_t *env) {
  env->all = NULL;
  env->batched = 0;
  env->nreleasing = 0;
  env->thread = mmio_os_thread_self();
}

static void unlink_owner(range_t *r) {
  range_env_t *env = r->owner;
  if (env == NULL) return;
  if (r->prev != NULL) r->prev->next = r->next;
  else env->all = r->next;
  if (r->next != NULL) r->next->prev = r->prev;
  r->prev = r->next = NULL;
  r->owner = NULL;
}

range_t *mmio_range_new(range_env_t *owner, void *base, size_t len, os_extra_t extra) {
  size_t page = mmio_os_page_size();
  range_t *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  r->base = base;
  r->span = (len + page - 1) / page * page;
  r->needed = true;
  r->state = RANGE_MAPPED;
  r->reach = REACH_KNOWN;
  r->batchable = r->span <= RANGE_BATCH_MAX_SPAN;
  r->refs = 1;
  r->guard_slot = -1;
  r->extra = extra;
  if ((r->owner = owner) != NULL) {
    r->next = owner->all;
    if (owner->all != NULL) owner->all->prev = r;
    owner->all = r;
  }
  return r;
}

void mmio_range_release_at_once(range_t *r) { r->batchable = false; }

/* ---- transitions ---------------------------------------------------------- */

static bool reachable(const range_t *r) {
  return r->needed || r->pins != 0 || r->stores != 0 || r->watched != 0 || r->reach == REACH_KEPT;
}

/* Out of the batch and the fault guard. */
static void unbatch(range_t *r) {
  range_env_t *env = r->owner;
  unsigned i;
  for (i = 0; env != NULL && i < env->batched; i++) {
    if (env->batch[i] != r) continue;
    env->batch[i] = env->batch[--env->batched];
    break;
  }
  mmio_os_guard_remove(r->guard_slot);
  r->guard_slot = -1;
}

/* Now a placeholder (from MAPPED or BATCHED). */
static void became_placeholder(range_t *r) {
  r->state = RANGE_PLACEHOLDER;
  if (r->reach == REACH_KEPT) count(&kept_ranges, &kept_bytes, r, 1);
  else count(&waiting_ranges, &waiting_bytes, r, 1);
}

/* Replace the pages with a placeholder. If even that cannot be had (the
 * kernel's mapping limit), nothing changes and the next settle() tries
 * again. */
static void to_placeholder(range_t *r) {
  bool reserved = true;
  if (mmio_os_placeholder(r->base, r->span, &r->extra, &reserved) != 0) return;
  if (!reserved) {
    /* Windows: another thread took the range as the view went. It is not
     * ours: nothing to keep, nothing to give back. */
    mmio_budget_charge(1);
    r->state = RANGE_RELEASED;
    return;
  }
  mmio_budget_charge(2);
  became_placeholder(r);
}

static void flush_releasing(range_env_t *env);

/* An unreachable placeholder waits for its neighbours (range.h), if it is
 * small, its environment's thread is the caller, and the batch has room (it
 * has none only while the kernel refuses to give its ranges back). */
static bool release_later(range_t *r) {
  range_env_t *env = r->owner;
  if (r->span > RANGE_BATCH_MAX_SPAN || env == NULL || env->thread != mmio_os_thread_self() ||
      env->nreleasing == RANGE_BATCH)
    return false;
  r->state = RANGE_RELEASING;
  env->releasing[env->nreleasing++] = r;
  if (env->nreleasing == RANGE_BATCH) flush_releasing(env);
  return true;
}

/* Give the addresses back. */
static void release(range_t *r) {
  switch (r->state) {
    case RANGE_BATCHED: /* still the file's pages */
      unbatch(r);
      mmio_os_unmap(r->base, r->span, &r->extra);
      break;
    case RANGE_MAPPED: mmio_os_unmap(r->base, r->span, &r->extra); break;
    case RANGE_PLACEHOLDER:
      if (release_later(r)) return;
      /* Refused (the kernel cannot split a mapping): still reserved, and
       * counted as waiting; the next settle() tries again. */
      if (mmio_os_release(r->base, r->span) != 0) return;
      count(&waiting_ranges, &waiting_bytes, r, -1);
      break;
    case RANGE_RELEASING: /* its batch gives it back */
    case RANGE_RELEASED: return;
  }
  mmio_budget_charge(1);
  mmio_budget_released();
  r->state = RANGE_RELEASED;
}

/* Into the owner's batch, if it may wait there (range.h). */
static bool batch(range_t *r) {
  range_env_t *env = r->owner;
  int slot;
  if (!r->batchable || env == NULL || env->thread != mmio_os_thread_self()) return false;
  /* Whether the guard is (still) ours: asked once per batch. */
  if (env->batched == 0 && !mmio_os_guard_ready()) return false;
  if ((slot = mmio_os_guard_add(r->base, r->span)) < 0) return false;
  r->guard_slot = slot;
  r->state = RANGE_BATCHED;
  env->batch[env->batched++] = r;
  if (env->batched == RANGE_BATCH) mmio_range_flush(env);
  return true;
}

static void maybe_free(range_t *r) {
  bool final = r->state == RANGE_RELEASED ||
               (r->reach == REACH_KEPT && r->state == RANGE_PLACEHOLDER && r->pins == 0);
  if (!final || r->refs != 0) return;
  unlink_owner(r);
  free(r);
}

/* Do what the range's holders allow now. `r` may be freed. */
static void settle(range_t *r) {
  if (r->state != RANGE_RELEASED && r->state != RANGE_RELEASING && r->pins == 0) {
    if (!reachable(r)) {
      release(r);
    } else if (r->state == RANGE_MAPPED && !r->needed && !r->pages_kept) {
      /* The file's pages nothing needs any more. */
      if (!batch(r)) to_placeholder(r);
    }
  }
  maybe_free(r);
}

/* ---- holders -------------------------------------------------------------- */

void mmio_range_hold(range_t *r) { r->refs++; }

void mmio_range_drop(range_t *r) {
  r->refs--;
  settle(r);
}

void mmio_range_need(range_t *r, bool needed) {
  r->needed = needed;
  settle(r);
}

void mmio_range_keep_pages(range_t *r, bool kept) {
  r->pages_kept = kept;
  settle(r);
}

void mmio_range_grow(range_t *r, size_t span) {
  r->span = span;
  if (span > RANGE_BATCH_MAX_SPAN) r->batchable = false; /* the batch holds small ones only */
}

void mmio_range_pin(range_t *r) { r->pins++; }

void mmio_range_unpin(range_t *r) {
  r->pins--;
  settle(r);
}

void mmio_range_store_made(range_t *r) { r->stores++; }

void mmio_range_store_freed(range_t *r) {
  r->stores--;
  settle(r);
}

void mmio_range_watch(range_t *r) { r->watched++; }

void mmio_range_unwatch(range_t *r) {
  r->watched--;
  settle(r);
}

void mmio_range_keep(range_t *r) {
  if (r->reach == REACH_KEPT) return;
  r->reach = REACH_KEPT;
  if (r->state == RANGE_PLACEHOLDER) {
    count(&waiting_ranges, &waiting_bytes, r, -1);
    count(&kept_ranges, &kept_bytes, r, 1);
  }
  settle(r);
}

void mmio_range_discard(range_t *r) {
  r->needed = false;
  release(r);
  maybe_free(r);
}

/* ---- batches -------------------------------------------------------------- */

bool mmio_range_batch_pending(const range_env_t *env) {
  return env->batched != 0 || env->nreleasing != 0;
}

/* By address (a few entries: insertion sort), so that adjacent ranges form
 * runs that one call replaces or gives back. */
static void sort_by_address(range_t **d, unsigned n) {
  unsigned i, j;
  for (i = 1; i < n; i++) {
    range_t *r = d[i];
    for (j = i; j > 0 && d[j - 1]->base > r->base; j--) d[j] = d[j - 1];
    d[j] = r;
  }
}

/* The release batch: each run of adjacent placeholders in one munmap(). A
 * run that cannot be given back whole goes range by range; a range that
 * cannot be given back at all stays reserved (RELEASING), as munmap() fails
 * only where the kernel cannot split a mapping. */
static void flush_releasing(range_env_t *env) {
  range_t *d[RANGE_BATCH];
  unsigned n = env->nreleasing, i, j, k, kept = 0;
  for (i = 0; i < n; i++) d[i] = env->releasing[i];
  env->nreleasing = 0;
  sort_by_address(d, n);
  for (i = 0; i < n; i = j) {
    uint8_t *end = d[i]->base + d[i]->span;
    bool whole;
    for (j = i + 1; j < n && d[j]->base == end; j++) end += d[j]->span;
    whole = mmio_os_release(d[i]->base, (size_t)(end - d[i]->base)) == 0;
    for (k = i; k < j; k++) {
      if (!whole && mmio_os_release(d[k]->base, d[k]->span) != 0) {
        env->releasing[kept++] = d[k];
        continue;
      }
      count(&waiting_ranges, &waiting_bytes, d[k], -1);
      d[k]->state = RANGE_RELEASED;
    }
    mmio_budget_charge(1);
    mmio_budget_released();
  }
  env->nreleasing = kept;
  for (i = 0; i < n; i++) maybe_free(d[i]);
}

void mmio_range_flush(range_env_t *env) {
  range_t **d = env->batch;
  unsigned n = env->batched, i, j, k;
  bool reserved;
  if (env->nreleasing != 0) flush_releasing(env);
  sort_by_address(d, n);
  for (i = 0; i < n; i = j) {
    uint8_t *end = d[i]->base + d[i]->span;
    for (j = i + 1; j < n && d[j]->base == end; j++) end += d[j]->span;
    /* One placeholder for the run replaces its mappings: at most two more
     * kernel mappings (it, and a neighbour it splits), as for one. */
    if (mmio_os_placeholder(d[i]->base, (size_t)(end - d[i]->base), &d[i]->extra, &reserved) == 0) {
      mmio_budget_charge(2);
      for (k = i; k < j; k++) became_placeholder(d[k]);
      continue;
    }
    /* Out of mappings, perhaps for the run as a whole: one by one. Any that
     * cannot be had stay the file's (MAPPED), for settle() to try again. */
    for (k = i; k < j; k++) {
      if (mmio_os_placeholder(d[k]->base, d[k]->span, &d[k]->extra, &reserved) == 0) {
        mmio_budget_charge(2);
        became_placeholder(d[k]);
      } else {
        d[k]->state = RANGE_MAPPED;
      }
    }
  }
  /* Unguarded only now that they are placeholders. */
  env->batched = 0;
  for (i = 0; i < n; i++) {
    mmio_os_guard_remove(d[i]->guard_slot);
    d[i]->guard_slot = -1;
  }
  for (i = 0; i < n; i++) maybe_free(d[i]);
}

void mmio_range_env_end(range_env_t *env) {
  range_t *r, *next;
  mmio_range_flush(env);
  for (r = env->all; r != NULL; r = next) {
    next = r->next;
    r->prev = r->next = NULL;
    r->owner = NULL;
    settle(r);
  }
  env->all = NULL;
}
