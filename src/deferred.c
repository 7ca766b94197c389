/* Batched release of unmapped mappings: see deferred.h. */
#include "deferred.h"

#include "budget.h"

bool deferred_add(mapping_t *m) {
  env_state_t *st = m->owner;
  int slot;
  if (st == NULL || m->span > DEFER_MAX_SPAN || m->pages != PAGES_FILE || m->deferred ||
      m->escaped || m->shared || m->no_defer || st->thread != os_thread_self())
    return false;
  /* Whether the guard is (still) ours: asked once per batch. */
  if (st->deferred_count == 0 && !os_guard_ready()) return false;
  if ((slot = os_guard_add(m->base, m->span)) < 0) return false;
  m->guard_slot = slot;
  m->deferred = true;
  st->deferred[st->deferred_count++] = m;
  if (st->deferred_count == DEFER_BATCH) deferred_flush(st);
  return true;
}

void deferred_remove(mapping_t *m) {
  env_state_t *st = m->owner;
  unsigned i;
  if (!m->deferred) return;
  for (i = 0; st != NULL && i < st->deferred_count; i++) {
    if (st->deferred[i] != m) continue;
    st->deferred[i] = st->deferred[--st->deferred_count];
    break;
  }
  os_guard_remove(m->guard_slot);
  m->deferred = false;
}

static void became_placeholder(mapping_t *m) {
  m->pages = PAGES_PLACEHOLDER;
  m->owner->placeholders++;
}

void deferred_flush(env_state_t *st) {
  mapping_t **d = st->deferred;
  unsigned n = st->deferred_count, i, j, k;
  bool reserved;
  /* By address (a few entries: insertion sort), so that adjacent ranges
   * form runs that one call replaces. */
  for (i = 1; i < n; i++) {
    mapping_t *m = d[i];
    for (j = i; j > 0 && d[j - 1]->base > m->base; j--) d[j] = d[j - 1];
    d[j] = m;
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
     * cannot be had stay the file's; settle() tries again. */
    for (k = i; k < j; k++) {
      if (os_placeholder(d[k]->base, d[k]->span, &d[k]->extra, &reserved) != 0) continue;
      budget_charge(2);
      became_placeholder(d[k]);
    }
  }
  /* Unguarded only now that they are placeholders. */
  for (i = 0; i < n; i++) {
    os_guard_remove(d[i]->guard_slot);
    d[i]->deferred = false;
  }
  st->deferred_count = 0;
}
