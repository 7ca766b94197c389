/*
 * The per-environment registry of live mappings, found by base address.
 */
#ifndef MMAP_IO_REGISTRY_H
#define MMAP_IO_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct registry registry_t;
typedef struct mapping mapping_t; /* mapping.h */

/* Open addressing with linear probing, keyed by base address. Deletion
 * shifts later entries back, so there are no tombstones. */
struct registry {
  mapping_t **slots;
  size_t mask; /* capacity - 1; the capacity is a power of two */
  size_t count;
};

/* NULL when out of memory. */
registry_t *registry_new(void);
void registry_free(registry_t *r);
mapping_t *registry_find(const registry_t *r, const void *base);
/* Lists `m` and sets m->registry. False when out of memory. */
bool registry_add(registry_t *r, mapping_t *m);
/* Unlists `m` and clears m->registry. */
void registry_remove(registry_t *r, mapping_t *m);

#endif
