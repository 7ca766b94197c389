/*
 * Mappings and their lifetime.
 *
 * Every mapping is a `mapping_t`, handed to JavaScript as an external Buffer
 * whose ArrayBuffer covers exactly the mapping. Who can still reach its
 * pages decides what happens to them:
 *
 *  - JavaScript views: unmap() detaches the ArrayBuffer, so every view of it
 *    becomes empty at once.
 *  - Native code that took the address from a view before unmap() (fs.read,
 *    crypto.randomFill, zlib, sockets: Node keeps the JavaScript object alive
 *    while such work runs, and so keeps the ArrayBuffer alive). unmap()
 *    therefore releases the file's pages at once but keeps the addresses:
 *    the range becomes a placeholder of anonymous zero-filled memory, which a
 *    stale pointer can read and write without faulting and without reaching
 *    any file. The addresses are given back only once the runtime has run
 *    the external buffer's finalizer and the ArrayBuffer object has been
 *    garbage collected (a weak reference, polled from an unref'd timer
 *    that lib/ runs while any mapping waits).
 *  - Threadpool jobs (promises.*): they pin the mapping; its file pages stay
 *    until the job is done.
 *  - Another thread, through ArrayBuffer.prototype.transfer(): see
 *    mapping_teardown() and the teardown path of the finalizer.
 *
 * Finalizers may run later (Node), synchronously inside the Node-API call
 * that triggers them (Bun and Deno run them inside napi_detach_arraybuffer;
 * a failed napi_create_external_buffer may run it), never (a runtime that
 * refuses external buffers), or on another thread: Deno lets postMessage
 * move a mapped ArrayBuffer to a worker and runs the finalizer where the
 * last ArrayBuffer died, with the creator's env, which must not be used
 * there. Every path pins the record while it calls into the runtime, so a
 * finalizer that runs "now" only marks the record and the caller settles it
 * afterwards; one on another thread hands the record to its owner's thread
 * (mapping_drain()).
 */
#ifndef MMAP_IO_MAPPING_H
#define MMAP_IO_MAPPING_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os.h"
#include "registry.h"

typedef enum {
  PAGES_FILE,        /* the mapping itself (of a file or anonymous memory) */
  PAGES_PLACEHOLDER, /* released; the addresses are still reserved */
  PAGES_NONE         /* the addresses are given back */
} pages_t;

typedef struct env_state env_state_t;

/* How many unmapped mappings wait at most to become placeholders together,
 * and the largest that waits (deferred.h): at most 1 MiB of a thread's file
 * pages stay mapped after unmap() until the batch goes. */
#define DEFER_BATCH 16
#define DEFER_MAX_SPAN ((size_t)64 << 10)

typedef struct mapping {
  uint8_t *base;                /* page-aligned */
  size_t len;                   /* what the ArrayBuffer covers */
  size_t span;                  /* len rounded up to whole pages: the address range */
  env_state_t *owner;           /* the environment that made it; NULL once it ended */
  registry_t *registry;         /* listed (live) while set */
  napi_ref ab[2];               /* weak: the ArrayBuffer made at map(), and the one
                                   unmap() detached if that was another (a same-thread
                                   transfer()); NULL once collected */
  struct mapping *prev, *next;  /* the owner's list of every record */
  struct mapping *next_waiting; /* the owner's queue of released mappings
                                   whose ArrayBuffer is not collected yet */
  struct mapping *next_remote;  /* the owner's list of mappings finalized on
                                   another thread */
  unsigned pins;                /* threadpool jobs and calls in progress */
  uint8_t pages;                /* pages_t */
  bool released;                /* unmap() released the file's pages */
  bool store_freed;             /* the runtime ran the external buffer's finalizer */
  bool waiting;                 /* in the owner's waiting queue */
  bool reachable;               /* teardown found its ArrayBuffer still attached */
  bool escaped;                 /* may be reachable from another thread: keep the
                                   addresses reserved for as long as the process runs */
  bool external;                /* counted in napi_adjust_external_memory */
  bool shared;                  /* handed out as a SharedArrayBuffer: process-wide, owned
                                   by no environment, finalized on any thread */
  bool keep_file;               /* remap() left these pages to the new mapping's file
                                   range: they stay mapped (not a placeholder) until
                                   nothing can reach them, so that native code still
                                   writing to them writes to the file where it meant */
  bool map_shared;              /* MAP_SHARED (else private) */
  bool deferred;                /* released, its pages still the file's, in its
                                   owner's batch (deferred.h) */
  bool no_defer;                /* released at once, not in a batch: shared and
                                   writable, locked, or re-protected */
  int guard_slot;               /* while deferred: its slot in the fault guard */
  int prot;                     /* as mapped */
  int64_t offset;               /* in the file, of base */
  os_extra_t extra;
} mapping_t;

