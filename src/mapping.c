/* Mappings and their lifetime: see mapping.h. */
#include "mapping.h"

#include <stdio.h>
#include <stdlib.h>

#include "budget.h"
#include "deferred.h"
#include "errors.h"
#include "syserr.h"

size_t page_size;
bool transfer_possible;

/* node_api_create_external_sharedarraybuffer, where the runtime has it. */
typedef void (*noenv_finalize_fn)(void *data, void *hint);
typedef napi_status (*create_sab_fn)(napi_env env, void *data, size_t len,
                                     noenv_finalize_fn finalize, void *hint, napi_value *result);
static create_sab_fn create_sab;
bool finalizers_without_handles;

void mapping_init(void) {
  page_size = os_page_size();
  budget_init();
  if (create_sab == NULL)
    create_sab = (create_sab_fn)os_runtime_symbol("node_api_create_external_sharedarraybuffer");
}

/* Guards each record's owner, and every environment's list of records
 * finalized on other threads. */
static os_spinlock_t owners;

env_state_t *env_state_new(void) {
  env_state_t *st = calloc(1, sizeof *st);
  if (st == NULL) return NULL;
  st->thread = os_thread_self();
  if ((st->registry = registry_new()) == NULL) {
    free(st);
    return NULL;
  }
  return st;
}

bool mapping_budget(napi_env env, size_t n, const char *syscall) {
  char hint[320];
  if (budget_take(n)) return true;
  snprintf(hint, sizeof hint,
           "too many mappings: the process holds %zu, and mmap-io stops at %zu, "
           "half of vm.max_map_count; call unmap() on mappings you no longer "
           "need, or let the event loop run so that garbage-collected ones are "
           "released",
           budget_last_count(), budget_ceiling());
  throw_system_error(env, syserr_number("ENOMEM"), syscall, NULL, hint);
  return false;
}

/* ---- records ------------------------------------------------------------- */

/* The doubly linked lists of records: an environment's (all) and the
 * process's SharedArrayBuffer mappings (shared_list). */
static void list_push(mapping_t **head, mapping_t *m) {
  m->prev = NULL;
  m->next = *head;
  if (*head != NULL) (*head)->prev = m;
  *head = m;
}

static void list_unlink(mapping_t **head, mapping_t *m) {
  if (m->prev != NULL) m->prev->next = m->next;
  else if (*head == m) *head = m->next;
  if (m->next != NULL) m->next->prev = m->prev;
  m->prev = m->next = NULL;
}

mapping_t *mapping_new(env_state_t *st, void *addr, size_t len, os_extra_t extra) {
  mapping_t *m = calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  m->base = addr;
  m->len = len;
  m->span = (len + page_size - 1) / page_size * page_size;
  m->extra = extra;
  m->pages = PAGES_FILE;
  m->owner = st;
  list_push(&st->all, m);
  return m;
}

static void unlink_record(mapping_t *m) {
  if (m->owner != NULL) list_unlink(&m->owner->all, m);
}

/* What each mapping tells V8 it holds, so that dropped mappings are
 * collected (and their finalizers run) before the process runs out of
 * mappings: the length, up to 64 KiB. More would make every big mapping
 * trigger a garbage collection (15 ms for 1 GiB), for pages that are the
 * kernel's page cache, not V8's memory. */
#define EXTERNAL_CAP ((size_t)64 << 10)

static void report_external(napi_env env, mapping_t *m, bool add) {
  int64_t ignored, bytes = (int64_t)(m->len < EXTERNAL_CAP ? m->len : EXTERNAL_CAP);
  if (env == NULL || m->external == add) return;
  m->external = add;
  napi_adjust_external_memory(env, add ? bytes : -bytes, &ignored);
}

/* Address ranges kept reserved for the life of the process (escaped
 * mappings), for the tests (binding.reserved()). */
static os_spinlock_t reserved_lock;
static size_t reserved_ranges;

size_t mapping_reserved_ranges(void) {
  size_t n;
  os_spin_lock(&reserved_lock);
  n = reserved_ranges;
  os_spin_unlock(&reserved_lock);
  return n;
}

static bool watched(const mapping_t *m) { return m->ab[0] != NULL || m->ab[1] != NULL; }

/* Do whatever `m` is waiting for, once no job or call holds it. `env` is
 * the owner's environment, or NULL when it has ended. `m` may be freed. */
