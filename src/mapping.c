/*
 * Mappings, the Buffers handed out over them (stores), their finalizers,
 * remap() and the end of a thread: see mapping.h and docs/lifetime.md.
 *
 * How the invariant (range.h) is kept here: every Buffer handed out is a
 * store that counts as a holder of its range (mmio_range_store_made) until the
 * runtime's finalizer says it let go of the memory, and the ArrayBuffer made
 * for it is watched (mmio_range_watch) until it is known to be collected, since
 * native code using a pointer it took keeps that ArrayBuffer alive. A detach
 * we did not make, or a Buffer whose fate at the end of its thread cannot be
 * proven, keeps the range for the life of the process (mmio_range_keep).
 */
#include "mapping.h"

#include <stdio.h>
#include <stdlib.h>

#include "budget.h"
#include "errors.h"
#include "registry.h"
#include "syserr.h"

size_t mmio_page_size;

/* ---- the runtime ------------------------------------------------------------ */

/* How the runtime ends a thread's Buffers, and so how a live mapping that
 * dies with its thread is told from one that escaped (docs/lifetime.md). */
typedef enum {
  ENDS_NO_ESCAPE, /* no transfer(): nothing escapes (Node 18, 20) */
  ENDS_NODE,      /* Node 22+: detach, then finalize, newest first */
  ENDS_BUN,       /* Bun: cleanup hooks, then the finalizers of whatever is
                     left, after a last collection or not */
  ENDS_DENO       /* Deno: finalizers only when really let go of, maybe
                     on another thread, maybe where no handle can be made */
} runtime_ends_t;

static runtime_ends_t ends;
static bool pinned; /* mmio_os_pin_module() */

/* node_api_create_external_sharedarraybuffer, where the runtime has it. */
typedef void (*noenv_finalize_fn)(void *data, void *hint);
typedef napi_status (*create_sab_fn)(napi_env env, void *data, size_t len,
                                     noenv_finalize_fn finalize, void *hint, napi_value *result);
static create_sab_fn create_sab;

static bool has_global(napi_env env, const char *name) {
  napi_value global;
  bool has = false;
  return napi_get_global(env, &global) == napi_ok &&
         napi_has_named_property(env, global, name, &has) == napi_ok && has;
}

/* Whether ArrayBuffer.prototype.transfer exists in this runtime. */
static bool has_transfer(napi_env env) {
  napi_value global, ctor, proto, fn;
  napi_valuetype type = napi_undefined;
  return napi_get_global(env, &global) == napi_ok &&
         napi_get_named_property(env, global, "ArrayBuffer", &ctor) == napi_ok &&
         napi_get_named_property(env, ctor, "prototype", &proto) == napi_ok &&
         napi_get_named_property(env, proto, "transfer", &fn) == napi_ok &&
         napi_typeof(env, fn, &type) == napi_ok && type == napi_function;
}

void mmio_mapping_init(napi_env env) {
  /* The same values in every environment; a race between workers here only
   * writes them twice. */
  mmio_page_size = mmio_os_page_size();
  mmio_budget_init();
  if (!pinned) pinned = mmio_os_pin_module() == 0;
  if (create_sab == NULL)
    create_sab =
        (create_sab_fn)mmio_os_runtime_symbol("node_api_create_external_sharedarraybuffer");
  if (has_global(env, "Deno")) ends = ENDS_DENO;
  else if (has_global(env, "Bun")) ends = ENDS_BUN;
  else ends = has_transfer(env) ? ENDS_NODE : ENDS_NO_ESCAPE;
}

bool mmio_mapping_shared_supported(void) { return create_sab != NULL; }

/* ---- records ---------------------------------------------------------------- */

typedef enum { STORE_ATTACHED, STORE_DETACHED, STORE_FREED } store_state_t;

/* At the end of a thread (ENDS_NODE): what classify() found. */
typedef enum { FATE_UNKNOWN, FATE_DIES_HERE, FATE_ESCAPED } store_fate_t;

typedef enum {
  ENV_RUNNING,
  ENV_ENDING /* its Buffers are being finalized for the thread's end */
} env_stage_t;

typedef struct store store_t;

struct store {
  range_t *range;     /* held */
  mapping_t *mapping; /* while it is its mapping's current Buffer */
  env_state_t *owner; /* NULL: a SharedArrayBuffer's, or the owner ended */
  napi_ref ab;        /* weak: the ArrayBuffer made for it; NULL when not watched */
  store_state_t state;
  store_state_t freed_from; /* FREED: the state it was in before */
  store_fate_t fate;
  size_t external; /* bytes told to V8 (napi_adjust_external_memory) */
  unsigned busy;   /* calls into the runtime that may run its finalizer */
  bool queued;     /* in the owner's poll queue */
  bool remote;     /* in the owner's list of finalized-elsewhere stores */
  store_t *next_queued, *next_remote;
  store_t *prev, *next; /* the owner's list, or the shared list */
};

struct mapping {
  uint8_t *base; /* its current Buffer: [base, base + len) */
  size_t len;
  range_t *range;    /* held; its pages are at its start */
  range_t **earlier; /* held: ranges a remap() moved away from, whose pages
                        stay the file's while the mapping is live and
                        anything can reach them */
  unsigned n_earlier;
  store_t *store;         /* its current Buffer */
  env_state_t *owner;     /* NULL: a SharedArrayBuffer mapping */
  mapping_t *prev, *next; /* the owner's live mappings */
  int prot;
  int64_t offset;
  bool map_shared; /* MAP_SHARED */
  bool at_once;    /* release its range at once, never in a batch */
  int fault_slot;  /* in the fault table (fault.h); -1: not watched */
};

struct env_state {
  range_env_t ranges; /* owned by range.c */
  registry_t *registry;
  mapping_t *live;
  store_t *stores;
  store_t *queue_head, *queue_tail;
  size_t queued;
  store_t *remote; /* finalized on other threads; under owners_lock */
  uintptr_t thread;
  env_stage_t stage;
  bool worker;
  bool flush_due;            /* lib/ has been asked to poll on the next turn */
  bool hooked;               /* ENDS_BUN: the cleanup hook is registered */
  napi_env env;              /* ENDS_BUN: for the cleanup hook */
  struct sentinel *sentinel; /* ENDS_NODE workers: the newest sentinel */
  bool sentinel_due;         /* a mapping was made after it */
  napi_ref sentinel_ref;
  /* Symbol.dispose, its method, Symbol.asyncDispose, its method (lib/),
   * given to every Buffer handed out; NULL where the runtime lacks them. */
  napi_ref disposers[4];
};

