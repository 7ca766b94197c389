/*
 * mmap-io: the Node-API side. System calls live in os_*.c behind os.h, the
 * table of live mappings in registry.c; the JavaScript in lib/ shapes and
 * validates every argument before it reaches these functions. What this file
 * owns is lifetime:
 *
 *  - Every mapping is a `mapping_t`, listed in its environment's registry and
 *    handed to JavaScript as an external Buffer whose ArrayBuffer covers
 *    exactly the mapping.
 *  - A view (Buffer, TypedArray, DataView) is resolved to its mapping through
 *    its ArrayBuffer's base address, so only views of live mappings made by
 *    this environment ever reach a system call.
 *  - unmap() detaches the ArrayBuffer (every view becomes length 0) before the
 *    pages go. The Buffer's finalizer, which Node runs later on the
 *    environment's thread, only unmaps what unmap() has not.
 *  - Work on the libuv threadpool pins the mapping: unmap() during it
 *    detaches at once and the pages go when the work is done.
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
#include "registry.h"

#define ENOMEM_ERR os_uv_error(OS_ENOMEM)

/* ---- errors -------------------------------------------------------------- */

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

/* An fs-style system error: message "<CODE>: <description>, <syscall>", with
 * code, errno (a libuv error number, as util.getSystemErrorName expects) and
 * syscall. `description` replaces uv_strerror(err) when not NULL. */
static napi_value system_error(napi_env env, int err, const char *syscall,
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
      napi_set_named_property(env, error, "syscall", syscall_value) != napi_ok)
    return NULL;
  return error;
}

static void throw_system_error(napi_env env, int err, const char *syscall,
                               const char *description) {
  napi_value error = system_error(env, err, syscall, description);
  if (error == NULL || napi_throw(env, error) != napi_ok) throw_napi_failure(env);
}

static void throw_not_live(napi_env env) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                        "The argument 'buffer' must be a view of a live mapping "
                        "returned by map()");
}

/* ---- mappings ------------------------------------------------------------ */

/* Live mappings in the whole process, across environments: the kernel's
 * vm.max_map_count is per process. Once map_limit is reached, map() throws
 * ENOMEM instead of letting the process run out of mappings.
 *
 * Why a hard limit: Node runs external-buffer finalizers only when the event
 * loop turns, so a synchronous loop that drops mapped Buffers never gets any
 * of them back. If mmap() itself hit the kernel limit, V8's next allocation
 * would fail too and abort the process. The limit leaves an eighth of
 * max_map_count (8,191 of 65,530 by default) to V8, libc and thread stacks.
 * What keeps code that does yield far below the limit is GC pressure: see
 * report_external(). */
static atomic_size_t live_mappings;
static size_t map_limit;
static size_t page_size;

/* Tell V8 how much memory its small Buffer objects hold on to, so that
 * garbage collection (and with it the finalizers that unmap) comes sooner
 * when many mappings are dropped without unmap(). */
static void report_external(napi_env env, const mapping_t *m, bool add) {
  int64_t ignored;
  napi_adjust_external_memory(env, add ? (int64_t)m->len : -(int64_t)m->len,
                              &ignored);
}

/* Do what `m` is waiting for once no threadpool job uses it: unmap released
 * pages, free a finalized record. `m` may be gone afterwards. `env` is NULL
 * during environment teardown. */
static void settle(napi_env env, mapping_t *m) {
  if (m->pins != 0) return;
  if (m->released && m->mapped) {
    m->mapped = false;
    os_unmap(m->base, m->len, &m->extra);
    atomic_fetch_sub(&live_mappings, 1);
    if (env != NULL) report_external(env, m, false);
  }
  if (m->finalized) free(m);
}

/* The external Buffer's finalizer: Node calls it on the environment's thread
 * some time after the ArrayBuffer's memory is let go, either because the
 * Buffer was collected or because unmap() detached it. */
static void finalize_mapping(napi_env env, void *data, void *hint) {
  mapping_t *m = hint;
  (void)data;
  if (m->registry != NULL) registry_remove(m->registry, m);
  m->released = true;
  m->finalized = true;
  settle(env, m);
}

/* The environment is going away: unmap everything it still lists. The
 * records stay for the finalizers that Node may still run. (Threadpool jobs
 * have all completed by now: Node waits for them before tearing down.) */