static void settle(napi_env env, mapping_t *m) {
  bool unreachable, reserved = false;
  if (m->pins != 0) return;
  if (m->external && m->pages != PAGES_FILE) report_external(env, m, false);
  /* Nothing can reach the addresses any more: the runtime let go of the
   * buffer, its ArrayBuffers are collected, and no other thread has it. */
  unreachable = m->store_freed && !watched(m) && !m->escaped;
  if (m->pages == PAGES_FILE && (m->released || m->store_freed)) {
    report_external(env, m, false);
    if (unreachable) {
      deferred_remove(m);
      os_unmap(m->base, m->span, &m->extra);
      budget_charge(1);
      m->pages = PAGES_NONE;
      if (m->keep_file && m->owner != NULL) m->owner->placeholders--;
    } else if (m->deferred) {
      /* unmap() put it in a batch: a placeholder with the rest of it. */
    } else if (!m->keep_file && os_placeholder(m->base, m->span, &m->extra, &reserved) == 0) {
      if (!reserved) {
        /* Windows: another thread took the range as the view went. It is
         * not ours: nothing to keep, and nothing to release later. */
        budget_charge(1);
        m->pages = PAGES_NONE;
      } else {
        budget_charge(2);
        m->pages = PAGES_PLACEHOLDER;
        if (m->owner != NULL && !m->escaped) m->owner->placeholders++;
        if (m->escaped) {
          os_spin_lock(&reserved_lock);
          reserved_ranges++;
          os_spin_unlock(&reserved_lock);
        }
      }
    }
    /* If even a placeholder cannot be had (the kernel's mapping limit), the
     * pages stay as they are and the next settle() tries again. */
  }
  if (m->pages == PAGES_PLACEHOLDER && unreachable) {
    os_release(m->base, m->span);
    budget_charge(1);
    m->pages = PAGES_NONE;
    if (m->owner != NULL) m->owner->placeholders--;
  }
  if (m->store_freed && m->pages != PAGES_FILE && (m->pages == PAGES_NONE || m->escaped) &&
      !watched(m) && m->registry == NULL && !m->waiting) {
    unlink_record(m);
    free(m);
  }
}

/* ---- weak references to the ArrayBuffer --------------------------------- */

/* Drop the references whose ArrayBuffer has been collected; true when none
 * is left. */
static bool collected(napi_env env, mapping_t *m) {
  int i;
  for (i = 0; i < 2; i++) {
    napi_value value = NULL;
    if (m->ab[i] == NULL) continue;
    if (napi_get_reference_value(env, m->ab[i], &value) == napi_ok && value != NULL) continue;
    napi_delete_reference(env, m->ab[i]);
    m->ab[i] = NULL;
  }
  return !watched(m);
}

static void forget_references(napi_env env, mapping_t *m) {
  int i;
  for (i = 0; i < 2; i++) {
    if (m->ab[i] != NULL && env != NULL) napi_delete_reference(env, m->ab[i]);
    m->ab[i] = NULL;
  }
}

/* Queue `m` to be polled: only once the runtime has let go of the buffer,
 * as until then nothing could be released anyway. */
static void enqueue(env_state_t *st, mapping_t *m) {
  if (st == NULL || m->waiting || !watched(m) || !m->store_freed) return;
  m->waiting = true;
  m->next_waiting = NULL;
  if (st->waiting_tail != NULL) st->waiting_tail->next_waiting = m;
  else st->waiting_head = m;
  st->waiting_tail = m;
  st->waiting_count++;
}

static mapping_t *dequeue(env_state_t *st) {
  mapping_t *m = st->waiting_head;
  if (m == NULL) return NULL;
  st->waiting_head = m->next_waiting;
  if (st->waiting_head == NULL) st->waiting_tail = NULL;
  st->waiting_count--;
  m->waiting = false;
  m->next_waiting = NULL;
  return m;
}

void mapping_poll_some(napi_env env, env_state_t *st) {
  /* Two per map(): enough to keep up with a loop that unmaps as often as
   * it maps. The queue holds only mappings whose store the runtime has let
   * go of, so a synchronous loop (whose finalizers wait for the event loop)
   * pays nothing here. */
  int n = st->waiting_count < 2 ? (int)st->waiting_count : 2;
  while (n-- > 0) {
    mapping_t *m = dequeue(st);
    if (collected(env, m)) settle(env, m);
    else enqueue(st, m);
  }
}

size_t mapping_poll(napi_env env, env_state_t *st) {
  size_t n = st->waiting_count;
  deferred_flush(st);
  while (n-- > 0) {
    mapping_t *m = dequeue(st);
    if (collected(env, m)) settle(env, m);
    else enqueue(st, m);
  }
  return st->placeholders;
}