/* Guards each store's owner and every environment's remote list; also
 * serializes finalizers of stores whose owner ended. */
static os_spinlock_t owners_lock;
/* SharedArrayBuffer mappings: their stores, mappings and ranges change under
 * this lock, on any thread. */
static os_spinlock_t shared_lock;
static store_t *shared_stores;

static void list_push(store_t **head, store_t *s) {
  s->prev = NULL;
  s->next = *head;
  if (*head != NULL) (*head)->prev = s;
  *head = s;
}

static void list_unlink(store_t **head, store_t *s) {
  if (s->prev != NULL) s->prev->next = s->next;
  else if (*head == s) *head = s->next;
  if (s->next != NULL) s->next->prev = s->prev;
  s->prev = s->next = NULL;
}

static void cleanup_hook(void *arg);

env_state_t *mmio_env_state_new(napi_env env) {
  env_state_t *st = calloc(1, sizeof *st);
  if (st == NULL) return NULL;
  mmio_range_env_init(&st->ranges);
  st->thread = mmio_os_thread_self();
  if ((st->registry = mmio_registry_new()) == NULL) {
    free(st);
    return NULL;
  }
  st->env = env;
  if (ends == ENDS_BUN && napi_add_env_cleanup_hook(env, cleanup_hook, st) == napi_ok)
    st->hooked = true;
  return st;
}

void mmio_mapping_set_worker(env_state_t *st, bool worker) { st->worker = worker; }

bool mmio_mapping_set_disposers(napi_env env, env_state_t *st, const napi_value values[4]) {
  napi_ref made[4] = {NULL, NULL, NULL, NULL};
  int i;
  /* All four or none: a half-set table would fail every Buffer after. */
  for (i = 0; i < 4; i++) {
    if (napi_create_reference(env, values[i], 1, &made[i]) != napi_ok) {
      while (i-- > 0) napi_delete_reference(env, made[i]);
      return false;
    }
  }
  for (i = 0; i < 4; i++) {
    if (st->disposers[i] != NULL) napi_delete_reference(env, st->disposers[i]);
    st->disposers[i] = made[i];
  }
  return true;
}

/* The two methods as own properties of `buffer`, not enumerable: the
 * prototype stays Buffer.prototype, so the Buffer compares, prints and
 * spreads as any other (assert.deepStrictEqual with Buffer.from() holds),
 * and every Buffer handed out takes the same two map transitions. */
static bool add_disposers(napi_env env, const env_state_t *st, napi_value buffer) {
  napi_property_descriptor d[2] = {{0}};
  int i;
  if (st->disposers[0] == NULL) return true;
  for (i = 0; i < 2; i++) {
    if (napi_get_reference_value(env, st->disposers[2 * i], &d[i].name) != napi_ok ||
        napi_get_reference_value(env, st->disposers[2 * i + 1], &d[i].value) != napi_ok)
      return false;
    d[i].attributes = napi_writable | napi_configurable;
  }
  return napi_define_properties(env, buffer, 2, d) == napi_ok;
}

bool mmio_mapping_budget(napi_env env, size_t n, const char *syscall) {
  char hint[320];
  bool live;
  int got = mmio_budget_take(n);
  if (got == 0) return true;
  if (got != BUDGET_FULL && got != BUDGET_LIVE) {
    mmio_throw_system_error(env, got, "open", NULL,
                            "mmap-io reads /proc/self/maps and vm.max_map_count to keep "
                            "the process under the kernel's mapping limit, and could not "
                            "read them");
    return false;
  }
  /* What reached the ceiling: the kernel's count, or the ranges of live
   * mappings that the kernel merged (budget.c). */
  live = got == BUDGET_LIVE;
  snprintf(hint, sizeof hint,
           "too many mappings: %s %zu%s, and mmap-io stops at %zu, half of "
           "vm.max_map_count%s; call unmap() on mappings you no longer need, or let "
           "the event loop run so that garbage-collected ones are released",
           live ? "mmap-io's live mappings hold" : "the process holds",
           live ? mmio_budget_live() : mmio_budget_last_count(), live ? " ranges" : "",
           mmio_budget_ceiling(),
           live ? " (the kernel merged some of them, and unmap() would split them again)" : "");
  mmio_throw_system_error(env, mmio_syserr_number("ENOMEM"), syscall, NULL, hint);
  return false;
}

/* ---- stores ----------------------------------------------------------------- */

/* What each Buffer tells the runtime it holds, so that dropped mappings
 * are collected (and their finalizers run) before the process runs out of
 * mappings: the length, up to 64 KiB. More would make every big mapping
 * trigger a garbage collection (15 ms for 1 GiB), for pages that are the
 * kernel's page cache, not the heap's memory. Only Bun is told: V8 (Node,
 * Deno) counts every ArrayBuffer's length as external memory itself, so
 * telling it again doubled that count (a full collection in every 20,000
 * maps of a page, bench scenario 2). */
#define EXTERNAL_CAP ((size_t)64 << 10)

static void report_external(napi_env env, store_t *s, size_t len) {
  int64_t ignored;
  if (ends != ENDS_BUN) return;
  s->external = len < EXTERNAL_CAP ? len : EXTERNAL_CAP;
  napi_adjust_external_memory(env, (int64_t)s->external, &ignored);
}

static void unreport_external(napi_env env, store_t *s) {
  int64_t ignored;
  if (s->external != 0 && env != NULL)
    napi_adjust_external_memory(env, -(int64_t)s->external, &ignored);
  s->external = 0;
}

static store_t *store_new(env_state_t *owner, range_t *r, mapping_t *m) {
  store_t *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->range = r;
  mmio_range_hold(r);
  mmio_range_store_made(r);
  s->mapping = m;
  s->owner = owner;
  s->state = STORE_ATTACHED;
  if (owner != NULL) list_push(&owner->stores, s);
  return s;
}

