/*
 * mmap-io: the Node-API side. System calls live in os_*.c behind os.h; the
 * JavaScript in lib/ shapes and validates every argument before it reaches
 * these functions. What this file owns is lifetime:
 *
 *  - Every mapping is a `mapping_t`, listed in its environment's registry
 *    (a hash table keyed by base address), and handed to JavaScript as an
 *    external Buffer whose ArrayBuffer covers exactly the mapping.
 *  - A view (Buffer, TypedArray, DataView) is resolved to its mapping through
 *    its ArrayBuffer's base address, so only views of live mappings made by
 *    this environment ever reach a system call.
 *  - unmap() detaches the ArrayBuffer (every view becomes length 0) before the
 *    pages go away. The Buffer's finalizer, which Node runs later on the
 *    environment's thread, only unmaps what unmap() has not, and frees the
 *    record.
 *  - When an environment ends (a worker exits or is terminated), whatever it
 *    still has mapped is unmapped then.
 */
#include <node_api.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os.h"

/* ---- helpers for Node-API status checks ---------------------------------- */

/* Throw an Error describing the last failed Node-API call, unless one is
 * already pending. */
static void throw_napi_failure(napi_env env) {
  bool pending = false;
  const napi_extended_error_info *info = NULL;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, "ERR_MMAP_IO_NAPI",
                   info && info->error_message ? info->error_message
                                               : "Node-API call failed");
}

/* Evaluate a Node-API call; on failure throw and return NULL from the
 * enclosing napi_callback. */
#define CHECK(env, call)                                                       \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      throw_napi_failure(env);                                                 \
      return NULL;                                                             \
    }                                                                          \
  } while (0)

/* Same, for code after a `fail:` label that undoes partial work. */
#define CHECK_OR_FAIL(env, call)                                               \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      throw_napi_failure(env);                                                 \
      goto fail;                                                               \
    }                                                                          \
  } while (0)

/* Throw an fs-style system error: message "<CODE>: <description>, <syscall>",
 * with code, errno (a libuv error number, as util.getSystemErrorName expects)
 * and syscall. `description` overrides uv_strerror(err) when not NULL. */
static void throw_system_error(napi_env env, int err, const char *syscall,
                               const char *description) {
  char message[512];
  const char *code = uv_err_name(err);
  napi_value error, code_value, message_value, errno_value, syscall_value;

  snprintf(message, sizeof message, "%s: %s, %s", code,
           description ? description : uv_strerror(err), syscall);
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value) != napi_ok ||
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value) != napi_ok ||
      napi_create_error(env, code_value, message_value, &error) != napi_ok ||
      napi_create_int32(env, err, &errno_value) != napi_ok ||
      napi_set_named_property(env, error, "errno", errno_value) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value) != napi_ok ||
      napi_set_named_property(env, error, "syscall", syscall_value) != napi_ok) {
    throw_napi_failure(env);
    return;
  }
  napi_throw(env, error);
}

/* ---- mappings and the per-environment registry --------------------------- */

typedef struct registry registry_t;

typedef struct {
  uint8_t *base;
  size_t len;
  registry_t *registry; /* set while listed; NULL after unmap or env teardown */
  bool mapped;          /* the pages are still mapped */
  os_extra_t extra;
} mapping_t;

/* Open addressing with linear probing, keyed by base address. Deletion
 * shifts later entries back, so there are no tombstones. */
struct registry {
  mapping_t **slots;
  size_t mask; /* capacity - 1; capacity is a power of two */
  size_t count;
};

#define REGISTRY_MIN_CAPACITY 64

static size_t page_size;

/* Live mappings in the whole process, across environments: the kernel's
 * vm.max_map_count is per process. Once map_limit is reached, map() throws
 * ENOMEM instead of letting the process run out of mappings.
 *
 * Why a hard limit: Node runs external-buffer finalizers only when the event
 * loop turns, so a synchronous loop that drops mapped Buffers never gets any
 * of them back. If mmap() itself hit the kernel limit, V8's next allocation
 * would fail too and abort the process. The limit leaves an eighth of
 * max_map_count (8,191 of 65,530 by default) to V8, libc and thread stacks.
 * The pacing that keeps asynchronous code far below the limit is GC
 * pressure: see report_external(). */
static atomic_size_t live_mappings;
static size_t map_limit;