/* Watch `arraybuffer`, the one unmap() detached: it is what Node keeps alive
 * while native code uses the address it took from it. */
static void watch(napi_env env, mapping_t *m, napi_value arraybuffer) {
  napi_value original = NULL;
  bool same = false;
  if (m->ab[0] != NULL && napi_get_reference_value(env, m->ab[0], &original) == napi_ok &&
      original != NULL)
    napi_strict_equals(env, original, arraybuffer, &same);
  if (!same) {
    if (m->ab[0] == NULL) napi_create_reference(env, arraybuffer, 0, &m->ab[0]);
    else if (m->ab[1] == NULL) napi_create_reference(env, arraybuffer, 0, &m->ab[1]);
  }
  enqueue(m->owner, m);
}

/* ---- the external buffer's finalizer ------------------------------------- */

/* Whether the environment is being torn down: Node-API calls that may run
 * JavaScript fail then (napi_pending_exception / napi_cannot_run_js). */
static bool env_stopping(napi_env env) {
  napi_value object, value;
  if (napi_create_object(env, &object) != napi_ok) return true;
  return napi_get_named_property(env, object, "mmapIo", &value) != napi_ok;
}

/* Teardown has started and the runtime runs the finalizer of every buffer
 * the environment still has, including one that transfer() has moved to
 * another thread. Node runs them newest first, so when the first of ours
 * runs, the ArrayBuffers of all older live mappings are as JavaScript left
 * them: one still attached dies with this environment; one detached (not by
 * unmap(), which unlists) was transferred away. */
static void classify(napi_env env, env_state_t *st) {
  mapping_t *m;
  st->classified = true;
  for (m = st->all; m != NULL; m = m->next) {
    napi_value ab = NULL;
    bool detached = true;
    if (m->registry == NULL || m->ab[0] == NULL || m->ab[1] != NULL) continue;
    if (napi_get_reference_value(env, m->ab[0], &ab) == napi_ok && ab != NULL &&
        napi_is_detached_arraybuffer(env, ab, &detached) == napi_ok && !detached)
      m->reachable = true;
  }
}

/* Node calls it on the environment's thread some time after the ArrayBuffer
 * let go of the memory (collected, or detached by unmap()), or during
 * teardown; Bun and Deno call it inside napi_detach_arraybuffer. */
static void finalized_here(napi_env env, mapping_t *m);

static void store_finalized(napi_env env, void *data, void *hint) {
  mapping_t *m = hint;
  env_state_t *st;
  (void)data;
  os_spin_lock(&owners);
  st = m->owner;
  if (st != NULL && st->thread != os_thread_self()) {
    /* Another thread (Deno): leave it to the owner's. */
    m->next_remote = st->remote;
    st->remote = m;
    os_spin_unlock(&owners);
    return;
  }
  os_spin_unlock(&owners);
  finalized_here(st == NULL ? NULL : env, m); /* an ended owner: use no env */
}

void mapping_drain(napi_env env, env_state_t *st) {
  mapping_t *m, *next;
  if (os_peek_pointer((void *const *)&st->remote) == NULL) return;
  os_spin_lock(&owners);
  m = st->remote;
  st->remote = NULL;
  os_spin_unlock(&owners);
  for (; m != NULL; m = next) {
    next = m->next_remote;
    m->next_remote = NULL;
    finalized_here(env, m);
  }
}

static void finalized_here(napi_env env, mapping_t *m) {
  env_state_t *st = m->owner;
  m->store_freed = true;
  if (m->registry != NULL) registry_remove(m->registry, m);
  if (env == NULL || st == NULL) {
    forget_references(NULL, m);
  } else if (finalizers_without_handles) {
    /* No handle may be made here: whether the ArrayBuffer was collected is
     * asked at the next poll. */
    enqueue(st, m);
  } else if (!m->released && transfer_possible && env_stopping(env)) {
    /* Not the newest live mapping's own ArrayBuffer: teardown has just
     * detached it, as it would one transferred away. Only those classify()
     * saw attached are known to die with this environment. */
    if (!st->classified) classify(env, st);
    if (!m->reachable) m->escaped = true;
    forget_references(env, m);
  } else if (!collected(env, m)) {
    enqueue(st, m);
  }
  settle(env, m);
}

/* Shared mappings: every thread may reach them, so their state changes
 * under this lock; shared_list holds them all. */