/* The ArrayBuffer is collected, or its environment is gone: stop watching. */
static void forget(napi_env env, store_t *s) {
  if (s->ab == NULL) return;
  if (env != NULL) napi_delete_reference(env, s->ab);
  s->ab = NULL;
  mmio_range_unwatch(s->range);
}

static void watch(napi_env env, store_t *s, napi_value arraybuffer) {
  if (s->ab != NULL || napi_create_reference(env, arraybuffer, 0, &s->ab) != napi_ok) return;
  mmio_range_watch(s->range);
}

/* Free the record once nothing refers to it. */
static void store_settle(store_t *s) {
  range_t *r = s->range;
  if (s->busy != 0 || s->state != STORE_FREED || s->ab != NULL || s->queued || s->remote) return;
  if (s->owner != NULL) list_unlink(&s->owner->stores, s);
  free(s);
  mmio_range_drop(r);
}

/* Queue `s` for poll() to see whether its ArrayBuffer was collected. */
static void enqueue(env_state_t *st, store_t *s) {
  if (st == NULL || s->queued) return;
  s->queued = true;
  s->next_queued = NULL;
  if (st->queue_tail != NULL) st->queue_tail->next_queued = s;
  else st->queue_head = s;
  st->queue_tail = s;
  st->queued++;
}

static store_t *dequeue(env_state_t *st) {
  store_t *s = st->queue_head;
  if (s == NULL) return NULL;
  st->queue_head = s->next_queued;
  if (st->queue_head == NULL) st->queue_tail = NULL;
  st->queued--;
  s->queued = false;
  s->next_queued = NULL;
  return s;
}

/* The watched ArrayBuffer of `s`, when `s` is FREED or DETACHED: collected
 * (stop watching), detached by someone else while we held it attached (a
 * transfer: keep the range), or still alive (wait: true). */
static bool still_watched(napi_env env, store_t *s) {
  napi_value value = NULL;
  bool detached = true;
  if (s->ab == NULL) return false;
  if (napi_get_reference_value(env, s->ab, &value) != napi_ok || value == NULL) {
    forget(env, s);
    return false;
  }
  napi_is_detached_arraybuffer(env, value, &detached);
  if (!detached || (s->state == STORE_FREED && s->freed_from == STORE_ATTACHED)) {
    /* The runtime let go of memory that an ArrayBuffer we never detached
     * still covers (attached: a runtime that finalizes what is still in
     * use; detached: transfer() moved it away, perhaps more than once). */
    mmio_range_keep(s->range);
    forget(env, s);
    return false;
  }
  return true;
}

/* ---- mappings --------------------------------------------------------------- */

static mapping_t *mapping_new(env_state_t *owner, range_t *r, const mapped_t *p) {
  mapping_t *m = calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  m->base = p->addr;
  m->len = p->len;
  m->range = r;
  m->owner = owner;
  m->prot = p->prot;
  m->offset = p->offset;
  m->map_shared = p->map_shared;
  m->at_once = p->at_once;
  {
    fault_desc_t d = p->fault;
    d.writable = mmio_os_prot_writable(p->prot);
    d.readable = mmio_os_prot_readable(p->prot);
    d.offset = p->offset;
    m->fault_slot = mmio_fault_watch(p->addr, p->len, &d);
  }
  if (owner != NULL) {
    m->next = owner->live;
    if (owner->live != NULL) owner->live->prev = m;
    owner->live = m;
  }
  mmio_budget_live_add();
  return m;
}

/* The mapping is released: no live mapping needs its ranges' pages any
 * more. Its registry entry is gone already; the record is freed. */
static void mapping_end(mapping_t *m) {
  env_state_t *st = m->owner;
  unsigned i;
  if (st != NULL) {
    if (m->prev != NULL) m->prev->next = m->next;
    else st->live = m->next;
    if (m->next != NULL) m->next->prev = m->prev;
  }
  if (m->store != NULL && m->store->mapping == m) m->store->mapping = NULL;
  for (i = 0; i < m->n_earlier; i++) {
    mmio_range_keep_pages(m->earlier[i], false);
    mmio_range_drop(m->earlier[i]);
    mmio_budget_live_remove();
  }
  free(m->earlier);
  mmio_fault_unwatch(m->fault_slot);
  mmio_range_need(m->range, false);
  mmio_range_drop(m->range);
  mmio_budget_live_remove();
  free(m);
}

/* Collected without unmap(): the Buffer's store was finalized while it was
 * the mapping's current one. */
static void mapping_collected(mapping_t *m) {
  if (m->owner != NULL) mmio_registry_remove(m->owner->registry, m->base);
  mapping_end(m);
}

mapping_t *mmio_mapping_find(env_state_t *st, const void *ab_data, size_t ab_len) {
  mapping_t *m = mmio_registry_find(st->registry, ab_data);
  return m != NULL && m->len == ab_len ? m : NULL;
}

void mmio_mapping_bounds(const mapping_t *m, uint8_t **base, size_t *len) {
  *base = m->base;
  *len = m->len;
}

bool mmio_mapping_is_shared(const mapping_t *m) { return m->owner == NULL; }

bool mmio_mapping_maps_shared(const mapping_t *m) { return m->map_shared; }

const os_extra_t *mmio_mapping_extra(const mapping_t *m) { return &m->range->extra; }

void mmio_mapping_release_at_once(mapping_t *m) {
  if (m->owner == NULL) return; /* shared ones are never batched */
  m->at_once = true;
  mmio_range_release_at_once(m->range);
}

void mmio_mapping_protected(mapping_t *m) { mmio_fault_protected(m->fault_slot); }

int mmio_mapping_fault_slot(const mapping_t *m) { return m->fault_slot; }

size_t mmio_mapping_faults(const mapping_t *m) { return mmio_fault_count(m->fault_slot); }

