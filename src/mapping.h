/*
 * Mappings and the Buffers handed out over them. docs/lifetime.md has the
 * whole model; range.h keeps the invariant for the addresses.
 *
 * A mapping (mapping_t) is what map(), open() or shm made: its pages, in a
 * range (range.h), handed to JavaScript as one Buffer at a time. remap()
 * gives the same mapping a new Buffer, in the same range or a new one. A
 * mapping exists exactly while it is live: unmap(), the garbage collection
 * of its Buffer, or the end of its thread releases it and frees the record.
 *
 * Each Buffer handed out has a store (store_t): the runtime's external
 * store, whose finalizer says when the runtime lets go of the memory. A
 * store holds its range until that finalizer has run and the ArrayBuffer
 * made for it is known to be collected (a weak reference). Its states:
 *
 *   ATTACHED --unmap() or remap() detached it--> DETACHED --finalizer--> FREED
 *   ATTACHED --finalizer (collected, or the thread ended)------------->  FREED
 *
 * A detach we did not make (transfer(), Deno's postMessage) means holders
 * we cannot see: the range is kept for the life of the process.
 *
 * Finalizers may run later (Node), inside the Node-API call that triggers
 * them (Bun and Deno run them inside napi_detach_arraybuffer; a failed
 * napi_create_external_buffer may run it), never (a runtime that refuses
 * external buffers), on another thread (Deno, for a Buffer postMessage moved
 * there), or at the end of the thread for memory still used elsewhere (Node,
 * Bun). Each case is handled in mapping.c.
 */
#ifndef MMAP_IO_MAPPING_H
#define MMAP_IO_MAPPING_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault.h"
#include "os.h"
#include "range.h"

typedef struct mapping mapping_t;
typedef struct env_state env_state_t;

/* Process-wide facts, set once by mmio_mapping_init(). */
extern size_t mmio_page_size;

/* Once per environment, from NAPI_MODULE_INIT: the runtime's facts. */
void mmio_mapping_init(napi_env env);
/* NULL when out of memory. */
env_state_t *mmio_env_state_new(napi_env env);
/* lib/ says whether this environment is a worker thread's. */
void mmio_mapping_set_worker(env_state_t *st, bool worker);
/* lib/'s [Symbol.dispose, dispose, Symbol.asyncDispose, asyncDispose]:
 * every Buffer handed out from now on gets the two methods. */
bool mmio_mapping_set_disposers(napi_env env, env_state_t *st, const napi_value values[4]);
/* The environment is ending: everything it made is released. */
void mmio_mapping_teardown(napi_env env, env_state_t *st);

/* Before a call that may add up to `n` kernel mappings: false with ENOMEM
 * thrown when the process is at its mapping budget (budget.h). */
bool mmio_mapping_budget(napi_env env, size_t n, const char *syscall);

/* What map() mapped, to be handed out. */
typedef struct {
  void *addr;
  size_t len;
  os_extra_t extra;
  int prot;
  bool map_shared; /* MAP_SHARED */
  bool at_once;    /* its range becomes a placeholder at release, never batched */
  int64_t offset;
  fault_desc_t fault; /* what it maps and what a fault in it does (fault.h);
                         writable, readable and offset come from the fields
                         above */
} mapped_t;

/* Hand the pages to JavaScript as a Buffer, or (`sab`) a SharedArrayBuffer.
 * NULL with an exception pending on failure; the pages are then unmapped. */
napi_value mmio_mapping_hand_out(napi_env env, env_state_t *st, const mapped_t *pages, bool sab);

/* The live mapping of this environment whose Buffer's ArrayBuffer has data
 * `ab_data` and length `ab_len`, or NULL. */
mapping_t *mmio_mapping_find(env_state_t *st, const void *ab_data, size_t ab_len);
/* The SharedArrayBuffer mapping [data, data + len) lies in, or NULL; with
 * *released set when it lies in one that unmap() has released. */
mapping_t *mmio_mapping_find_shared(const uint8_t *data, size_t len, bool *released);

/* unmap(): detach `arraybuffer` (a view's, of `m`) and release `m`. False
 * with an exception pending when the runtime refuses to detach it. */
bool mmio_mapping_release(napi_env env, mapping_t *m, napi_value arraybuffer);

/* remap(): `m` (whose view's ArrayBuffer is `arraybuffer`) as `new_len`
 * bytes from its start, handed out as a new Buffer. With `fd` >= 0 (a
 * descriptor of the mapped file, proven to be it before anything else),
 * the file's size is checked exactly, and with `grow` the file grown
 * first. NULL with an exception pending on failure; then nothing changed. */
napi_value mmio_mapping_remap(napi_env env, mapping_t *m, napi_value arraybuffer, size_t new_len,
                              int64_t fd, bool grow);

/* Give back the addresses that collected ArrayBuffers were the last holders
 * of, and switch the batch (poll), or do it for two (poll_some, on map());
 * return how many ArrayBuffers are still watched. */
size_t mmio_mapping_poll(napi_env env, env_state_t *st);
void mmio_mapping_poll_some(napi_env env, env_state_t *st);
/* How many ArrayBuffers this environment watches now. */
size_t mmio_mapping_watched(const env_state_t *st);
/* Finish what finalizers that ran on other threads left to this one. */
void mmio_mapping_drain(napi_env env, env_state_t *st);
/* Whether the first unmap() of a batch asks lib/ for a poll on the next
 * turn (then it is asked once). */
bool mmio_mapping_flush_due(env_state_t *st);
/* Switch the batch now (fadvise: mapped pages cannot be dropped). */
void mmio_mapping_flush(env_state_t *st);

/* What a call on a live mapping needs. */
void mmio_mapping_bounds(const mapping_t *m, uint8_t **base, size_t *len);
/* unmap() of a view of a SharedArrayBuffer mapping. */
void mmio_mapping_release_shared(mapping_t *m);
bool mmio_mapping_is_shared(const mapping_t *m);   /* a SharedArrayBuffer mapping */
bool mmio_mapping_maps_shared(const mapping_t *m); /* MAP_SHARED */
const os_extra_t *mmio_mapping_extra(const mapping_t *m);
/* lock() and protect(): its pages go at release, not in a batch. */
void mmio_mapping_release_at_once(mapping_t *m);
/* protect() was called on it: a fault there is its doing. */
void mmio_mapping_protected(mapping_t *m);
/* Its slot in the fault table (fault.h), or -1; how many faults it saw. A
 * mapping that saw one refuses every call but unmap() and faults(). */
int mmio_mapping_fault_slot(const mapping_t *m);
size_t mmio_mapping_faults(const mapping_t *m);

/* Pin the mapping's range while a threadpool job uses it; the job keeps the
 * returned token and unpins with it on the environment's thread, whatever
 * became of the mapping meanwhile. */
typedef struct {
  range_t *range;
  bool shared;
} pin_t;
pin_t mmio_mapping_pin(mapping_t *m);
void mmio_mapping_unpin(pin_t pin);

/* Node 22+ workers: a sentinel after the mappings made since the last one
 * (docs/lifetime.md); lib/ asks once per turn of the event loop after a
 * map. False when none was due. */
bool mmio_mapping_sentinel(napi_env env, env_state_t *st);

/* The runtime has node_api_create_external_sharedarraybuffer. */
bool mmio_mapping_shared_supported(void);

/* For the tests: the totals of reserved ranges, as an object. */
napi_value mmio_mapping_reserved(napi_env env);

#endif