static os_spinlock_t shared_lock;
static mapping_t *shared_list;
static void unlink_shared(mapping_t *m);

void mapping_discard(mapping_t *m) {
  os_unmap(m->base, m->span, &m->extra);
  if (m->shared) {
    os_spin_lock(&shared_lock);
    unlink_shared(m);
    os_spin_unlock(&shared_lock);
  } else {
    unlink_record(m);
  }
  free(m);
}

bool mapping_to_buffer(napi_env env, mapping_t *m, napi_value *buffer) {
  napi_status status;
  napi_value arraybuffer;
  env_state_t *st = m->owner;

  if (!registry_add(st->registry, m)) {
    m->store_freed = true; /* no buffer, so no finalizer */
    throw_system_error(env, syserr_number("ENOMEM"), "mmap", NULL, NULL);
    goto failed;
  }
  m->pins++; /* in case the runtime runs the finalizer inside the call */
  status = napi_create_external_buffer(env, m->len, m->base, store_finalized, m, buffer);
  m->pins--;
  if (status != napi_ok) {
    /* The runtime will not run the finalizer when it refuses external
     * buffers; otherwise it may have run it, may run it later, or never:
     * the record stays for it (a few bytes), the pages go now, as nothing
     * can have their address. */
    if (status == napi_no_external_buffers_allowed) {
      m->store_freed = true;
      napi_throw_error(env, "ERR_MMAP_IO_EXTERNAL_BUFFERS_FORBIDDEN",
                       "This runtime forbids Buffers over memory outside its JavaScript "
                       "heap (the V8 sandbox, as in Electron), so a mapping cannot be "
                       "handed out as a zero-copy Buffer");
    } else {
      throw_napi_failure(env);
    }
    goto failed;
  }
  /* Where transfer() can move the pages to another thread, teardown needs
   * to see the ArrayBuffer (classify()); elsewhere unmap() watches the one
   * it detaches. */
  if (transfer_possible &&
      napi_get_typedarray_info(env, *buffer, NULL, NULL, NULL, &arraybuffer, NULL) == napi_ok)
    napi_create_reference(env, arraybuffer, 0, &m->ab[0]);
  report_external(env, m, true);
  return true;

failed:
  if (m->registry != NULL) registry_remove(m->registry, m);
  os_unmap(m->base, m->span, &m->extra);
  m->pages = PAGES_NONE;
  m->released = true;
  if (!m->store_freed) { /* a late finalizer frees it */
    unlink_record(m);
    m->owner = NULL;
    return false;
  }
  settle(env, m);
  return false;
}

bool mapping_release(napi_env env, mapping_t *m, napi_value arraybuffer) {
  registry_t *r = m->registry;
  /* Unlist first: nothing finds the record while the runtime runs the
   * finalizer, if it does so inside the detach. */
  registry_remove(r, m);
  m->pins++;
  if (napi_detach_arraybuffer(env, arraybuffer) != napi_ok) {
    bool pending = false;
    m->pins--;
    if (!m->store_freed) registry_add(r, m); /* cannot fail: its slot is free */
    /* Bun refuses to detach a buffer that an operation in progress holds
     * (fs.read, say): the mapping stays as it was. */
    if (napi_is_exception_pending(env, &pending) == napi_ok && !pending)
      napi_throw_error(env, "ERR_MMAP_IO_CANNOT_DETACH",
                       "The runtime refuses to detach this mapping's ArrayBuffer now (an "
                       "operation in progress, such as fs.read, holds it); the mapping is "
                       "unchanged: unmap() it once that operation completes");
    settle(env, m);
    return false;
  }
  m->released = true;
  watch(env, m, arraybuffer);
  m->pins--;
  /* Unless a job holds the pages: they are released when it is done. */
  if (m->pins == 0 && !m->keep_file) deferred_add(m);
  settle(env, m);
  return true;
}

/* Shared mappings: every thread may reach them, so their state changes
 * under shared_lock. */

/* Detach `arraybuffer` and unlist `m`, as unmap() does, without touching
 * its pages. */
static bool detach(napi_env env, mapping_t *m, napi_value arraybuffer) {
  registry_t *r = m->registry;
  bool pending = false;
  registry_remove(r, m);
  m->pins++;
  if (napi_detach_arraybuffer(env, arraybuffer) == napi_ok) {
    m->pins--;
    return true;
  }
  m->pins--;
  if (!m->store_freed) registry_add(r, m);
  if (napi_is_exception_pending(env, &pending) == napi_ok && !pending)
    napi_throw_error(env, "ERR_MMAP_IO_CANNOT_DETACH",
                     "The runtime refuses to detach this mapping's ArrayBuffer now (an "
                     "operation in progress, such as fs.read, holds it); the mapping is "
                     "unchanged: unmap() it once that operation completes");
  return false;
}