pin_t mmio_mapping_pin(mapping_t *m) {
  pin_t pin;
  pin.range = m->range;
  pin.shared = m->owner == NULL;
  if (pin.shared) mmio_os_spin_lock(&shared_lock);
  mmio_range_hold(pin.range);
  mmio_range_pin(pin.range);
  if (pin.shared) mmio_os_spin_unlock(&shared_lock);
  return pin;
}

void mmio_mapping_unpin(pin_t pin) {
  if (pin.shared) mmio_os_spin_lock(&shared_lock);
  mmio_range_unpin(pin.range);
  mmio_range_drop(pin.range);
  if (pin.shared) mmio_os_spin_unlock(&shared_lock);
}

/* ---- the end of a thread ---------------------------------------------------- */

/* The thread is ending, and the runtime is about to finalize every live
 * Buffer (Node detaches each ArrayBuffer first, newest first; this runs
 * before it touches any of those still to come). An ArrayBuffer still
 * attached dies with the thread; one detached (we detach only through
 * unmap() and remap(), which end the mapping) or collected while the memory
 * is held was transferred away. */
static void classify(napi_env env, env_state_t *st) {
  mapping_t *m;
  for (m = st->live; m != NULL; m = m->next) {
    store_t *s = m->store;
    napi_value ab = NULL;
    bool detached = true;
    if (s == NULL || s->fate != FATE_UNKNOWN) continue;
    if (s->ab != NULL && napi_get_reference_value(env, s->ab, &ab) == napi_ok && ab != NULL)
      napi_is_detached_arraybuffer(env, ab, &detached);
    s->fate = detached ? FATE_ESCAPED : FATE_DIES_HERE;
  }
}

/* Whether the environment is being torn down: Node-API calls that may run
 * JavaScript fail then (napi_pending_exception / napi_cannot_run_js). */
static bool env_stopping(napi_env env) {
  napi_value object, value;
  if (napi_create_object(env, &object) != napi_ok) return true;
  return napi_get_named_property(env, object, "mmapIo", &value) != napi_ok;
}

/* ENDS_BUN: the thread ends. A worker that was idle has had its last
 * collection (what died with it is finalized already); one terminated while
 * running has not. Either way the live mappings' ArrayBuffers are as
 * JavaScript left them (or collected), and Bun finalizes them all next. */
static void cleanup_hook(void *arg) {
  env_state_t *st = arg;
  napi_handle_scope scope;
  bool scoped;
  st->hooked = false;
  if (st->stage != ENV_RUNNING) return;
  st->stage = ENV_ENDING;
  scoped = napi_open_handle_scope(st->env, &scope) == napi_ok;
  classify(st->env, st);
  if (scoped) napi_close_handle_scope(st->env, scope);
}

/* ENDS_NODE workers: a tiny external buffer made after each big mapping, so
 * that at the thread's end its finalizer comes before any of the mapping's
 * and classifies them all while they are untouched. */
typedef struct sentinel {
  env_state_t *st;
  bool current;
} sentinel_t;

static unsigned char sentinel_byte;

static void sentinel_finalized(napi_env env, void *data, void *hint) {
  sentinel_t *t = hint;
  (void)data;
  if (t->current) {
    /* Held by a strong reference: only the thread's end finalizes it. */
    env_state_t *st = t->st;
    st->sentinel = NULL;
    if (st->stage == ENV_RUNNING) {
      st->stage = ENV_ENDING;
      classify(env, st);
    }
  }
  free(t);
}

static void new_sentinel(napi_env env, env_state_t *st) {
  sentinel_t *t = malloc(sizeof *t);
  napi_value ab;
  napi_ref ref;
  if (t == NULL) return;
  t->st = st;
  t->current = true;
  if (napi_create_external_arraybuffer(env, &sentinel_byte, 1, sentinel_finalized, t, &ab) !=
      napi_ok) {
    free(t); /* the runtime refused it: no finalizer will come */
    return;
  }
  if (napi_create_reference(env, ab, 1, &ref) != napi_ok) {
    t->current = false; /* collected some time: its finalizer frees it */
    return;
  }
  if (st->sentinel != NULL) {
    st->sentinel->current = false;
    napi_delete_reference(env, st->sentinel_ref);
  }
  st->sentinel = t;
  st->sentinel_ref = ref;
  st->sentinel_due = false;
}

bool mmio_mapping_sentinel(napi_env env, env_state_t *st) {
  if (!st->sentinel_due) return false;
  new_sentinel(env, st);
  return true;
}

/* ---- finalizers --------------------------------------------------------------- */

/* The runtime let go of the memory of `s`'s Buffer. `env` is NULL when the
 * owner has ended (or for a SharedArrayBuffer's). */
static void finalized_here(napi_env env, store_t *s) {
  env_state_t *st = s->owner;
  store_state_t before = s->state;
  mapping_t *m = s->mapping;
  if (before == STORE_FREED) return; /* a runtime that calls it twice */
  s->state = STORE_FREED;
  s->freed_from = before;
  if (before == STORE_ATTACHED) unreport_external(env, s);
  s->mapping = NULL;

  if (env == NULL || st == NULL) {
    forget(NULL, s); /* what it watched died with its environment */
  } else if (ends == ENDS_DENO) {
    enqueue(st, s); /* no handle may be made here: poll() looks */
  } else if (before == STORE_ATTACHED &&
             (st->stage == ENV_ENDING || (ends == ENDS_NODE && env_stopping(env)))) {
    /* The thread's end: classify() knows what dies with it. Node detached
     * this one's ArrayBuffer just now if it is the first: escaped. */
    if (st->stage == ENV_RUNNING) {
      st->stage = ENV_ENDING;
      classify(env, st);
    }
    if (s->fate != FATE_DIES_HERE) mmio_range_keep(s->range);
    forget(env, s);
  } else if (still_watched(env, s)) {
    enqueue(st, s);
  }
  /* The store first: a mapping collected with nothing else holding its
   * range gives the addresses straight back, with no placeholder between. */
  mmio_range_store_freed(s->range);
  if (m != NULL) mapping_collected(m);
  store_settle(s);
}

/* Node calls it on the environment's thread after the ArrayBuffer let go of
 * the memory (collected, or detached by unmap()), or at the thread's end;
 * Bun and Deno inside napi_detach_arraybuffer; Deno maybe on another thread. */
