/*
 * Address ranges: the addresses this process reserved for a mapping, apart
 * from the mapping itself (mapping.h). docs/lifetime.md has the whole model.
 *
 * THE INVARIANT, kept here: a range goes back to the OS (RANGE_RELEASED)
 * only when nothing can reach it any more:
 *   - no live mapping needs its pages (!needed),
 *   - no threadpool job or call in progress pins it (pins == 0),
 *   - the runtime has let go of every Buffer made over it (stores == 0),
 *   - every ArrayBuffer known to have covered it is collected (watched == 0),
 *   - and no holder it cannot see exists (reach == REACH_KNOWN).
 * Until then its addresses stay reserved, and they change content only by
 * one atomic replacement over our own range (a placeholder), never by a
 * moment where they are free. The file's pages go (MAPPED -> PLACEHOLDER)
 * only once no live mapping needs them and nothing pins them, so a queued
 * promises.sync still syncs the file.
 *
 * States and transitions (range_state_t):
 *
 *   MAPPED      --released, unpinned, batchable-->      BATCHED
 *   MAPPED      --released, unpinned-->                 PLACEHOLDER
 *   BATCHED     --batch flushed, or the fault guard-->  PLACEHOLDER
 *   PLACEHOLDER --unreachable, batchable-->             RELEASING
 *   RELEASING   --its release batch goes-->             RELEASED
 *   MAPPED | BATCHED | PLACEHOLDER --unreachable-->     RELEASED
 *
 * RELEASING is a placeholder that nothing can reach, waiting for up to
 * RANGE_BATCH - 1 others of its environment: adjacent ones go back in one
 * munmap() (a burst of finalizers after a loop of map() and unmap() would
 * otherwise split the merged placeholder once per range). It still reserves
 * its addresses; nothing can make it reachable again.
 *
 * A remap() that shrinks the mapping keeps the whole range mapped while the
 * mapping lives (a later remap() may grow it back within the range for no
 * system call); a private mapping's pages past the new end are discarded.
 *
 * Each range belongs to its environment's thread (`owner`), which alone
 * calls these functions for it; ranges of SharedArrayBuffer mappings belong
 * to no thread and are changed under mapping.c's lock. A range with unknown
 * holders (REACH_KEPT) is never released: it is counted in range_kept() for
 * the life of the process.
 */
#ifndef MMAP_IO_RANGE_H
#define MMAP_IO_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os.h"

/* How many released ranges wait at most to become placeholders together,
 * and the largest that waits: at most 4 MiB of a thread's file pages stay
 * mapped after unmap() until the batch goes. 64 rather than 16: each batch
 * costs one mmap() whose TLB shootdown reaches every core, which was 14% of a
 * map() + unmap() loop at 16. */
#define RANGE_BATCH 64
#define RANGE_BATCH_MAX_SPAN ((size_t)64 << 10)

typedef enum {
  RANGE_MAPPED,      /* the mapping's pages (a file's, shared memory's, anonymous) */
  RANGE_BATCHED,     /* released; the file's pages until its batch is flushed */
  RANGE_PLACEHOLDER, /* anonymous zero-filled memory reserving the addresses */
  RANGE_RELEASING,   /* an unreachable placeholder in its release batch */
  RANGE_RELEASED     /* given back to the OS */
} range_state_t;

typedef enum {
  REACH_KNOWN, /* every holder is counted below */
  REACH_KEPT   /* holders we cannot see: reserved for the life of the process */
} range_reach_t;

typedef struct range range_t;
typedef struct range_env range_env_t;

struct range {
  uint8_t *base;       /* page-aligned */
  size_t span;         /* whole pages */
  bool needed;         /* a live mapping's Buffer is in it */
  bool pages_kept;     /* an earlier range of a live mapping (a remap() that
                          moved it): its pages stay the file's, not a
                          placeholder, while it is reachable at all */
  range_state_t state; /* see above */
  range_reach_t reach;
  bool batchable;       /* small, and no stale write through it reaches a file */
  unsigned pins;        /* jobs and calls in progress */
  unsigned stores;      /* Buffers over it the runtime has not let go of */
  unsigned watched;     /* ArrayBuffers over it not yet known to be collected */
  unsigned refs;        /* records pointing at it */
  int guard_slot;       /* BATCHED: its slot in the fault guard */
  range_env_t *owner;   /* NULL: a SharedArrayBuffer's, or its thread has ended */
  os_extra_t extra;     /* Windows: the view's handles */
  range_t *prev, *next; /* the owner's list */
};

/* Per environment (a thread): its ranges, and its batch. Owned by range.c;
 * env_state_t (mapping.h) embeds one. */
struct range_env {
  range_t *all;
  range_t *batch[RANGE_BATCH];
  unsigned batched;
  range_t *releasing[RANGE_BATCH]; /* RANGE_RELEASING */
  unsigned nreleasing;
  uintptr_t thread;
};

void mmio_range_env_init(range_env_t *env);
/* The environment ends: every range it owns whose holders all died with it
 * is released; the rest (pinned, stores still held elsewhere, kept) stay,
 * owned by no environment. */
void mmio_range_env_end(range_env_t *env);

/* A new MAPPED range over pages just mapped at [base, base + len), needed,
 * with one reference (the caller's). `owner` NULL: process-wide. NULL
 * when out of memory (nothing else changed). */
range_t *mmio_range_new(range_env_t *owner, void *base, size_t len, os_extra_t extra);
/* The mapping can write to its file through a stale pointer, or is locked:
 * its range becomes a placeholder at release, never in a batch. */
void mmio_range_release_at_once(range_t *r);

void mmio_range_hold(range_t *r);
/* Drops a reference; the record is freed once released (or kept) and
 * unreferenced. */
void mmio_range_drop(range_t *r);

/* Whether a live mapping's Buffer is in the range. */
void mmio_range_need(range_t *r, bool needed);
/* An earlier range of a live mapping: while `kept`, its pages stay the
 * file's for as long as anything can reach it (a pending fs.read into the
 * old Buffer still reaches the file); it is released as soon as nothing
 * can, whether the mapping lives on or not. */
void mmio_range_keep_pages(range_t *r, bool kept);
/* The range grew where it was (an in-place remap()): [base, base + span)
 * is now mapped. */
void mmio_range_grow(range_t *r, size_t span);

void mmio_range_pin(range_t *r);
void mmio_range_unpin(range_t *r);

/* A Buffer was made over it; the runtime let go of one. */
void mmio_range_store_made(range_t *r);
void mmio_range_store_freed(range_t *r);
/* An ArrayBuffer over it is watched; one was found collected. */
void mmio_range_watch(range_t *r);
void mmio_range_unwatch(range_t *r);
/* Holders it cannot see: reserved for the life of the process. */
void mmio_range_keep(range_t *r);

/* Give the range back now: nothing can have its address (the Buffer was
 * never handed out). */
void mmio_range_discard(range_t *r);

/* Switch the environment's batch to placeholders, and give back its
 * release batch. */
void mmio_range_flush(range_env_t *env);
/* Whether a flush is pending (a batch holds ranges). */
bool mmio_range_batch_pending(const range_env_t *env);

/* Ranges kept for the life of the process, and their bytes; ranges
 * reserved as placeholders (any thread), and their bytes. */
void mmio_range_totals(size_t *kept, size_t *kept_bytes, size_t *waiting, size_t *waiting_bytes);

#endif