static size_t registry_home(const registry_t *r, const void *base) {
  uint64_t h = (uint64_t)((uintptr_t)base / page_size) * 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 32) & r->mask;
}

static mapping_t *registry_find(const registry_t *r, const void *base) {
  size_t i = registry_home(r, base);
  for (;; i = (i + 1) & r->mask) {
    mapping_t *m = r->slots[i];
    if (m == NULL) return NULL;
    if (m->base == base) return m;
  }
}

static void registry_place(registry_t *r, mapping_t *m) {
  size_t i = registry_home(r, m->base);
  while (r->slots[i] != NULL) i = (i + 1) & r->mask;
  r->slots[i] = m;
}

/* Returns false when memory for a larger table cannot be had. */
static bool registry_add(registry_t *r, mapping_t *m) {
  if ((r->count + 1) * 4 > (r->mask + 1) * 3) {
    size_t old_capacity = r->mask + 1, i;
    mapping_t **old = r->slots;
    mapping_t **slots = calloc(old_capacity * 2, sizeof *slots);
    if (slots == NULL) return false;
    r->slots = slots;
    r->mask = old_capacity * 2 - 1;
    for (i = 0; i < old_capacity; i++)
      if (old[i] != NULL) registry_place(r, old[i]);
    free(old);
  }
  registry_place(r, m);
  r->count++;
  m->registry = r;
  return true;
}

static void registry_remove(registry_t *r, mapping_t *m) {
  size_t hole = registry_home(r, m->base), i;
  while (r->slots[hole] != m) hole = (hole + 1) & r->mask;
  /* Move back every later entry of the probe run whose home slot does not
   * lie cyclically in (hole, i]. */
  for (i = (hole + 1) & r->mask; r->slots[i] != NULL; i = (i + 1) & r->mask) {
    size_t home = registry_home(r, r->slots[i]->base);
    bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
    if (!stays) {
      r->slots[hole] = r->slots[i];
      hole = i;
    }
  }
  r->slots[hole] = NULL;
  r->count--;
  m->registry = NULL;
}

/* Tell V8 how much memory its small Buffer objects hold on to, so that
 * garbage collection (and with it the finalizers that unmap) comes sooner
 * when many mappings are dropped without unmap(). */
static void report_external(napi_env env, const mapping_t *m, bool add) {
  int64_t ignored;
  napi_adjust_external_memory(env, add ? (int64_t)m->len : -(int64_t)m->len,
                              &ignored);
}

/* Unmap the pages and take the mapping out of the books. Idempotent. */
static void release_pages(napi_env env, mapping_t *m) {
  if (m->registry != NULL) registry_remove(m->registry, m);
  if (!m->mapped) return;
  m->mapped = false;
  os_unmap(m->base, m->len, &m->extra);
  atomic_fetch_sub(&live_mappings, 1);
  if (env != NULL) report_external(env, m, false);
}

/* The external Buffer's finalizer: Node calls it on the environment's thread
 * some time after the ArrayBuffer's memory is let go, either because the
 * Buffer was collected or because unmap() detached it. */
static void finalize_mapping(napi_env env, void *data, void *hint) {
  mapping_t *m = hint;
  (void)data;
  /* After env teardown the registry is gone; m->registry is NULL then. */
  release_pages(m->registry != NULL ? env : NULL, m);
  free(m);
}

/* The environment is going away: unmap everything it still holds. Records
 * stay allocated for finalizers that Node may still run. */
static void finalize_registry(napi_env env, void *data, void *hint) {
  registry_t *r = data;
  size_t i;
  (void)env;
  (void)hint;
  for (i = 0; i <= r->mask; i++) {
    mapping_t *m = r->slots[i];
    if (m == NULL) continue;
    m->registry = NULL;
    if (m->mapped) {
      m->mapped = false;
      os_unmap(m->base, m->len, &m->extra);
      atomic_fetch_sub(&live_mappings, 1);
    }
  }
  free(r->slots);
  free(r);
}

static registry_t *get_registry(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok || data == NULL) {
    throw_napi_failure(env);
    return NULL;
  }
  return data;
}

/* ---- resolving views ----------------------------------------------------- */

typedef struct {
  napi_value arraybuffer;
  uint8_t *data; /* first byte of the view */
  size_t len;    /* its length in bytes */
  mapping_t *mapping;
} view_t;