static void store_finalized(napi_env env, void *data, void *hint) {
  store_t *s = hint;
  env_state_t *st;
  (void)data;
  mmio_os_spin_lock(&owners_lock);
  st = s->owner;
  if (st != NULL && st->thread != mmio_os_thread_self()) {
    /* Another thread (Deno): leave it to the owner's. */
    s->remote = true;
    s->next_remote = st->remote;
    st->remote = s;
    mmio_os_spin_unlock(&owners_lock);
    return;
  }
  if (st == NULL) {
    /* The owner ended: no env to use, and perhaps another thread. */
    finalized_here(NULL, s);
    mmio_os_spin_unlock(&owners_lock);
    return;
  }
  mmio_os_spin_unlock(&owners_lock);
  finalized_here(env, s);
}

void mmio_mapping_drain(napi_env env, env_state_t *st) {
  store_t *s, *next;
  if (mmio_os_peek_pointer((void *const *)&st->remote) == NULL) return;
  mmio_os_spin_lock(&owners_lock);
  s = st->remote;
  st->remote = NULL;
  mmio_os_spin_unlock(&owners_lock);
  for (; s != NULL; s = next) {
    next = s->next_remote;
    s->next_remote = NULL;
    s->remote = false;
    finalized_here(env, s);
  }
}

/* ---- handing out -------------------------------------------------------------- */

static void throw_forbidden(napi_env env) {
  napi_throw_error(env, "ERR_MMAP_IO_EXTERNAL_BUFFERS_FORBIDDEN",
                   "This runtime forbids Buffers over memory outside its JavaScript "
                   "heap (the V8 sandbox, as in Electron), so a mapping cannot be "
                   "handed out as a zero-copy Buffer");
}

static void shared_finalized(void *data, void *hint);

/* A new Buffer (or SharedArrayBuffer) over `m`'s current pages, as its
 * current store. On failure an exception is pending and `m` is released
 * (nothing can have had the addresses). */
static napi_value new_buffer(napi_env env, mapping_t *m, bool sab) {
  env_state_t *st = m->owner;
  napi_value buffer = NULL, arraybuffer;
  napi_status status;
  /* Not the mapping's yet: a finalizer that runs inside the call must not
   * end the mapping under us. */
  store_t *s = store_new(st, m->range, NULL);
  if (s == NULL) {
    mmio_throw_system_error(env, mmio_syserr_number("ENOMEM"), "mmap", NULL, NULL);
    goto failed;
  }
  s->busy++;
  if (sab) {
    mmio_os_spin_lock(&shared_lock);
    list_push(&shared_stores, s);
    mmio_os_spin_unlock(&shared_lock);
    status = create_sab(env, m->base, m->len, shared_finalized, s, &buffer);
  } else {
    status = napi_create_external_buffer(env, m->len, m->base, store_finalized, s, &buffer);
  }
  if (sab) mmio_os_spin_lock(&shared_lock);
  s->busy--;
  if (status != napi_ok) {
    if (status == napi_no_external_buffers_allowed) throw_forbidden(env);
    else mmio_throw_napi_failure(env);
    if (status == napi_no_external_buffers_allowed || s->state == STORE_FREED) {
      /* No finalizer will come (refused), or it came inside the call. */
      if (sab) list_unlink(&shared_stores, s);
      if (s->state != STORE_FREED) {
        s->state = STORE_FREED;
        mmio_range_store_freed(s->range);
      }
      store_settle(s);
    } else {
      /* It may come later, or never: the store stays for it (a few bytes),
       * detached from a range given back below. */
      s->state = STORE_DETACHED;
    }
    if (sab) mmio_os_spin_unlock(&shared_lock);
    goto failed;
  }
  s->mapping = m;
  m->store = s;
  if (sab) mmio_os_spin_unlock(&shared_lock);
  if (!sab) {
    /* Where transfer() can move the memory away, the ArrayBuffer made here is
     * watched from now on; elsewhere unmap() watches the one it detaches. */
    if (ends != ENDS_NO_ESCAPE &&
        napi_get_typedarray_info(env, buffer, NULL, NULL, NULL, &arraybuffer, NULL) == napi_ok)
      watch(env, s, arraybuffer);
    report_external(env, s, m->len);
    /* The Buffer is handed out even if this fails (it cannot, with what
     * setup() accepts): the mapping is made, and nothing else would
     * release it before the garbage collector. */
    if (!add_disposers(env, st, buffer)) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    /* A big mapping gets its sentinel now; small ones share one that lib/
     * asks for once per turn of the event loop (mmio_mapping_sentinel()). */
    if (ends == ENDS_NODE && st->worker) {
      if (m->range->span > RANGE_BATCH_MAX_SPAN) new_sentinel(env, st);
      else st->sentinel_due = true;
    }
  }
  return buffer;

failed:
  /* Nothing can have had the addresses: they go now. */
  if (m->owner != NULL) mmio_registry_remove(m->owner->registry, m->base);
  if (sab) mmio_os_spin_lock(&shared_lock);
  mmio_range_discard(m->range);
  mapping_end(m);
  if (sab) mmio_os_spin_unlock(&shared_lock);
  return NULL;
}

napi_value mmio_mapping_hand_out(napi_env env, env_state_t *st, const mapped_t *p, bool sab) {
  range_t *r = mmio_range_new(sab ? NULL : &st->ranges, p->addr, p->len, p->extra);
  mapping_t *m;
  if (r == NULL) {
    os_extra_t extra = p->extra;
    mmio_os_unmap(p->addr, p->len, &extra);
    mmio_throw_system_error(env, mmio_syserr_number("ENOMEM"), "mmap", NULL, NULL);
    return NULL;
  }
  if (sab || p->at_once) mmio_range_release_at_once(r);
  if ((m = mapping_new(sab ? NULL : st, r, p)) == NULL) {
    mmio_range_discard(r);
    mmio_range_drop(r);
    mmio_throw_system_error(env, mmio_syserr_number("ENOMEM"), "mmap", NULL, NULL);
    return NULL;
  }
  if (!sab && !mmio_registry_add(st->registry, m->base, m)) {
    mmio_range_discard(r);
    mapping_end(m);
    mmio_throw_system_error(env, mmio_syserr_number("ENOMEM"), "mmap", NULL, NULL);
    return NULL;
  }
  return new_buffer(env, m, sab);
}

