/*
 * The per-environment registry of live mappings, found by the address their
 * Buffer starts at.
 */
#ifndef MMAP_IO_REGISTRY_H
#define MMAP_IO_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mapping mapping_t; /* mapping.h */

typedef struct {
  const void *key;
  mapping_t *value;
} registry_slot_t;

/* Open addressing with linear probing, keyed by a page-aligned address.
 * Deletion shifts later entries back, so there are no tombstones. */
typedef struct registry {
  registry_slot_t *slots;
  size_t mask; /* capacity - 1; the capacity is a power of two */
  size_t count;
} registry_t;

/* NULL when out of memory. */
registry_t *mmio_registry_new(void);
void mmio_registry_free(registry_t *r);
mapping_t *mmio_registry_find(const registry_t *r, const void *key);
/* False when out of memory. `key` must not be listed already. */
bool mmio_registry_add(registry_t *r, const void *key, mapping_t *value);
/* `key` must be listed. */
void mmio_registry_remove(registry_t *r, const void *key);

#endif