static void finalize_registry(napi_env env, void *data, void *hint) {
  registry_t *r = data;
  size_t i;
  (void)env;
  (void)hint;
  for (i = 0; i <= r->mask; i++) {
    mapping_t *m = r->slots[i];
    if (m == NULL) continue;
    m->registry = NULL;
    m->released = true;
    settle(NULL, m);
  }
  registry_free(r);
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
  void *data = NULL, *ab_data = NULL, *instance = NULL;
  size_t len = 0, offset = 0, ab_len = 0;
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
  if (napi_get_instance_data(env, &instance) != napi_ok || instance == NULL)
    goto napi_failed;
  m = registry_find(instance, ab_data);
  /* The ArrayBuffer is exactly the mapping; anything else is not ours. */
  if (m != NULL && m->len == ab_len && view->data >= m->base &&
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

/* A call on a byte range of a live mapping: args[0..2] are (view, offset,
 * length), further arguments follow. */
typedef struct {
  napi_value args[6];
  view_t view;
  mapping_t *m;
  uint8_t *start; /* page-aligned */
  size_t len;     /* from start to the end of the range; 0 for none */
} call_t;

/* Read `argc` arguments and resolve the range. lib/ has checked offset and
 * length against the view; the check here only guards memory if the addon
 * is called some other way. */
static bool begin(napi_env env, napi_callback_info info, size_t argc, call_t *c) {
  size_t given = argc;
  int64_t offset, length;
  uint8_t *first;

  if (napi_get_cb_info(env, info, &given, c->args, NULL, NULL) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  if (given < argc) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "missing arguments");
    return false;
  }
  if (!get_view(env, c->args[0], &c->view)) return false;
  if ((c->m = c->view.mapping) == NULL) {
    throw_not_live(env);
    return false;
  }
  if (napi_get_value_int64(env, c->args[1], &offset) != napi_ok ||
      napi_get_value_int64(env, c->args[2], &length) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  if (offset < 0 || length < 0 || (uint64_t)offset > c->view.len ||
      (uint64_t)length > c->view.len - (uint64_t)offset) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "range outside the view");
    return false;
  }
  first = c->view.data + offset;
  /* Round down to the page: the mapping's base is page-aligned, so this
   * never leaves the mapping. */
  c->start = c->m->base + ((size_t)(first - c->m->base) / page_size) * page_size;
  c->len = length == 0 ? 0 : (size_t)(first + length - c->start);
  return true;
}

static size_t pages_of(size_t len) {
  return len / page_size + (len % page_size != 0);
}

static bool get_int(napi_env env, napi_value value, int32_t *out) {
  if (napi_get_value_int32(env, value, out) == napi_ok) return true;
  throw_napi_failure(env);
  return false;
}

/* ---- synchronous functions ----------------------------------------------- */