/* ---- unmap() ------------------------------------------------------------------ */

/* Detach `arraybuffer` (a view's) from `s`, the current store of `m`, which
 * is taken out of the registry first: a finalizer that runs inside the
 * detach (Bun, Deno) must find it no longer current. On failure everything
 * is as it was and an exception is pending. */
static bool detach(napi_env env, mapping_t *m, napi_value arraybuffer) {
  store_t *s = m->store;
  napi_value made = NULL;
  bool transferred = false, pending = false;
  /* The ArrayBuffer we made for it, or another one: transfer() moved the
   * memory, perhaps more than once, past holders we cannot watch. */
  if (s->ab != NULL) {
    bool same = false;
    if (napi_get_reference_value(env, s->ab, &made) == napi_ok && made != NULL)
      napi_strict_equals(env, made, arraybuffer, &same);
    /* V8 keeps a Buffer's ArrayBuffer for as long as the Buffer: one we made
     * that is collected while its memory is still in use was moved away.
     * JavaScriptCore (Bun) does not keep the object: .buffer makes a new one
     * for the same memory once ours is collected, so only a different one
     * still alive tells of a transfer there. Bun copies rather than moves
     * memory that an operation in progress holds, and refuses to detach it,
     * so the ArrayBuffer detached below is then the only holder. */
    transferred = made != NULL ? !same : ends != ENDS_BUN;
  }
  mmio_registry_remove(m->owner->registry, m->base);
  s->mapping = NULL;
  s->state = STORE_DETACHED;
  s->busy++;
  mmio_range_pin(s->range);
  if (napi_detach_arraybuffer(env, arraybuffer) != napi_ok) {
    mmio_range_unpin(s->range);
    s->busy--;
    if (s->state == STORE_DETACHED) {
      s->state = STORE_ATTACHED;
      s->mapping = m;
      mmio_registry_add(m->owner->registry, m->base, m); /* its slot is free */
    }
    /* Bun refuses to detach a buffer that an operation in progress holds
     * (fs.read, say): the mapping stays as it was. */
    if (napi_is_exception_pending(env, &pending) == napi_ok && !pending)
      napi_throw_error(env, "ERR_MMAP_IO_CANNOT_DETACH",
                       "The runtime refuses to detach this mapping's ArrayBuffer now (an "
                       "operation in progress, such as fs.read, holds it); the mapping is "
                       "unchanged: unmap() it once that operation completes");
    return false;
  }
  if (transferred) mmio_range_keep(s->range);
  if (s->state == STORE_DETACHED) {
    unreport_external(env, s);
    watch(env, s, arraybuffer); /* where it was not watched from its creation */
    if (s->ab != NULL) enqueue(m->owner, s);
  }
  mmio_range_unpin(s->range);
  s->busy--;
  return true;
}

bool mmio_mapping_release(napi_env env, mapping_t *m, napi_value arraybuffer) {
  store_t *s = m->store;
  if (!detach(env, m, arraybuffer)) return false;
  mapping_end(m);
  store_settle(s);
  return true;
}

/* ---- SharedArrayBuffer mappings ------------------------------------------------- */

/* The runtime lets go of the last SharedArrayBuffer over `s`: on any thread,
 * with no env. */
static void shared_finalized(void *data, void *hint) {
  store_t *s = hint;
  (void)data;
  mmio_os_spin_lock(&shared_lock);
  if (s->state != STORE_FREED) {
    mapping_t *m = s->mapping;
    s->freed_from = s->state;
    s->state = STORE_FREED;
    s->mapping = NULL;
    list_unlink(&shared_stores, s);
    if (m != NULL) mapping_end(m);
    mmio_range_store_freed(s->range);
    if (s->busy == 0) store_settle(s);
  }
  mmio_os_spin_unlock(&shared_lock);
}

mapping_t *mmio_mapping_find_shared(const uint8_t *data, size_t len, bool *released) {
  store_t *s;
  mapping_t *m = NULL;
  *released = false;
  if (mmio_os_peek_pointer((void *const *)&shared_stores) == NULL || data == NULL) return NULL;
  mmio_os_spin_lock(&shared_lock);
  for (s = shared_stores; s != NULL; s = s->next) {
    const uint8_t *base = s->range->base;
    if (data >= base && len <= s->range->span && (size_t)(data - base) <= s->range->span - len)
      break;
  }
  if (s != NULL) {
    if (s->state != STORE_ATTACHED || s->mapping == NULL) *released = true;
    else if ((size_t)(data - s->mapping->base) + len <= s->mapping->len) m = s->mapping;
  }
  mmio_os_spin_unlock(&shared_lock);
  return m;
}

/* unmap() of a view of a SharedArrayBuffer mapping: its views cannot be
 * detached; the file's pages go at once (every thread's views read zeros),
 * the addresses and the record when the runtime lets go of the last
 * SharedArrayBuffer (shared_finalized). */
void mmio_mapping_release_shared(mapping_t *m) {
  mmio_os_spin_lock(&shared_lock);
  /* The record stays until the finalizer: another thread may have found
   * it just before and be using it now (it then acts on a placeholder). */
  if (m->store->state == STORE_ATTACHED) {
    m->store->state = STORE_DETACHED;
    mmio_range_need(m->range, false);
  }
  mmio_os_spin_unlock(&shared_lock);
}

/* ---- remap() -------------------------------------------------------------------- */

static bool throw_remap_range(napi_env env) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
                         "The value of \"length\" is out of range. It must end within the "
                         "file, or the shared memory, mapped (its last page)");
  return false;
}

/* Every check that needs no change, then the file grown if asked: all
 * before anything moves. `moves`: the pages do not stay in their range, so
 * the OS must be able to remap them. */
