/* The per-environment registry of live mappings: see registry.h. */
#include "registry.h"

#include "mapping.h"

#include <stdlib.h>

#define MIN_CAPACITY 64

/* Mappings are page-aligned: hash the page number (Fibonacci hashing). */
static size_t home(const registry_t *r, const void *base) {
  uint64_t h = (uint64_t)((uintptr_t)base >> 12) * 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 32) & r->mask;
}

registry_t *registry_new(void) {
  registry_t *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  r->slots = calloc(MIN_CAPACITY, sizeof *r->slots);
  if (r->slots == NULL) {
    free(r);
    return NULL;
  }
  r->mask = MIN_CAPACITY - 1;
  return r;
}

void registry_free(registry_t *r) {
  free(r->slots);
  free(r);
}

mapping_t *registry_find(const registry_t *r, const void *base) {
  size_t i;
  for (i = home(r, base); r->slots[i] != NULL; i = (i + 1) & r->mask)
    if (r->slots[i]->base == base) return r->slots[i];
  return NULL;
}

static void place(registry_t *r, mapping_t *m) {
  size_t i = home(r, m->base);
  while (r->slots[i] != NULL) i = (i + 1) & r->mask;
  r->slots[i] = m;
}

bool registry_add(registry_t *r, mapping_t *m) {
  /* Keep the load under 3/4. */
  if ((r->count + 1) * 4 > (r->mask + 1) * 3) {
    size_t old_capacity = r->mask + 1, i;
    mapping_t **old = r->slots;
    mapping_t **slots = calloc(old_capacity * 2, sizeof *slots);
    if (slots == NULL) return false;
    r->slots = slots;
    r->mask = old_capacity * 2 - 1;
    for (i = 0; i < old_capacity; i++)
      if (old[i] != NULL) place(r, old[i]);
    free(old);
  }
  place(r, m);
  r->count++;
  m->registry = r;
  return true;
}

void registry_remove(registry_t *r, mapping_t *m) {
  size_t hole = home(r, m->base), i;
  while (r->slots[hole] != m) hole = (hole + 1) & r->mask;
  /* Move back each later entry of the probe run whose home slot does not lie
   * cyclically in (hole, i]: it could no longer be found past the hole. */
  for (i = (hole + 1) & r->mask; r->slots[i] != NULL; i = (i + 1) & r->mask) {
    size_t h = home(r, r->slots[i]->base);
    bool stays = hole <= i ? (hole < h && h <= i) : (hole < h || h <= i);
    if (!stays) {
      r->slots[hole] = r->slots[i];
      hole = i;
    }
  }
  r->slots[hole] = NULL;
  r->count--;
  m->registry = NULL;
}