static size_t element_size(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array: return 1;
    case napi_int16_array:
    case napi_uint16_array: return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array: return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array: return 8;
    default: return 0; /* a kind this build does not know */
  }
}

/* Fill `view` from a TypedArray or DataView. Returns false with an exception
 * pending when `value` is neither. view->mapping is the live mapping of this
 * environment that the view lies in, or NULL. */
static bool get_view(napi_env env, napi_value value, view_t *view) {
  bool is_typedarray = false, is_dataview = false;
  void *data = NULL, *ab_data = NULL;
  size_t len = 0, offset = 0, ab_len = 0;
  registry_t *r;
  mapping_t *m;

  memset(view, 0, sizeof *view);
  if (napi_is_typedarray(env, value, &is_typedarray) != napi_ok) goto napi_failed;
  if (is_typedarray) {
    napi_typedarray_type type;
    size_t count;
    if (napi_get_typedarray_info(env, value, &type, &count, &data,
                                 &view->arraybuffer, &offset) != napi_ok)
      goto napi_failed;
    if (element_size(type) == 0) goto not_a_view;
    len = count * element_size(type);
  } else {
    if (napi_is_dataview(env, value, &is_dataview) != napi_ok) goto napi_failed;
    if (!is_dataview) goto not_a_view;
    if (napi_get_dataview_info(env, value, &len, &data, &view->arraybuffer,
                               &offset) != napi_ok)
      goto napi_failed;
  }
  view->data = data;
  view->len = len;
  /* This fails for a SharedArrayBuffer, which is never a mapping of ours. */
  if (napi_get_arraybuffer_info(env, view->arraybuffer, &ab_data, &ab_len) != napi_ok ||
      ab_data == NULL) /* detached, or empty */
    return true;
  if ((r = get_registry(env)) == NULL) return false;
  m = registry_find(r, ab_data);
  /* The ArrayBuffer is exactly the mapping; anything else is not ours. */
  if (m != NULL && m->len == ab_len && m->mapped && view->data >= m->base &&
      view->len <= m->len - (size_t)(view->data - m->base))
    view->mapping = m;
  return true;

not_a_view:
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                        "The \"buffer\" argument must be a Buffer, TypedArray or DataView");
  return false;
napi_failed:
  throw_napi_failure(env);
  return false;
}

static void throw_not_live(napi_env env) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                        "The argument 'buffer' must be a view of a live mapping "
                        "returned by map()");
}

/* Resolve args[0..2] (view, byte offset, byte length) to a page-aligned range
 * inside a live mapping. lib/ has already checked offset and length against
 * the view; the check here only guards memory if it is called some other way. */
static bool get_range(napi_env env, napi_value *args, view_t *view,
                      uint8_t **start, size_t *len) {
  int64_t offset, length;
  uint8_t *first;
  if (!get_view(env, args[0], view)) return false;
  if (view->mapping == NULL) {
    throw_not_live(env);
    return false;
  }
  if (napi_get_value_int64(env, args[1], &offset) != napi_ok ||
      napi_get_value_int64(env, args[2], &length) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  if (offset < 0 || length < 0 || (uint64_t)offset > view->len ||
      (uint64_t)length > view->len - (uint64_t)offset) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "range outside the view");
    return false;
  }
  first = view->data + offset;
  /* Round down to the page: the mapping's base is page-aligned, so this never
   * leaves the mapping. */
  *start = view->mapping->base +
           ((size_t)(first - view->mapping->base) / page_size) * page_size;
  *len = length == 0 ? 0 : (size_t)(first + length - *start);
  return true;
}

/* ---- the functions ------------------------------------------------------- */

static bool get_int64s(napi_env env, napi_value *args, size_t n, int64_t *out) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (napi_get_value_int64(env, args[i], &out[i]) != napi_ok) {
      throw_napi_failure(env);
      return false;
    }
  }
  return true;
}

