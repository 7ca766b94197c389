/*
 * Batched release of small unmapped mappings (DEFER_MAX_SPAN) that no write
 * can reach the file through (read-only, or private).
 *
 * unmap() detaches every view at once. Turning the pages into a placeholder
 * (mapping.h) costs a system call that replaces one kernel mapping with
 * another, more than munmap() costs. For a mapping whose file no stale
 * pointer can write to, that switch is made for up to DEFER_BATCH unmapped
 * mappings at once: adjacent ones (as successive mappings mostly are) take
 * one call between them. Until then the range still maps the file, is still
 * reserved, and a stale pointer reads the file's bytes; if the file is
 * truncated meanwhile, the fault guard (os.h) makes the placeholder when
 * such a read faults. The batch is switched when it is full, when lib/'s
 * setImmediate() after the first unmap() of a batch runs (so by the next
 * turn of the event loop), at every poll, before fadvise() (mapped pages
 * cannot be dropped from the page cache), and when the environment ends.
 * Bigger mappings (whose release costs mostly the page tables, not the call)
 * and shared writable ones become placeholders at once, as before, so that
 * the pages a thread still maps after unmap() are at most a batch of small
 * ones (1 MiB).
 */
#ifndef MMAP_IO_DEFERRED_H
#define MMAP_IO_DEFERRED_H

#include <stdbool.h>

#include "mapping.h"

/* unmap() has just released `m` (its pages still the file's): take it into
 * its owner's batch, unless it must become a placeholder now (false). */
bool deferred_add(mapping_t *m);
/* `m` is released outright (nothing can reach it): out of the batch. */
void deferred_remove(mapping_t *m);
/* Switch the owner's batch to placeholders. */
void deferred_flush(env_state_t *st);

#endif