bool mapping_remap(napi_env env, mapping_t *m, napi_value arraybuffer, size_t new_len,
                   napi_value *buffer) {
  size_t new_span = (new_len + page_size - 1) / page_size * page_size;
  void *addr = m->base;
  os_extra_t new_extra = m->extra;
  os_remap_t how = REMAP_IN_PLACE;
  bool reserved = true, split = new_span <= m->span && os_can_split();
  mapping_t *nm;
  int err = 0;

  if (!mapping_budget(env, 2, "mremap")) return false;
  /* The new mapping first, checked, while nothing is detached: a failure
   * leaves the mapping as it was. (No JavaScript runs in between, so the
   * old views cannot see a private mapping move.) */
  if (!split) {
    err = os_remap(m->base, m->span, new_span, m->map_shared, m->offset, m->prot, &m->extra,
                   &new_extra, &addr, &how, &reserved);
    if (err == 0 && new_span > m->span) {
      /* Past the end of the file (or of shared memory), a page's first
       * touch raises SIGBUS: see that the last page can be read. */
      int probe = os_prefetch((uint8_t *)addr + new_span - page_size, page_size);
      if (probe != 0) {
        os_unremap(m->base, m->span, addr, new_span, how, &new_extra);
        err = probe == syserr_number("EFAULT") ? syserr_number("ERANGE") : probe;
      }
    }
    if (err == syserr_number("ERANGE")) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
                             "The value of \"length\" is out of range. It must end within the "
                             "file, or the shared memory, mapped (its last page)");
      return false;
    }
    if (err != 0) {
      throw_system_error(env, err, "mremap", NULL, NULL);
      return false;
    }
  }
  if ((nm = mapping_new(m->owner, addr, new_len, new_extra)) == NULL) {
    if (!split) os_unremap(m->base, m->span, addr, new_span, how, &new_extra);
    throw_system_error(env, syserr_number("ENOMEM"), "mremap", NULL, NULL);
    return false;
  }
  if (!detach(env, m, arraybuffer)) { /* Bun: in use; nothing changed */
    if (!split) os_unremap(m->base, m->span, addr, new_span, how, &new_extra);
    nm->store_freed = true;
    nm->pages = PAGES_NONE;
    settle(env, nm);
    return false;
  }
  nm->map_shared = m->map_shared;
  nm->prot = m->prot;
  nm->no_defer = m->no_defer;
  nm->offset = m->offset;
  m->released = true;
  watch(env, m, arraybuffer);
  report_external(env, m, false);

  /* What the old record still owns, for settle() to release as unmap()
   * releases it. */
  if (split) {
    m->extra.file = 0; /* the new record has the handles */
    m->extra.section = 0;
    if (new_span == m->span) {
      m->pages = PAGES_NONE; /* the same pages */
    } else {
      m->base += new_span; /* the rest of the old mapping */
      m->span -= new_span;
      m->keep_file = true;
    }
  } else if (how == REMAP_IN_PLACE) {
    m->pages = PAGES_NONE;
  } else if (how == REMAP_MOVED) {
    m->pages = reserved ? PAGES_PLACEHOLDER : PAGES_NONE;
    if (reserved && m->owner != NULL) m->owner->placeholders++;
  } else { /* REMAP_DUPLICATE: the old range is still the old mapping */
    /* ...kept until nothing reaches it, but where a mapped file cannot be
     * deleted (Windows) released at once, as unmap() releases it. */
    m->keep_file = !os_mapped_files_locked();
  }
  /* Kept mappings are given back when nothing can reach them, polled as
   * placeholders are. */
  if (m->keep_file && m->owner != NULL) m->owner->placeholders++;
  settle(env, m);
  return mapping_to_buffer(env, nm, buffer);
}

void mapping_pin(mapping_t *m) {
  if (m->shared) os_spin_lock(&shared_lock);
  m->pins++;
  if (m->shared) os_spin_unlock(&shared_lock);
}

void mapping_unpin(napi_env env, mapping_t *m) {
  if (!m->shared) {
    m->pins--;
    settle(env, m);
    return;
  }
  os_spin_lock(&shared_lock);
  m->pins--;
  settle(NULL, m);
  os_spin_unlock(&shared_lock);
}

