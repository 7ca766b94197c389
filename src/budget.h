/*
 * The process's mapping budget. The kernel limits how many mappings (VMAs)
 * a process holds (vm.max_map_count on Linux) and counts all of them: V8's
 * heap, thread stacks, every copy of this addon, every split that protect(),
 * lock() and flag-changing advice make. When mmap() hits that limit, V8's
 * next allocation fails and the process aborts.
 *
 * So mmap-io counts what the kernel counts (mmio_os_map_count()) and refuses,
 * with a catchable ENOMEM, any call that could add mappings once the
 * process holds half of the limit: the other half is left to Node (each
 * worker thread needs about fifty). Reading the count costs time
 * proportional to it (7 ms at 17,000 mappings here), so each call adds an
 * upper bound of what it may add to an estimate, and the real count is read
 * again only once the estimate has used a step of what was left. Each copy
 * of the addon in the process keeps its own estimate and may add its step on
 * a reading another copy has made stale, so each copy marks itself with a
 * mapping of its own (a memfd named "mmap-io copy") that every count sees: a
 * copy that saw no other's mark steps half of what was left (twice on the
 * way from nothing to 20,000 mappings), one that saw others (or cannot mark)
 * a sixteenth (budget.c says why). Nine copies together stay under the
 * kernel's limit, however they were loaded and interleaved (with halves for
 * all, four did not). A mark planted by someone else only makes a copy step
 * a sixteenth. Changes the fault handler
 * makes ('zero' policy) are charged too, from the handler. Once a call is
 * refused, the next ones are refused without reading the count again until
 * this copy has released a range or 100 ms have passed: a refused call costs
 * microseconds, not a read of /proc/self/maps. The kernel merges adjacent
 * mappings of consecutive pages of one file, which later calls split again
 * (unmap() cannot be refused), so the count can hide mappings to come: this
 * copy's live mappings stay under the ceiling as well.
 */
#ifndef MMAP_IO_BUDGET_H
#define MMAP_IO_BUDGET_H

#include <stdbool.h>
#include <stddef.h>

void mmio_budget_init(void);
/* Before a call that may add up to `n` mappings: 0 when taken; BUDGET_FULL
 * when it would take the process past the ceiling, BUDGET_LIVE when this
 * copy's live mappings would pass it (the caller throws ENOMEM for both);
 * or the OS error (negative) of a count that could not be read for now
 * (EMFILE): then the call is refused with that error, since the count is
 * unknown. */
enum { BUDGET_FULL = 1, BUDGET_LIVE = 2 };
int mmio_budget_take(size_t n);
/* mapping.c: a range that holds a live mapping's file pages (its own, or
 * an earlier one a remap() keeps mapped) was added, or is no longer such. */
void mmio_budget_live_add(void);
void mmio_budget_live_remove(void);
size_t mmio_budget_live(void);
/* After a call that may have added up to `n` mappings and cannot be
 * refused (releasing memory). */
void mmio_budget_charge(size_t n);
/* From a signal handler (lock-free): takes `n` within the current step;
 * false when the step is used up. Then the handler may read the real count
 * itself (async-signal-safe) and call mmio_budget_recount_async(): false
 * when `n` more would pass the ceiling. What handlers take is counted in
 * the estimate at the next call. */
bool mmio_budget_take_async(size_t n);
bool mmio_budget_recount_async(size_t real, size_t n);
/* Something was given back: the next refused call reads the count again. */
void mmio_budget_released(void);
/* The ceiling, and the count last read (0 when there is no limit). */
size_t mmio_budget_ceiling(void);
size_t mmio_budget_last_count(void);

#endif
