/* Address ranges and their states: see range.h and docs/lifetime.md. */
#include "range.h"

#include <stdlib.h>

#include "budget.h"

/* Process-wide totals, for range_totals(): ranges kept for the life of the
 * process, and placeholders that will be given back. */
static os_spinlock_t totals_lock;
static size_t kept_ranges, kept_bytes, waiting_ranges, waiting_bytes;

static void count(size_t *ranges, size_t *bytes, const range_t *r, int delta) {
  os_spin_lock(&totals_lock);
  *ranges += (size_t)delta;
  *bytes += (size_t)delta * r->span;
  os_spin_unlock(&totals_lock);
}

void range_totals(size_t *kept, size_t *kept_b, size_t *waiting, size_t *waiting_b) {
  os_spin_lock(&totals_lock);
  *kept = kept_ranges;
  *kept_b = kept_bytes;
  *waiting = waiting_ranges;
  *waiting_b = waiting_bytes;
  os_spin_unlock(&totals_lock);
}

void range_env_init(range_env_t *env) {
  env->all = NULL;
  env->batched = 0;
  env->thread = os_thread_self();
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

range_t *range_new(range_env_t *owner, void *base, size_t len, os_extra_t extra) {
  size_t page = os_page_size();
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

void range_release_at_once(range_t *r) { r->batchable = false; }

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
  os_guard_remove(r->guard_slot);
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
  if (os_placeholder(r->base, r->span, &r->extra, &reserved) != 0) return;
  if (!reserved) {
    /* Windows: another thread took the range as the view went. It is not
     * ours: nothing to keep, nothing to give back. */
    budget_charge(1);
    r->state = RANGE_RELEASED;
    return;
  }
  budget_charge(2);
  became_placeholder(r);
}

/* Give the addresses back. */
static void release(range_t *r) {
  switch (r->state) {
    case RANGE_BATCHED: /* still the file's pages */
      unbatch(r);
      os_unmap(r->base, r->span, &r->extra);
      break;
    case RANGE_MAPPED: os_unmap(r->base, r->span, &r->extra); break;
    case RANGE_PLACEHOLDER:
      os_release(r->base, r->span);
      count(&waiting_ranges, &waiting_bytes, r, -1);
      break;
    case RANGE_RELEASED: return;
  }
  budget_charge(1);
  budget_released();
  r->state = RANGE_RELEASED;
}

/* Into the owner's batch, if it may wait there (range.h). */
static bool batch(range_t *r) {
  range_env_t *env = r->owner;
  int slot;
  if (!r->batchable || env == NULL || env->thread != os_thread_self()) return false;
  /* Whether the guard is (still) ours: asked once per batch. */
  if (env->batched == 0 && !os_guard_ready()) return false;
  if ((slot = os_guard_add(r->base, r->span)) < 0) return false;
  r->guard_slot = slot;
  r->state = RANGE_BATCHED;
  env->batch[env->batched++] = r;
  if (env->batched == RANGE_BATCH) range_flush(env);
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
  if (r->state != RANGE_RELEASED && r->pins == 0) {
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

void range_hold(range_t *r) { r->refs++; }

void range_drop(range_t *r) {
  r->refs--;
  settle(r);
}

void range_need(range_t *r, bool needed) {
  r->needed = needed;
  settle(r);
}

void range_keep_pages(range_t *r, bool kept) {
  r->pages_kept = kept;
  settle(r);
}

void range_grow(range_t *r, size_t span) { r->span = span; }

void range_pin(range_t *r) { r->pins++; }

void range_unpin(range_t *r) {
  r->pins--;
  settle(r);
}

void range_store_made(range_t *r) { r->stores++; }

void range_store_freed(range_t *r) {
  r->stores--;
  settle(r);
}

void range_watch(range_t *r) { r->watched++; }

void range_unwatch(range_t *r) {
  r->watched--;
  settle(r);
}

void range_keep(range_t *r) {
  if (r->reach == REACH_KEPT) return;
  r->reach = REACH_KEPT;
  if (r->state == RANGE_PLACEHOLDER) {
    count(&waiting_ranges, &waiting_bytes, r, -1);
    count(&kept_ranges, &kept_bytes, r, 1);
  }
  settle(r);
}

void range_discard(range_t *r) {
  r->needed = false;
  release(r);
  maybe_free(r);
}

/* ---- batches -------------------------------------------------------------- */

bool range_batch_pending(const range_env_t *env) { return env->batched != 0; }

void range_flush(range_env_t *env) {
  range_t **d = env->batch;
  unsigned n = env->batched, i, j, k;
  bool reserved;
  /* By address (a few entries: insertion sort), so that adjacent ranges
   * form runs that one call replaces. */
  for (i = 1; i < n; i++) {
    range_t *r = d[i];
    for (j = i; j > 0 && d[j - 1]->base > r->base; j--) d[j] = d[j - 1];
    d[j] = r;
  }
  for (i = 0; i < n; i = j) {
    uint8_t *end = d[i]->base + d[i]->span;
    for (j = i + 1; j < n && d[j]->base == end; j++) end += d[j]->span;
    /* One placeholder for the run replaces its mappings: at most two more
     * kernel mappings (it, and a neighbour it splits), as for one. */
    if (os_placeholder(d[i]->base, (size_t)(end - d[i]->base), &d[i]->extra, &reserved) == 0) {
      budget_charge(2);
      for (k = i; k < j; k++) became_placeholder(d[k]);
      continue;
    }
    /* Out of mappings, perhaps for the run as a whole: one by one. Any that
     * cannot be had stay the file's (MAPPED), for settle() to try again. */
    for (k = i; k < j; k++) {
      if (os_placeholder(d[k]->base, d[k]->span, &d[k]->extra, &reserved) == 0) {
        budget_charge(2);
        became_placeholder(d[k]);
      } else {
        d[k]->state = RANGE_MAPPED;
      }
    }
  }
  /* Unguarded only now that they are placeholders. */
  env->batched = 0;
  for (i = 0; i < n; i++) {
    os_guard_remove(d[i]->guard_slot);
    d[i]->guard_slot = -1;
  }
  for (i = 0; i < n; i++) maybe_free(d[i]);
}

void range_env_end(range_env_t *env) {
  range_t *r, *next;
  range_flush(env);
  for (r = env->all; r != NULL; r = next) {
    next = r->next;
    r->prev = r->next = NULL;
    r->owner = NULL;
    settle(r);
  }
  env->all = NULL;
}