static bool remap_checks(napi_env env, mapping_t *m, size_t new_len, int64_t fd, bool grow,
                         bool moves, bool *proven) {
  uint64_t size = 0, end = (uint64_t)m->offset + new_len;
  int err;
  if (m->owner == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                          "The argument 'buffer' is a SharedArrayBuffer mapping, which remap() "
                          "cannot replace: its views in other threads cannot be detached");
    return false;
  }
  if (moves && (err = mmio_os_remap_supported(m->map_shared, &m->range->extra)) != 0) {
    mmio_throw_system_error(env, err, "mremap", NULL,
                            err == mmio_syserr_number("ENOTSUP")
                                ? "a private mapping that cannot grow in place moves, which needs "
                                  "mremap() with MREMAP_DONTUNMAP (Linux 5.13 and later)"
                                : NULL);
    return false;
  }
  *proven = false;
  if (!mmio_mapping_budget(env, 2, "mremap")) return false;
  if (fd < 0) return true;
  /* The fd must be the mapped file, proven before it is grown or trusted. */
  err = mmio_os_fd_is_mapped_file(fd, m->base, &size, &m->range->extra);
  if (err == mmio_syserr_number("EINVAL")) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                          "The property 'options.fd' is not a descriptor of the file that "
                          "this mapping maps");
    return false;
  }
  if (err == mmio_syserr_number("ENOSYS")) {
    if (grow) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                            "The property 'options.fd' cannot be proven to be a descriptor of "
                            "the file that this mapping maps on this system, so remap() does "
                            "not grow it");
      return false;
    }
    return true; /* the last page is probed instead */
  }
  if (err != 0) {
    mmio_throw_system_error(env, err, "fstat", NULL, NULL);
    return false;
  }
  if (grow && size < end) {
    if ((err = mmio_os_grow_fd(fd, end)) != 0) {
      mmio_throw_system_error(env, err, "ftruncate", NULL, NULL);
      return false;
    }
    size = end;
  }
  if (size < end) {
    mmio_throw_out_of_range(env, "length",
                            "within the file (shorter: grow it, or pass { grow: true })",
                            (int64_t)new_len);
    return false;
  }
  *proven = true;
  return true;
}

/* Without a descriptor that proved the file long enough: the new last page
 * at `last` must be readable, or its first touch raises SIGBUS. False with
 * an exception pending otherwise. */
static bool probe_last_page(napi_env env, uint8_t *last) {
  int err = mmio_os_prefetch(last, mmio_page_size);
  if (err == 0) return true;
  if (err != mmio_syserr_number("EFAULT")) {
    mmio_throw_system_error(env, err, "mremap", NULL, NULL);
  } else if (mmio_os_readable(last) == 0) {
    /* Past the end of the file, or only a protection that forbids reading:
     * which one cannot be told from here. */
    napi_throw_type_error(env, "ERR_MISSING_OPTION",
                          "options.fd is required to grow a mapping whose pages cannot be read "
                          "(PROT_NONE, write-only, or protect()ed): with it, remap() checks the "
                          "file's size instead of reading the new last page");
  } else {
    throw_remap_range(env);
  }
  return false;
}

napi_value mmio_mapping_remap(napi_env env, mapping_t *m, napi_value arraybuffer, size_t new_len,
                              int64_t fd, bool grow) {
  env_state_t *st = m->owner;
  range_t *r = m->range, *nr;
  size_t new_span = (new_len + mmio_page_size - 1) / mmio_page_size * mmio_page_size;
  void *addr = r->base;
  os_extra_t new_extra = r->extra;
  os_remap_t how = REMAP_IN_PLACE;
  store_t *old;
  bool split = new_span <= r->span && mmio_os_can_split(), proven;
  int err = 0;

  if (!remap_checks(env, m, new_len, fd, grow, !split, &proven)) return NULL;
  /* The new pages first, checked, while nothing is detached: a failure
   * leaves the mapping as it was. No JavaScript runs in between. Growing
   * back into the range a shrink left mapped: the file may be shorter now. */
  if (split && new_len > m->len && !proven &&
      !probe_last_page(env, r->base + new_span - mmio_page_size))
    return NULL;
  if (!split) {
    err = mmio_os_remap(r->base, r->span, new_span, m->map_shared, m->offset, m->prot, &r->extra,
                        &new_extra, &addr, &how);
    if (err == mmio_syserr_number("ERANGE")) return throw_remap_range(env), NULL;
    if (err == mmio_syserr_number("EFAULT")) {
      /* mremap() moves one kernel mapping, and this one is in parts. */
      napi_throw_error(env, "ERR_INVALID_STATE",
                       "Invalid state: protect(), lock() or advice on part of this mapping "
                       "split it into parts with different flags, which mremap() cannot grow "
                       "or move; unmap() it and map() it again");
      return NULL;
    }
    if (err != 0) {
      mmio_throw_system_error(env, err, "mremap", NULL, NULL);
      return NULL;
    }
    /* Past the end of the file (or of shared memory), a page's first touch
     * raises SIGBUS: unless the fd proved the size, the last page must be
     * readable. */
    if (!proven && !probe_last_page(env, (uint8_t *)addr + new_span - mmio_page_size)) {
      mmio_os_unremap(r->base, r->span, addr, new_span, how, &new_extra);
      return NULL;
    }
  }
  nr = r;
  if (!split && how != REMAP_IN_PLACE &&
      (nr = mmio_range_new(&st->ranges, addr, new_len, new_extra)) == NULL) {
    mmio_os_unremap(r->base, r->span, addr, new_span, how, &new_extra);
    mmio_throw_system_error(env, mmio_syserr_number("ENOMEM"), "mremap", NULL, NULL);
    return NULL;
  }
  if (nr != r && m->at_once) mmio_range_release_at_once(nr);
  if (nr != r && how == REMAP_DUPLICATE && !mmio_os_mapped_files_locked()) {
    /* Its pages kept while the mapping lives: room for it first, after
     * dropping the earlier ranges already given back. */
    range_t **earlier;
    unsigned i, n = 0;
    for (i = 0; i < m->n_earlier; i++) {
      if (m->earlier[i]->state == RANGE_RELEASED) {
        mmio_range_drop(m->earlier[i]);
        mmio_budget_live_remove();
      } else {
        m->earlier[n++] = m->earlier[i];
      }
    }
    m->n_earlier = n;
    earlier = realloc(m->earlier, (m->n_earlier + 1) * sizeof *earlier);
    if (earlier == NULL) {
      mmio_os_unremap(r->base, r->span, addr, new_span, how, &new_extra);
      mmio_range_discard(nr);
      mmio_range_drop(nr);
      mmio_throw_system_error(env, mmio_syserr_number("ENOMEM"), "mremap", NULL, NULL);
      return NULL;
    }
    m->earlier = earlier;
  }
  old = m->store;
  /* No fault handler may change the old range's pages from here on (it
   * becomes a placeholder below, or is kept for a pending read): the
   * mapping is watched again at its new bounds, or its old ones. */
  mmio_fault_move(m->fault_slot, NULL, 0);
  if (!detach(env, m, arraybuffer)) { /* Bun: in use; nothing changed */
    mmio_fault_move(m->fault_slot, m->base, m->len);
    if (nr != r) {
      mmio_os_unremap(r->base, r->span, addr, new_span, how, &new_extra);
      mmio_range_discard(nr);
      mmio_range_drop(nr);
    } else if (!split) {
      mmio_os_unremap(r->base, r->span, addr, new_span, how, &new_extra);
    }
    return NULL;
  }
  /* The same mapping from here on, with a new Buffer. */
  if (nr == r) {
    if (!split) mmio_range_grow(r, new_span); /* grown where it was */
    else if (!m->map_shared && new_span < r->span)
      /* Shorter: the range stays mapped while the mapping lives (it may
       * grow back into it), but private pages past the end are dropped. */
      mmio_os_discard(r->base + new_span, r->span - new_span);
  } else {
    m->range = nr;
    if (how == REMAP_DUPLICATE && !mmio_os_mapped_files_locked()) {
      /* The old range keeps the same pages (a pending fs.read into the old
       * Buffer still reaches the file) while the mapping lives; it is no
       * longer needed for itself. */
      m->earlier[m->n_earlier++] = r;
      mmio_budget_live_add();
      mmio_range_keep_pages(r, true);
      mmio_range_need(r, false);
    } else {
      /* Moved (its page tables went with it; MREMAP_DONTUNMAP left the old
       * range mapped and ours), or Windows, where a mapped file cannot be
       * deleted: the old range is released as unmap() releases it. */
      mmio_range_need(r, false);
      mmio_range_drop(r);
    }
  }
  m->base = addr;
  m->len = new_len;
  mmio_fault_move(m->fault_slot, addr, new_len);
  store_settle(old);
  if (!mmio_registry_add(st->registry, m->base, m)) {
    mmio_throw_system_error(env, mmio_syserr_number("ENOMEM"), "mremap", NULL,
                            "the old Buffer was detached, and the mapping released");
    mapping_end(m);
    return NULL;
  }
  return new_buffer(env, m, false);
}