/* map(size, protection, flags, fd, offset, advice) */
static napi_value js_map(napi_env env, napi_callback_info info) {
  napi_value args[6], buffer = NULL;
  size_t argc = 6;
  int64_t a[6];
  registry_t *r;
  mapping_t *m = NULL;
  void *addr = NULL;
  os_extra_t extra = {0};
  int err;

  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc != 6 || !get_int64s(env, args, 6, a)) {
    if (argc != 6) napi_throw_type_error(env, "ERR_MISSING_ARGS", "map() takes 6 arguments");
    return NULL;
  }
  if ((r = get_registry(env)) == NULL) return NULL;
  if (a[0] <= 0 || (uint64_t)a[0] > SIZE_MAX) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "size out of range");
    return NULL;
  }
  if (atomic_load(&live_mappings) >= map_limit) {
    throw_system_error(env, uv_translate_sys_error(12 /* ENOMEM */), "mmap",
                       "too many live mappings; call unmap() on mappings you no "
                       "longer need, or let the event loop run so that "
                       "garbage-collected ones are released");
    return NULL;
  }

  err = os_map(&addr, (size_t)a[0], (int)a[1], (int)a[2], a[3], a[4], &extra);
  if (err != 0) {
    throw_system_error(env, err, "mmap", NULL);
    return NULL;
  }
  atomic_fetch_add(&live_mappings, 1);
  m = calloc(1, sizeof *m);
  if (m == NULL) {
    throw_system_error(env, uv_translate_sys_error(12 /* ENOMEM */), "mmap", NULL);
    goto fail;
  }
  m->base = addr;
  m->len = (size_t)a[0];
  m->mapped = true;
  m->extra = extra;
  if (a[5] != 0 && (err = os_advise(addr, m->len, (int)a[5])) != 0) {
    throw_system_error(env, err, "madvise", NULL);
    goto fail;
  }
  if (!registry_add(r, m)) {
    throw_system_error(env, uv_translate_sys_error(12 /* ENOMEM */), "mmap", NULL);
    goto fail;
  }
  if (napi_create_external_buffer(env, m->len, addr, finalize_mapping, m,
                                  &buffer) != napi_ok) {
    throw_napi_failure(env);
    registry_remove(r, m);
    goto fail;
  }
  report_external(env, m, true);
  return buffer;

fail:
  os_unmap(addr, (size_t)a[0], &extra);
  atomic_fetch_sub(&live_mappings, 1);
  free(m);
  return NULL;
}

/* unmap(view): detach every view, then unmap. A detached view is a no-op. */
static napi_value js_unmap(napi_env env, napi_callback_info info) {
  napi_value arg;
  size_t argc = 1;
  view_t view;
  bool detached = false;
  mapping_t *m;
  registry_t *r;

  CHECK(env, napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  if (argc < 1 || !get_view(env, arg, &view)) {
    if (argc < 1) napi_throw_type_error(env, "ERR_MISSING_ARGS", "unmap() takes 1 argument");
    return NULL;
  }
  if ((m = view.mapping) == NULL) {
    CHECK(env, napi_is_detached_arraybuffer(env, view.arraybuffer, &detached));
    if (!detached) throw_not_live(env);
    return NULL;
  }
  /* Detach first so no view can reach the pages once they are gone. */
  r = m->registry;
  registry_remove(r, m);
  if (napi_detach_arraybuffer(env, view.arraybuffer) != napi_ok) {
    registry_add(r, m); /* cannot fail: the slot it just left is free */
    throw_napi_failure(env);
    return NULL;
  }
  release_pages(env, m);
  return NULL;
}

/* advise(view, offset, length, advice) */
static napi_value js_advise(napi_env env, napi_callback_info info) {
  napi_value args[4];
  size_t argc = 4, len;
  int64_t advice;
  uint8_t *start;
  view_t view;
  int err;

  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc != 4 || !get_range(env, args, &view, &start, &len)) {
    if (argc != 4) napi_throw_type_error(env, "ERR_MISSING_ARGS", "advise() takes 4 arguments");
    return NULL;
  }
  CHECK(env, napi_get_value_int64(env, args[3], &advice));
  if (len != 0 && (err = os_advise(start, len, (int)advice)) != 0)
    throw_system_error(env, err, "madvise", NULL);
  return NULL;
}

/* sync(view, offset, length, blocking, invalidate) */
static napi_value js_sync(napi_env env, napi_callback_info info) {
  napi_value args[5];
  size_t argc = 5, len;
  bool blocking, invalidate;
  uint8_t *start;
  view_t view;
  int err;

  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc != 5 || !get_range(env, args, &view, &start, &len)) {
    if (argc != 5) napi_throw_type_error(env, "ERR_MISSING_ARGS", "sync() takes 5 arguments");
    return NULL;
  }
  CHECK(env, napi_get_value_bool(env, args[3], &blocking));
  CHECK(env, napi_get_value_bool(env, args[4], &invalidate));
  if (len != 0 &&
      (err = os_sync(start, len, blocking, invalidate, &view.mapping->extra)) != 0)
    throw_system_error(env, err, "msync", NULL);
  return NULL;
}