/* map(size, protection, flags, fd, offset, advice) */
static napi_value js_map(napi_env env, napi_callback_info info) {
  napi_value args[6], buffer = NULL;
  size_t argc = 6, i;
  int64_t a[6];
  void *instance = NULL, *addr = NULL;
  mapping_t *m = NULL;
  os_extra_t extra = {0};
  int err;

  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "map() takes 6 arguments");
    return NULL;
  }
  for (i = 0; i < 6; i++) CHECK(env, napi_get_value_int64(env, args[i], &a[i]));
  CHECK(env, napi_get_instance_data(env, &instance));
  if (a[0] <= 0 || (uint64_t)a[0] > SIZE_MAX) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "size out of range");
    return NULL;
  }
  if (atomic_load(&live_mappings) >= map_limit) {
    throw_system_error(env, ENOMEM_ERR, "mmap",
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
  if ((m = calloc(1, sizeof *m)) == NULL) {
    throw_system_error(env, ENOMEM_ERR, "mmap", NULL);
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
  if (!registry_add(instance, m)) {
    throw_system_error(env, ENOMEM_ERR, "mmap", NULL);
    goto fail;
  }
  if (napi_create_external_buffer(env, m->len, addr, finalize_mapping, m,
                                  &buffer) != napi_ok) {
    throw_napi_failure(env);
    registry_remove(instance, m);
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
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "unmap() takes 1 argument");
    return NULL;
  }
  if (!get_view(env, arg, &view)) return NULL;
  if ((m = view.mapping) == NULL) {
    CHECK(env, napi_is_detached_arraybuffer(env, view.arraybuffer, &detached));
    if (!detached) throw_not_live(env);
    return NULL;
  }
  /* Unlist, then detach, so that no view can reach the pages once they are
   * gone, and nothing finds the record if a finalizer frees it meanwhile. */
  r = m->registry;
  registry_remove(r, m);
  if (napi_detach_arraybuffer(env, view.arraybuffer) != napi_ok) {
    registry_add(r, m); /* cannot fail: the slot it just left is free */
    throw_napi_failure(env);
    return NULL;
  }
  m->released = true;
  settle(env, m);
  return NULL;
}

/* advise(view, offset, length, advice) */
static napi_value js_advise(napi_env env, napi_callback_info info) {
  call_t c;
  int32_t advice;
  int err;
  if (!begin(env, info, 4, &c) || !get_int(env, c.args[3], &advice)) return NULL;
  if (c.len != 0 && (err = os_advise(c.start, c.len, advice)) != 0)
    throw_system_error(env, err, "madvise", NULL);
  return NULL;
}

/* sync(view, offset, length, blocking, invalidate) */
static napi_value js_sync(napi_env env, napi_callback_info info) {
  call_t c;
  bool blocking, invalidate;
  int err;
  if (!begin(env, info, 5, &c)) return NULL;
  CHECK(env, napi_get_value_bool(env, c.args[3], &blocking));
  CHECK(env, napi_get_value_bool(env, c.args[4], &invalidate));
  if (c.len != 0 && (err = os_sync(c.start, c.len, blocking, invalidate, &c.m->extra)) != 0)
    throw_system_error(env, err, "msync", NULL);
  return NULL;
}

/* incore(view, offset, length) -> [unmappedPages, mappedPages] */
static napi_value js_incore(napi_env env, napi_callback_info info) {
  call_t c;
  napi_value result, n;
  size_t pages, i, resident = 0;
  unsigned char *vec;
  int err;

  if (!begin(env, info, 3, &c)) return NULL;
  pages = pages_of(c.len);
  if (pages != 0) {
    if ((vec = malloc(pages)) == NULL) {
      throw_system_error(env, ENOMEM_ERR, "mincore", NULL);
      return NULL;
    }
    err = os_incore(c.start, c.len, vec);
    for (i = 0; err == 0 && i < pages; i++) resident += vec[i] & 1;
    free(vec);
    if (err != 0) {
      throw_system_error(env, err, "mincore", NULL);
      return NULL;
    }
  }
  CHECK(env, napi_create_array_with_length(env, 2, &result));
  CHECK(env, napi_create_double(env, (double)(pages - resident), &n));
  CHECK(env, napi_set_element(env, result, 0, n));
  CHECK(env, napi_create_double(env, (double)resident, &n));
  CHECK(env, napi_set_element(env, result, 1, n));
  return result;
}

/* A Uint8Array of `pages` bytes; *data points at its bytes. */
static napi_value new_page_array(napi_env env, size_t pages, unsigned char **data) {
  napi_value ab, array;
  void *bytes = NULL;
  if (napi_create_arraybuffer(env, pages, &bytes, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_uint8_array, pages, ab, 0, &array) != napi_ok) {
    throw_napi_failure(env);
    return NULL;
  }
  *data = bytes;
  return array;
}

/* mincore() into `vec`, then one 0/1 byte per page. */
static int residency(const call_t *c, unsigned char *vec) {
  size_t i, pages = pages_of(c->len);
  int err = pages == 0 ? 0 : os_incore(c->start, c->len, vec);
  for (i = 0; err == 0 && i < pages; i++) vec[i] &= 1;
  return err;
}

/* residency(view, offset, length) -> Uint8Array, 1 per resident page */
static napi_value js_residency(napi_env env, napi_callback_info info) {
  call_t c;
  napi_value array;
  unsigned char *vec = NULL;
  int err;
  if (!begin(env, info, 3, &c)) return NULL;
  if ((array = new_page_array(env, pages_of(c.len), &vec)) == NULL) return NULL;
  if ((err = residency(&c, vec)) != 0) {
    throw_system_error(env, err, "mincore", NULL);
    return NULL;
  }
  return array;
}

static napi_value lock_or_unlock(napi_env env, napi_callback_info info, bool lock) {
  call_t c;
  int err;
  if (!begin(env, info, 3, &c) || c.len == 0) return NULL;
  err = lock ? os_lock(c.start, c.len) : os_unlock(c.start, c.len);
  if (err == ENOMEM_ERR || err == os_uv_error(OS_EPERM)) {
    char description[256];
    snprintf(description, sizeof description,
             "%s (locked memory is limited by RLIMIT_MEMLOCK, see ulimit -l)",
             uv_strerror(err));
    throw_system_error(env, err, lock ? "mlock" : "munlock", description);
  } else if (err != 0) {
    throw_system_error(env, err, lock ? "mlock" : "munlock", NULL);
  }
  return NULL;
}

/* lock(view, offset, length) and unlock(view, offset, length) */
static napi_value js_lock(napi_env env, napi_callback_info info) {
  return lock_or_unlock(env, info, true);
}
static napi_value js_unlock(napi_env env, napi_callback_info info) {
  return lock_or_unlock(env, info, false);
}

/* protect(view, offset, length, protection) */
static napi_value js_protect(napi_env env, napi_callback_info info) {
  call_t c;
  int32_t prot;
  int err;
  if (!begin(env, info, 4, &c) || !get_int(env, c.args[3], &prot)) return NULL;
  if (c.len != 0 && (err = os_protect(c.start, c.len, prot)) != 0)
    throw_system_error(env, err, "mprotect", NULL);
  return NULL;
}

/* fadvise(fd, offset, length, advice): about a file, not a mapping. */
static napi_value js_fadvise(napi_env env, napi_callback_info info) {
  napi_value args[4];
  size_t argc = 4, i;
  int64_t a[4];
  int err;
  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "fadvise() takes 4 arguments");
    return NULL;
  }
  for (i = 0; i < 4; i++) CHECK(env, napi_get_value_int64(env, args[i], &a[i]));
  if ((err = os_fadvise(a[0], a[1], a[2], (int)a[3])) != 0)
    throw_system_error(env, err, "fadvise", NULL);
  return NULL;
}