/* Per environment (the main thread and each worker): its registry of live
 * mappings, every record it made, and the released ones whose ArrayBuffer
 * may still be reachable. */
struct env_state {
  registry_t *registry;
  mapping_t *all;
  mapping_t *waiting_head, *waiting_tail;
  size_t waiting_count;
  size_t placeholders;              /* records of this environment reserving addresses
                                       that will be given back */
  uintptr_t thread;                 /* the environment's thread */
  mapping_t *remote;                /* finalized on another thread; under a lock */
  bool classified;                  /* teardown has classified the live mappings */
  mapping_t *deferred[DEFER_BATCH]; /* the batch (deferred.h) */
  unsigned deferred_count;
  bool flush_due; /* lib/ has been asked to flush the batch */
};

/* Process-wide facts, set once by mapping_init(). */
extern size_t page_size;
/* ArrayBuffer.prototype.transfer exists: a mapping can move to another
 * thread without our knowing. */
extern bool transfer_possible;
/* The runtime may run finalizers where no handle can be made (Deno, when
 * one of its own operations lets go of a buffer). */
extern bool finalizers_without_handles;

void mapping_init(void);
env_state_t *env_state_new(void);
/* The environment is ending: everything it made is released. */
void mapping_teardown(env_state_t *st);

/* Before a call that may add up to `n` kernel mappings: false with ENOMEM
 * thrown when the process is at its mapping budget (budget.h). */
bool mapping_budget(napi_env env, size_t n, const char *syscall);

/* A new record for pages just mapped; NULL when out of memory. */
mapping_t *mapping_new(env_state_t *st, void *addr, size_t len, os_extra_t extra);
/* Unmap and free a record never handed to JavaScript. */
void mapping_discard(mapping_t *m);
/* Hand `m` to JavaScript as an external Buffer. On failure an exception is
 * pending, the pages are unmapped and `m` may be gone. */
bool mapping_to_buffer(napi_env env, mapping_t *m, napi_value *buffer);
/* unmap(): detach `arraybuffer` (which holds `m`'s pages) and release the
 * file's pages. False with an exception pending when it cannot detach. */
bool mapping_release(napi_env env, mapping_t *m, napi_value arraybuffer);

/* Give back the addresses of released mappings whose ArrayBuffer has been
 * collected since; returns how many placeholders are still held. lib/
 * calls it from an unref'd timer while any are. */
size_t mapping_poll(napi_env env, env_state_t *st);
/* The same for the first two in the queue: map() calls it. */
void mapping_poll_some(napi_env env, env_state_t *st);
/* Finish what finalizers that ran on other threads left to this one. */
void mapping_drain(napi_env env, env_state_t *st);

/* SharedArrayBuffer mappings (node_api_create_external_sharedarraybuffer,
 * looked up at run time: Node 22.23+, 24.21+, 26, Bun). Any thread may hold
 * their views; the runtime runs their finalizer when the last one lets go,
 * on that thread and with no env, and only then are the addresses given
 * back. unmap() releases the file's pages at once (every thread's views
 * read zeros from then on: a SharedArrayBuffer cannot be detached). */
bool mapping_shared_supported(void);
mapping_t *mapping_new_shared(void *addr, size_t len, os_extra_t extra);
/* Hand a shared `m` to JavaScript as a SharedArrayBuffer; on failure an
 * exception is pending and the pages are unmapped. */
bool mapping_to_sharedarraybuffer(napi_env env, mapping_t *m, napi_value *sab);
/* The live shared mapping that [data, data + len) lies in, or NULL; with
 * *released set when it lies in one that unmap() has released. */
mapping_t *mapping_find_shared(const uint8_t *data, size_t len, bool *released);
/* unmap() of a view of a shared mapping. */
void mapping_release_shared(mapping_t *m);

/* How many address ranges are reserved for the life of the process. */
size_t mapping_reserved_ranges(void);

/* remap(): the mapping `m` (whose ArrayBuffer is `arraybuffer`) as
 * `new_len` bytes from the same start, handed out as a new Buffer. The old
 * ArrayBuffer is detached as unmap() detaches it; pages that the new
 * mapping does not take over are released as unmap() releases them. False
 * with an exception pending on failure; `m` is then released if the old
 * views were detached already (the error says so). */
bool mapping_remap(napi_env env, mapping_t *m, napi_value arraybuffer, size_t new_len,
                   napi_value *buffer);

/* Pins keep the file's pages mapped while a threadpool job uses them. */
void mapping_pin(mapping_t *m);
void mapping_unpin(napi_env env, mapping_t *m);

#endif