/* ---- poll ----------------------------------------------------------------------- */

/* Whether `s` still waits for its ArrayBuffer; requeued if so. */
static void look(napi_env env, env_state_t *st, store_t *s) {
  if (still_watched(env, s)) enqueue(st, s);
  else store_settle(s);
}

void mmio_mapping_poll_some(napi_env env, env_state_t *st) {
  /* Two per map(): enough to keep up with a loop that unmaps as often as
   * it maps. */
  int n = st->queued < 2 ? (int)st->queued : 2;
  while (n-- > 0) look(env, st, dequeue(st));
}

size_t mmio_mapping_poll(napi_env env, env_state_t *st) {
  size_t n = st->queued;
  st->flush_due = false;
  /* Looked at first: what they find unreachable goes in this flush. */
  while (n-- > 0) look(env, st, dequeue(st));
  mmio_range_flush(&st->ranges);
  return st->queued;
}

bool mmio_mapping_flush_due(env_state_t *st) {
  if (st->flush_due || !mmio_range_batch_pending(&st->ranges)) return false;
  st->flush_due = true;
  return true;
}

void mmio_mapping_flush(env_state_t *st) { mmio_range_flush(&st->ranges); }

size_t mmio_mapping_watched(const env_state_t *st) { return st->queued; }

/* ---- the environment's end ------------------------------------------------------- */

void mmio_mapping_teardown(napi_env env, env_state_t *st) {
  store_t *s, *next;
  if (st->hooked) napi_remove_env_cleanup_hook(env, cleanup_hook, st);
  if (st->sentinel != NULL) st->sentinel->current = false; /* a late finalizer only frees it */
  mmio_mapping_drain(NULL, st);
  mmio_os_spin_lock(&owners_lock);
  for (s = st->stores; s != NULL; s = s->next) s->owner = NULL;
  mmio_os_spin_unlock(&owners_lock);
  /* Live mappings whose Buffers the runtime has not finalized (Deno does it
   * after this): released; their stores wait for their finalizers, owned by
   * no environment. */
  while (st->live != NULL) {
    mapping_t *m = st->live;
    mmio_registry_remove(st->registry, m->base);
    if (m->store != NULL) m->store->state = STORE_DETACHED;
    mapping_end(m);
  }
  /* What was watched dies with the environment. */
  for (s = st->stores; s != NULL; s = next) {
    next = s->next;
    s->prev = s->next = NULL;
    s->queued = false;
    forget(NULL, s);
    store_settle(s);
  }
  mmio_range_env_end(&st->ranges);
  mmio_registry_free(st->registry);
  free(st);
}

napi_value mmio_mapping_reserved(napi_env env) {
  size_t kept, kept_bytes, waiting, waiting_bytes;
  napi_value result, v;
  mmio_range_totals(&kept, &kept_bytes, &waiting, &waiting_bytes);
  if (napi_create_object(env, &result) != napi_ok) return NULL;
#define SET(name, value)                                         \
  if (napi_create_double(env, (double)(value), &v) != napi_ok || \
      napi_set_named_property(env, result, name, v) != napi_ok)  \
    return NULL;
  SET("kept", kept)
  SET("keptBytes", kept_bytes)
  SET("waiting", waiting)
  SET("waitingBytes", waiting_bytes)
#undef SET
  return result;
}
