/* The per-environment registry of live mappings: see registry.h. */
#include "registry.h"

#include <stdlib.h>

#define MIN_CAPACITY 64

/* Keys are page-aligned: hash the page number (Fibonacci hashing). */
static size_t home(const registry_t *r, const void *key) {
  uint64_t h = (uint64_t)((uintptr_t)key >> 12) * 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 32) & r->mask;
}

registry_t *mmio_registry_new(void) {
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

void mmio_registry_free(registry_t *r) {
  free(r->slots);
  free(r);
}

mapping_t *mmio_registry_find(const registry_t *r, const void *key) {
  size_t i;
  for (i = home(r, key); r->slots[i].key != NULL; i = (i + 1) & r->mask)
    if (r->slots[i].key == key) return r->slots[i].value;
  return NULL;
}

static void place(registry_t *r, registry_slot_t slot) {
  size_t i = home(r, slot.key);
  while (r->slots[i].key != NULL) i = (i + 1) & r->mask;
  r->slots[i] = slot;
}

bool mmio_registry_add(registry_t *r, const void *key, mapping_t *value) {
  registry_slot_t slot;
  /* Keep the load under 3/4. */
  if ((r->count + 1) * 4 > (r->mask + 1) * 3) {
    size_t old_capacity = r->mask + 1, i;
    registry_slot_t *old = r->slots;
    registry_slot_t *slots = calloc(old_capacity * 2, sizeof *slots);
    if (slots == NULL) return false;
    r->slots = slots;
    r->mask = old_capacity * 2 - 1;
    for (i = 0; i < old_capacity; i++)
      if (old[i].key != NULL) place(r, old[i]);
    free(old);
  }
  slot.key = key;
  slot.value = value;
  place(r, slot);
  r->count++;
  return true;
}

void mmio_registry_remove(registry_t *r, const void *key) {
  size_t hole = home(r, key), i;
  while (r->slots[hole].key != key) hole = (hole + 1) & r->mask;
  /* Move back each later entry of the probe run whose home slot does not lie
   * cyclically in (hole, i]: it could no longer be found past the hole. */
  for (i = (hole + 1) & r->mask; r->slots[i].key != NULL; i = (i + 1) & r->mask) {
    size_t h = home(r, r->slots[i].key);
    bool stays = hole <= i ? (hole < h && h <= i) : (hole < h || h <= i);
    if (!stays) {
      r->slots[hole] = r->slots[i];
      hole = i;
    }
  }
  r->slots[hole].key = NULL;
  r->slots[hole].value = NULL;
  r->count--;
}
