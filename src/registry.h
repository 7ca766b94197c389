/*
 * Live mappings and the per-environment registry that finds them by address.
 */
#ifndef MMAP_IO_REGISTRY_H
#define MMAP_IO_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os.h"

typedef struct registry registry_t;

/* One mapping, from map() until its pages are unmapped and Node has run the
 * Buffer's finalizer, whichever is later. */
typedef struct {
  uint8_t *base;
  size_t len;
  registry_t *registry; /* listed (live) while set */
  unsigned pins;        /* threadpool jobs still using the pages */
  bool mapped;          /* the pages are mapped */
  bool released;        /* unmap() or the finalizer asked for the pages to go */
  bool finalized;       /* the finalizer ran: free the record when unpinned */
  os_extra_t extra;
} mapping_t;

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