/* ---- SharedArrayBuffer mappings ------------------------------------------ */

bool mapping_shared_supported(void) { return create_sab != NULL; }

mapping_t *mapping_new_shared(void *addr, size_t len, os_extra_t extra) {
  mapping_t *m = calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  m->base = addr;
  m->len = len;
  m->span = (len + page_size - 1) / page_size * page_size;
  m->extra = extra;
  m->pages = PAGES_FILE;
  m->shared = true;
  os_spin_lock(&shared_lock);
  list_push(&shared_list, m);
  os_spin_unlock(&shared_lock);
  return m;
}

/* With shared_lock held. */
static void unlink_shared(mapping_t *m) { list_unlink(&shared_list, m); }

/* The runtime lets go of the last SharedArrayBuffer over `m`: on any
 * thread, with no env. */
static void shared_finalized(void *data, void *hint) {
  mapping_t *m = hint;
  (void)data;
  os_spin_lock(&shared_lock);
  unlink_shared(m);
  m->store_freed = true;
  settle(NULL, m); /* frees it */
  os_spin_unlock(&shared_lock);
}

bool mapping_to_sharedarraybuffer(napi_env env, mapping_t *m, napi_value *sab) {
  napi_status status;
  mapping_pin(m);
  status = create_sab(env, m->base, m->len, shared_finalized, m, sab);
  os_spin_lock(&shared_lock);
  m->pins--;
  if (status == napi_ok) {
    os_spin_unlock(&shared_lock);
    return true;
  }
  if (status == napi_no_external_buffers_allowed)
    napi_throw_error(env, "ERR_MMAP_IO_EXTERNAL_BUFFERS_FORBIDDEN",
                     "This runtime forbids Buffers over memory outside its JavaScript "
                     "heap (the V8 sandbox, as in Electron), so a mapping cannot be "
                     "handed out as a zero-copy Buffer");
  else throw_napi_failure(env);
  /* Nothing can have the address; a finalizer that did or will run finds
   * the record (kept for it, unless it ran) with the pages gone. */
  if (m->pages == PAGES_FILE) os_unmap(m->base, m->span, &m->extra);
  m->pages = PAGES_NONE;
  m->released = true;
  if (m->store_freed || status == napi_no_external_buffers_allowed) {
    unlink_shared(m);
    m->store_freed = true;
    settle(NULL, m);
  }
  os_spin_unlock(&shared_lock);
  return false;
}

mapping_t *mapping_find_shared(const uint8_t *data, size_t len, bool *released) {
  mapping_t *m;
  *released = false;
  if (os_peek_pointer((void *const *)&shared_list) == NULL || data == NULL) return NULL;
  os_spin_lock(&shared_lock);
  for (m = shared_list; m != NULL; m = m->next)
    if (data >= m->base && len <= m->len && (size_t)(data - m->base) <= m->len - len) break;
  if (m != NULL && m->released) {
    *released = true;
    m = NULL;
  }
  os_spin_unlock(&shared_lock);
  return m;
}

void mapping_release_shared(mapping_t *m) {
  os_spin_lock(&shared_lock);
  if (!m->released) {
    m->released = true;
    settle(NULL, m); /* a placeholder until the finalizer */
  }
  os_spin_unlock(&shared_lock);
}

/* ---- the environment's end ---------------------------------------------- */

void mapping_teardown(env_state_t *st) {
  mapping_t *m, *next;
  mapping_drain(NULL, st);
  deferred_flush(st);
  os_spin_lock(&owners);
  for (m = st->all; m != NULL; m = m->next) m->owner = NULL;
  os_spin_unlock(&owners);
  m = st->all;
  /* Node has run every finalizer by now and freed the environment's
   * references. Deno runs them after this, as the isolate goes, and a
   * mapping still listed may be in use by another thread: its file's pages
   * go now, its addresses stay reserved until its finalizer comes (and
   * frees the record), whenever and wherever that is. */
  while (m != NULL) {
    next = m->next;
    m->prev = m->next = NULL;
    m->waiting = false;
    m->external = false; /* the environment's isolate is gone */
    m->ab[0] = m->ab[1] = NULL;
    if (m->registry != NULL) {
      registry_remove(m->registry, m);
      m->released = true;
    }
    settle(NULL, m);
    m = next;
  }
  registry_free(st->registry);
  free(st);
}