/* ---- work on the libuv threadpool ---------------------------------------- */

typedef enum { JOB_SYNC, JOB_PREFETCH, JOB_RESIDENCY } job_kind_t;

typedef struct {
  job_kind_t kind;
  napi_async_work work;
  napi_deferred deferred;
  napi_ref view;   /* keeps the ArrayBuffer, and so the mapping, alive */
  napi_ref result; /* the residency array, or NULL */
  call_t call;     /* start/len/m; its napi_values are not used off-thread */
  bool invalidate;
  unsigned char *vec; /* the residency array's bytes */
  int err;
} job_t;

static const char *job_syscalls[] = {"msync", "madvise", "mincore"};

/* On a threadpool thread: system calls only, no Node-API. */
static void job_execute(napi_env env, void *data) {
  job_t *job = data;
  call_t *c = &job->call;
  (void)env;
  if (c->len == 0) return;
  switch (job->kind) {
    case JOB_SYNC: job->err = os_sync(c->start, c->len, 1, job->invalidate, &c->m->extra); break;
    case JOB_PREFETCH: job->err = os_prefetch(c->start, c->len); break;
    case JOB_RESIDENCY: job->err = residency(c, job->vec); break;
  }
}

/* Back on the environment's thread. */
static void job_complete(napi_env env, napi_status status, void *data) {
  job_t *job = data;
  napi_value value = NULL;
  mapping_t *m = job->call.m;

  m->pins--;
  settle(env, m);
  if (status == napi_cancelled) job->err = os_uv_error(OS_ECANCELED);
  if (job->err != 0) {
    value = system_error(env, job->err, job_syscalls[job->kind], NULL);
    if (value != NULL) napi_reject_deferred(env, job->deferred, value);
  } else {
    if (job->result == NULL) napi_get_undefined(env, &value);
    else napi_get_reference_value(env, job->result, &value);
    if (value != NULL) napi_resolve_deferred(env, job->deferred, value);
  }
  /* A promise left unsettled here means the environment is going away. */
  napi_delete_reference(env, job->view);
  if (job->result != NULL) napi_delete_reference(env, job->result);
  napi_delete_async_work(env, job->work);
  free(job);
}

/* Start `kind` on the range in job->call; returns the promise. */
static napi_value start_job(napi_env env, job_t *job, napi_value result) {
  napi_value promise = NULL, name;
  job->deferred = NULL;
  if (napi_create_string_utf8(env, "mmap-io", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_reference(env, job->call.args[0], 1, &job->view) != napi_ok)
    goto fail;
  if (result != NULL && napi_create_reference(env, result, 1, &job->result) != napi_ok)
    goto fail;
  if (napi_create_async_work(env, NULL, name, job_execute, job_complete, job,
                             &job->work) != napi_ok)
    goto fail;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    goto fail;
  }
  job->call.m->pins++;
  return promise;

fail:
  throw_napi_failure(env);
  if (job->view != NULL) napi_delete_reference(env, job->view);
  if (job->result != NULL) napi_delete_reference(env, job->result);
  /* A promise created but not handed out is simply dropped. */
  free(job);
  return NULL;
}