/* incore(view, offset, length) -> [unmappedPages, mappedPages] */
static napi_value js_incore(napi_env env, napi_callback_info info) {
  napi_value args[3], result = NULL, n;
  size_t argc = 3, len, pages, i;
  double resident = 0;
  uint8_t *start;
  unsigned char *vec = NULL;
  view_t view;
  int err;

  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc != 3 || !get_range(env, args, &view, &start, &len)) {
    if (argc != 3) napi_throw_type_error(env, "ERR_MISSING_ARGS", "incore() takes 3 arguments");
    return NULL;
  }
  pages = len / page_size + (len % page_size != 0);
  if (pages != 0) {
    if ((vec = malloc(pages)) == NULL) {
      throw_system_error(env, uv_translate_sys_error(12 /* ENOMEM */), "mincore", NULL);
      return NULL;
    }
    if ((err = os_incore(start, len, vec)) != 0) {
      throw_system_error(env, err, "mincore", NULL);
      goto out;
    }
    for (i = 0; i < pages; i++) resident += vec[i] & 1;
  }
  CHECK_OR_FAIL(env, napi_create_array_with_length(env, 2, &result));
  CHECK_OR_FAIL(env, napi_create_double(env, (double)pages - resident, &n));
  CHECK_OR_FAIL(env, napi_set_element(env, result, 0, n));
  CHECK_OR_FAIL(env, napi_create_double(env, resident, &n));
  CHECK_OR_FAIL(env, napi_set_element(env, result, 1, n));
  goto out;
fail:
  result = NULL;
out:
  free(vec);
  return result;
}

/* ---- module set-up ------------------------------------------------------- */

static napi_value make_constants(napi_env env) {
  napi_value obj, v;
  const os_constant_t *c;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  for (c = os_constants; c->name != NULL; c++) {
    if (napi_create_int64(env, c->value, &v) != napi_ok ||
        napi_set_named_property(env, obj, c->name, v) != napi_ok)
      return NULL;
  }
  if (napi_create_int64(env, (int64_t)page_size, &v) != napi_ok ||
      napi_set_named_property(env, obj, "PAGESIZE", v) != napi_ok ||
      napi_create_int64(env, (int64_t)os_granularity(), &v) != napi_ok ||
      napi_set_named_property(env, obj, "ALLOCATIONGRANULARITY", v) != napi_ok)
    return NULL;
  return obj;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  registry_t *r;
  napi_value constants;
  size_t limit;
  napi_property_descriptor functions[] = {
      {"map", NULL, js_map, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unmap", NULL, js_unmap, NULL, NULL, NULL, napi_enumerable, NULL},
      {"advise", NULL, js_advise, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sync", NULL, js_sync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"incore", NULL, js_incore, NULL, NULL, NULL, napi_enumerable, NULL},
  };

  /* The same values in every environment; a race between workers here only
   * writes them twice. */
  page_size = os_page_size();
  limit = os_map_count_limit();
  map_limit = limit != 0 ? limit - limit / 8 : SIZE_MAX;

  r = calloc(1, sizeof *r);
  if (r == NULL || (r->slots = calloc(REGISTRY_MIN_CAPACITY, sizeof *r->slots)) == NULL) {
    free(r);
    napi_throw_error(env, "ENOMEM", "mmap-io: out of memory");
    return NULL;
  }
  r->mask = REGISTRY_MIN_CAPACITY - 1;
  if (napi_set_instance_data(env, r, finalize_registry, NULL) != napi_ok) {
    free(r->slots);
    free(r);
    throw_napi_failure(env);
    return NULL;
  }
  CHECK(env, napi_define_properties(env, exports,
                                    sizeof functions / sizeof functions[0], functions));
  if ((constants = make_constants(env)) == NULL) {
    throw_napi_failure(env);
    return NULL;
  }
  CHECK(env, napi_set_named_property(env, exports, "constants", constants));
  return exports;
}