static job_t *new_job(napi_env env, napi_callback_info info, size_t argc,
                      job_kind_t kind) {
  job_t *job = calloc(1, sizeof *job);
  if (job == NULL) {
    throw_system_error(env, ENOMEM_ERR, job_syscalls[kind], NULL);
    return NULL;
  }
  job->kind = kind;
  if (!begin(env, info, argc, &job->call)) {
    free(job);
    return NULL;
  }
  return job;
}

/* syncAsync(view, offset, length, invalidate) -> Promise<undefined> */
static napi_value js_sync_async(napi_env env, napi_callback_info info) {
  job_t *job = new_job(env, info, 4, JOB_SYNC);
  bool invalidate;
  if (job == NULL) return NULL;
  if (napi_get_value_bool(env, job->call.args[3], &invalidate) != napi_ok) {
    free(job);
    throw_napi_failure(env);
    return NULL;
  }
  job->invalidate = invalidate;
  return start_job(env, job, NULL);
}

/* prefetchAsync(view, offset, length) -> Promise<undefined> */
static napi_value js_prefetch_async(napi_env env, napi_callback_info info) {
  job_t *job = new_job(env, info, 3, JOB_PREFETCH);
  return job == NULL ? NULL : start_job(env, job, NULL);
}

/* residencyAsync(view, offset, length) -> Promise<Uint8Array> */
static napi_value js_residency_async(napi_env env, napi_callback_info info) {
  job_t *job = new_job(env, info, 3, JOB_RESIDENCY);
  napi_value array;
  if (job == NULL) return NULL;
  if ((array = new_page_array(env, pages_of(job->call.len), &job->vec)) == NULL) {
    free(job);
    return NULL;
  }
  return start_job(env, job, array);
}

/* ---- module set-up ------------------------------------------------------- */

static bool set_number(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok &&
         napi_set_named_property(env, obj, name, v) == napi_ok;
}

static napi_value make_constants(napi_env env) {
  napi_value obj;
  const os_constant_t *c;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  for (c = os_constants; c->name != NULL; c++)
    if (!set_number(env, obj, c->name, (double)c->value)) return NULL;
  if (!set_number(env, obj, "PAGESIZE", (double)page_size) ||
      !set_number(env, obj, "ALLOCATIONGRANULARITY", (double)os_granularity()))
    return NULL;
  return obj;
}

static napi_value make_features(napi_env env) {
  os_feature_t features[16];
  size_t n = os_features(features, sizeof features / sizeof features[0]), i;
  napi_value obj, v;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  for (i = 0; i < n; i++) {
    if (napi_get_boolean(env, features[i].supported != 0, &v) != napi_ok ||
        napi_set_named_property(env, obj, features[i].name, v) != napi_ok)
      return NULL;
  }
  return obj;
}

#define FUNCTION(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  registry_t *r;
  napi_value constants, features;
  size_t limit;
  napi_property_descriptor functions[] = {
      FUNCTION("map", js_map),
      FUNCTION("unmap", js_unmap),
      FUNCTION("advise", js_advise),
      FUNCTION("sync", js_sync),
      FUNCTION("incore", js_incore),
      FUNCTION("residency", js_residency),
      FUNCTION("lock", js_lock),
      FUNCTION("unlock", js_unlock),
      FUNCTION("protect", js_protect),
      FUNCTION("fadvise", js_fadvise),
      FUNCTION("syncAsync", js_sync_async),
      FUNCTION("prefetchAsync", js_prefetch_async),
      FUNCTION("residencyAsync", js_residency_async),
  };

  /* The same values in every environment; a race between workers here only
   * writes them twice. */
  page_size = os_page_size();
  limit = os_map_count_limit();
  map_limit = limit != 0 ? limit - limit / 8 : SIZE_MAX;

  if ((r = registry_new()) == NULL) {
    napi_throw_error(env, "ENOMEM", "mmap-io: out of memory");
    return NULL;
  }
  if (napi_set_instance_data(env, r, finalize_registry, NULL) != napi_ok) {
    registry_free(r);
    throw_napi_failure(env);
    return NULL;
  }
  CHECK(env, napi_define_properties(env, exports,
                                    sizeof functions / sizeof functions[0], functions));
  if ((constants = make_constants(env)) == NULL || (features = make_features(env)) == NULL) {
    throw_napi_failure(env);
    return NULL;
  }
  CHECK(env, napi_set_named_property(env, exports, "constants", constants));
  CHECK(env, napi_set_named_property(env, exports, "features", features));
  return exports;
}
