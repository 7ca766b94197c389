/* The synchronous functions: map, unmap and the calls on a live mapping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "errors.h"
#include "syserr.h"
#include "mapping.h"
#include "views.h"

int mmio_advice_kind(int advice) {
  const os_constant_t *c;
  for (c = mmio_os_constants; c->name != NULL; c++)
    if (strncmp(c->name, "MADV_", 5) == 0 && c->value == advice) return c->kind;
  return -1;
}

static bool get_int(napi_env env, napi_value value, int32_t *out) {
  if (napi_get_value_int32(env, value, out) == napi_ok) return true;
  mmio_throw_napi_failure(env);
  return false;
}

static bool get_state(napi_env env, env_state_t **st) {
  if (napi_get_instance_data(env, (void **)st) == napi_ok && *st != NULL) return true;
  mmio_throw_napi_failure(env);
  return false;
}

/* Advice for a whole new mapping of `len` bytes: discarding advice needs no
 * rule (to the end of the mapping), punching advice whole pages. */
static bool check_map_advice(napi_env env, int advice, size_t len) {
  int kind;
  if (advice == 0) return true;
  kind = mmio_advice_kind(advice);
  if (kind < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                          "The argument 'advise' must be one of the MADV_* constants");
    return false;
  }
  if (kind == ADVICE_PUNCHES && len % mmio_page_size != 0) {
    mmio_throw_out_of_range(env, "size",
                            "a whole number of pages, for advice that frees the file's pages",
                            (int64_t)len);
    return false;
  }
  return true;
}

/* map(size, protection, flags, fd, offset, advice[, path, policy, delta[,
 * name]]) -> Buffer, or with `shared` a SharedArrayBuffer (lib/ makes the
 * Buffer over it). open() gives the path it mapped, the fault policy and
 * where the view it hands out starts in the mapping; map() on Windows the
 * name of the file mapping object, if given one. */
static napi_value map_common(napi_env env, napi_callback_info info, bool shared) {
  napi_value args[10];
  size_t argc = 10, i, len, path_len = 0, name_len = 0;
  int64_t a[6], delta = 0;
  int32_t policy = -1;
  char path[FAULT_NAME_MAX], name[256];
  bool named = false;
  bool path_cut = false;
  napi_valuetype type = napi_undefined;
  env_state_t *st;
  mapped_t pages;
  int err;
  bool anonymous;

  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "map() takes 6 arguments");
    return NULL;
  }
  for (i = 0; i < 6; i++) CHECK(env, napi_get_value_int64(env, args[i], &a[i]));
  if (argc >= 9) {
    CHECK(env, napi_typeof(env, args[6], &type));
    /* Cut to what the fault table keeps (it says so when it cut). */
    if (type == napi_string) {
      CHECK(env, napi_get_value_string_utf8(env, args[6], NULL, 0, &path_len));
      path_cut = path_len >= sizeof path;
      CHECK(env, napi_get_value_string_utf8(env, args[6], path, sizeof path, &path_len));
    }
    CHECK(env, napi_get_value_int32(env, args[7], &policy));
    CHECK(env, napi_get_value_int64(env, args[8], &delta));
  }
  if (argc >= 10) {
    /* lib/ checks its length; a longer one is refused, never cut. */
    CHECK(env, napi_get_value_string_utf8(env, args[9], NULL, 0, &name_len));
    if (name_len == 0 || name_len >= sizeof name) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "name out of range");
      return NULL;
    }
    CHECK(env, napi_get_value_string_utf8(env, args[9], name, sizeof name, &name_len));
    if (strlen(name) != name_len) { /* a NUL inside: Windows would end it there */
      napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "name contains NUL");
      return NULL;
    }
    named = true;
  }
  if (!get_state(env, &st)) return NULL;
  if (a[0] <= 0 || (uint64_t)a[0] > SIZE_MAX - mmio_page_size) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "size out of range");
    return NULL;
  }
  len = (size_t)a[0];
  /* lib/ names these; here they cannot reach mmap() whatever the caller. */
  for (const os_refused_t *r = mmio_os_refused_flags; r->name != NULL; r++) {
    if ((a[2] & r->value) == r->value) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "flags include one that map() refuses");
      return NULL;
    }
  }
  if (!check_map_advice(env, (int)a[5], len)) return NULL;
  mmio_mapping_drain(env, st);
  mmio_mapping_poll_some(env, st);
  anonymous = a[3] == -1;
  if (!anonymous && (err = mmio_os_check_mappable(a[3], (int)a[1])) != 0) {
    mmio_throw_system_error(env, err, "mmap",
                            err == mmio_syserr_number("ENODEV")
                                ? "not a file that can be mapped (a socket or FIFO)"
                                : NULL,
                            NULL);
    return NULL;
  }
  if (!mmio_mapping_budget(env, 1, "mmap")) return NULL;

  memset(&pages, 0, sizeof pages);
  err = mmio_os_map(&pages.addr, len, (int)a[1], (int)a[2], a[3], a[4], named ? name : NULL,
                    &pages.extra);
  if (err != 0) {
    /* A writable socket: mmap() says EPERM (TCP) or ENODEV, the check
     * says why, as it does for a read-only one. */
    bool socket = !anonymous &&
                  (err == mmio_syserr_number("EPERM") || err == mmio_syserr_number("ENODEV")) &&
                  mmio_os_check_mappable(a[3], 0) == mmio_syserr_number("ENODEV");
    if (socket) err = mmio_syserr_number("ENODEV");
    mmio_throw_system_error(
        env, err, "mmap", socket ? "not a file that can be mapped (a socket or FIFO)" : NULL,
        err == mmio_syserr_number("EAGAIN") ? mmio_os_lock_hint(err, len) : NULL);
    return NULL;
  }
  if (a[5] != 0 && (err = mmio_os_advise(pages.addr, len, (int)a[5])) != 0) {
    /* Not handed out yet: nothing else has the address. */
    mmio_throw_system_error(env, err, "madvise", NULL, NULL);
    mmio_os_unmap(pages.addr, len, &pages.extra);
    return NULL;
  }
  pages.len = len;
  pages.prot = (int)a[1];
  pages.map_shared = mmio_os_flags_shared((int)a[2]);
  pages.at_once = mmio_os_release_at_once((int)a[1], (int)a[2]);
  pages.offset = a[4];
  pages.fault.origin = type == napi_string ? ORIGIN_PATH : anonymous ? ORIGIN_ANONYMOUS : ORIGIN_FD;
  pages.fault.name = type == napi_string ? path : NULL;
  pages.fault.name_cut = path_cut;
  pages.fault.fd = a[3];
  pages.fault.delta = delta > 0 ? (size_t)delta : 0;
  pages.fault.policy = mmio_fault_policy_of(policy);
  return mmio_mapping_hand_out(env, st, &pages, shared);
}

napi_value mmio_js_map(napi_env env, napi_callback_info info) {
  return map_common(env, info, false);
}

/* remap(view, length, fd, grow) -> Buffer: the view's mapping as `length`
 * bytes from the same start (lib/ adds the view's offset in the first
 * page). With an fd of the mapped file (-1: none), the file's size is
 * checked exactly, and with `grow` the file grown first. */
napi_value mmio_js_remap(napi_env env, napi_callback_info info) {
  napi_value args[4];
  size_t argc = 4;
  int64_t length, fd;
  bool grow;
  view_t view;
  env_state_t *st;

  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "remap() takes 4 arguments");
    return NULL;
  }
  if (!get_state(env, &st)) return NULL;
  mmio_mapping_drain(env, st);
  if (!mmio_get_view(env, args[0], &view)) return NULL;
  CHECK(env, napi_get_value_int64(env, args[1], &length));
  CHECK(env, napi_get_value_int64(env, args[2], &fd));
  CHECK(env, napi_get_value_bool(env, args[3], &grow));
  if (view.mapping == NULL) {
    mmio_throw_not_live(env, &view);
    return NULL;
  }
  if (!mmio_check_no_fault(env, view.mapping)) return NULL;
  if (length <= 0 || (uint64_t)length > SIZE_MAX - mmio_page_size) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "length out of range");
    return NULL;
  }
  return mmio_mapping_remap(env, view.mapping, view.arraybuffer, (size_t)length, fd, grow);
}

/* reserved() -> { kept, keptBytes, waiting, waitingBytes }: the address
 * ranges reserved for the life of the process (holders that cannot be
 * seen), and the placeholders that will be given back, process-wide. */
napi_value mmio_js_reserved(napi_env env, napi_callback_info info) {
  napi_value result;
  (void)info;
  if ((result = mmio_mapping_reserved(env)) == NULL) mmio_throw_napi_failure(env);
  return result;
}

/* guarded() -> how many faults the fault guard has turned into placeholders
 * (os.h), for the tests. */
napi_value mmio_js_guarded(napi_env env, napi_callback_info info) {
  napi_value n;
  (void)info;
  CHECK(env, napi_create_double(env, (double)mmio_os_guard_caught(), &n));
  return n;
}

/* mapShared(...): as map(), as a SharedArrayBuffer. */
napi_value mmio_js_map_shared(napi_env env, napi_callback_info info) {
  if (!mmio_mapping_shared_supported()) {
    napi_throw_error(env, "ERR_MMAP_IO_SHARED_ARRAYBUFFER_UNAVAILABLE",
                     "SharedArrayBuffer mappings need "
                     "node_api_create_external_sharedarraybuffer, which this runtime does not "
                     "have: Node 22.23+, 24.21+ and 26 (and Bun) do");
    return NULL;
  }
  return map_common(env, info, true);
}

/* unmap(view) -> how many ArrayBuffers this environment still watches
 * (lib/ polls while any are), shifted left by one; bit 0 asks lib/ to call
 * poll() on the next turn of the event loop (the first unmap() of a batch
 * sets it). Detaches every view and releases the mapping. A view of an
 * unmapped (detached) ArrayBuffer is a no-op. */
napi_value mmio_js_unmap(napi_env env, napi_callback_info info) {
  napi_value arg, waiting = NULL, fault = NULL, pair;
  size_t argc = 1;
  view_t view;
  bool detached = false, due;
  env_state_t *st;

  CHECK(env, napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "unmap() takes 1 argument");
    return NULL;
  }
  if (!get_state(env, &st)) return NULL;
  mmio_mapping_drain(env, st);
  if (!mmio_get_view(env, arg, &view)) return NULL;
  if (view.mapping == NULL) {
    if (view.released) return NULL; /* a released SharedArrayBuffer mapping */
    CHECK(env, napi_is_detached_arraybuffer(env, view.arraybuffer, &detached));
    if (!detached) mmio_throw_not_live(env, &view);
    return NULL;
  }
  /* A mapping that saw a fault is released all the same, then says so:
   * [result, error] for lib/ to act on the result and throw the error. */
  if (mmio_mapping_faults(view.mapping) > 0 &&
      (fault = mmio_fault_error(env, mmio_mapping_fault_slot(view.mapping))) == NULL) {
    mmio_throw_napi_failure(env);
    return NULL;
  }
  if (mmio_mapping_is_shared(view.mapping)) {
    mmio_mapping_release_shared(view.mapping);
  } else {
    if (!mmio_mapping_release(env, view.mapping, view.arraybuffer)) return NULL;
    due = mmio_mapping_flush_due(st);
    CHECK(env,
          napi_create_double(env, (double)mmio_mapping_watched(st) * 2 + (due ? 1 : 0), &waiting));
  }
  if (fault == NULL) return waiting;
  if (waiting == NULL) CHECK(env, napi_get_undefined(env, &waiting));
  CHECK(env, napi_create_array_with_length(env, 2, &pair));
  CHECK(env, napi_set_element(env, pair, 0, waiting));
  CHECK(env, napi_set_element(env, pair, 1, fault));
  return pair;
}

/* faults(view) -> the faults its mapping saw (fault.h), oldest first. */
napi_value mmio_js_faults(napi_env env, napi_callback_info info) {
  napi_value arg, list;
  size_t argc = 1;
  view_t view;
  CHECK(env, napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "faults() takes 1 argument");
    return NULL;
  }
  if (!mmio_get_view(env, arg, &view)) return NULL;
  if (view.mapping == NULL) {
    mmio_throw_not_live(env, &view);
    return NULL;
  }
  if ((list = mmio_fault_list(env, mmio_mapping_fault_slot(view.mapping))) == NULL)
    mmio_throw_napi_failure(env);
  return list;
}

/* setFaultPolicy(policy): the default for mappings made from now on, in
 * every thread (0: explain, 1: zero). */
napi_value mmio_js_set_fault_policy(napi_env env, napi_callback_info info) {
  napi_value arg;
  size_t argc = 1;
  int32_t policy;
  CHECK(env, napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  if (argc < 1 || !get_int(env, arg, &policy)) return NULL;
  mmio_fault_set_policy(mmio_fault_policy_of(policy < 0 ? 0 : policy));
  return NULL;
}

/* poll() -> how many ArrayBuffers this environment still watches, after
 * switching the batch of released mappings to placeholders and giving back
 * the addresses that collected ArrayBuffers were the last holders of. */
napi_value mmio_js_poll(napi_env env, napi_callback_info info) {
  env_state_t *st;
  napi_value waiting;
  (void)info;
  if (!get_state(env, &st)) return NULL;
  mmio_mapping_drain(env, st);
  CHECK(env, napi_create_double(env, (double)mmio_mapping_poll(env, st), &waiting));
  return waiting;
}

/* sentinel() -> whether a sentinel was made (mapping.h). */
napi_value mmio_js_sentinel(napi_env env, napi_callback_info info) {
  env_state_t *st;
  napi_value made;
  (void)info;
  if (!get_state(env, &st)) return NULL;
  CHECK(env, napi_get_boolean(env, mmio_mapping_sentinel(env, st), &made));
  return made;
}

/* advise(view, offset, length, advice) */
napi_value mmio_js_advise(napi_env env, napi_callback_info info) {
  call_t c;
  int32_t advice;
  int kind, err;
  if (!mmio_begin_in_pages(env, info, 4, &c) || !get_int(env, c.args[3], &advice)) return NULL;
  if ((kind = mmio_advice_kind(advice)) < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                          "The argument 'advice' must be one of the MADV_* constants");
    return NULL;
  }
  if (kind != ADVICE_KEEPS &&
      !mmio_check_whole_pages(env, &c, kind == ADVICE_DISCARDS, "advice that discards data"))
    return NULL;
  /* Past the view is the mapping's own memory, but the file's bytes past the
   * mapping's length (the rest of its last page) are not: never punched. */
  if (kind == ADVICE_PUNCHES && (size_t)(c.start - c.base) + c.len > c.mapping_len) {
    mmio_throw_out_of_range(env, "length", "within the mapping's length, for MADV_REMOVE",
                            (int64_t)(c.len - (size_t)(c.first - c.start)));
    return NULL;
  }
  if (c.len == 0) return NULL;
  /* Advice that changes the pages' flags splits the mapping. */
  if (!mmio_mapping_budget(env, 2, "madvise")) return NULL;
  if ((err = mmio_os_advise(c.start, c.len, advice)) != 0)
    mmio_throw_system_error(env, err, "madvise", NULL, NULL);
  return NULL;
}

/* sync(view, offset, length, blocking, invalidate) */
napi_value mmio_js_sync(napi_env env, napi_callback_info info) {
  call_t c;
  bool blocking, invalidate;
  int err;
  if (!mmio_begin(env, info, 5, &c)) return NULL;
  CHECK(env, napi_get_value_bool(env, c.args[3], &blocking));
  CHECK(env, napi_get_value_bool(env, c.args[4], &invalidate));
  if (c.len != 0 &&
      (err = mmio_os_sync(c.start, c.len, blocking, invalidate, mmio_mapping_extra(c.m))) != 0)
    mmio_throw_system_error(env, err, "msync", NULL, NULL);
  return NULL;
}

/* incore(view, offset, length) -> [unmappedPages, mappedPages] */
napi_value mmio_js_incore(napi_env env, napi_callback_info info) {
  call_t c;
  napi_value result, n;
  size_t pages, i, resident = 0;
  unsigned char *vec;
  int err;

  if (!mmio_begin(env, info, 3, &c)) return NULL;
  pages = mmio_pages_of(c.len);
  if (pages != 0) {
    if ((vec = malloc(pages)) == NULL) {
      mmio_throw_system_error(env, mmio_syserr_number("ENOMEM"), "mincore", NULL, NULL);
      return NULL;
    }
    err = mmio_os_incore(c.start, c.len, vec);
    for (i = 0; err == 0 && i < pages; i++) resident += vec[i] & 1;
    free(vec);
    if (err != 0) {
      mmio_throw_system_error(env, err, "mincore", NULL, NULL);
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

static void free_page_array(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

napi_value mmio_new_page_array(napi_env env, size_t pages, unsigned char **data,
                               const char *syscall) {
  napi_value ab = NULL, array;
  void *bytes = NULL;
  napi_status status;
  /* V8 aborts the process when it cannot allocate an ArrayBuffer's memory,
   * so a big one is allocated here, where failing is an ENOMEM, and handed
   * over; a runtime that refuses external memory gets a copy-free retry
   * once malloc() has shown the memory is there. */
  if (pages > ((size_t)1 << 20)) {
    if ((bytes = malloc(pages)) == NULL) {
      mmio_throw_system_error(env, mmio_syserr_number("ENOMEM"), syscall, NULL,
                              "the residency array of one byte per page does not fit in memory");
      return NULL;
    }
    status = napi_create_external_arraybuffer(env, bytes, pages, free_page_array, NULL, &ab);
    if (status != napi_ok) {
      free(bytes);
      bytes = NULL;
      ab = NULL;
      if (status != napi_no_external_buffers_allowed) {
        mmio_throw_napi_failure(env);
        return NULL;
      }
    }
  }
  if (ab == NULL && napi_create_arraybuffer(env, pages, &bytes, &ab) != napi_ok) {
    mmio_throw_napi_failure(env);
    return NULL;
  }
  if (napi_create_typedarray(env, napi_uint8_array, pages, ab, 0, &array) != napi_ok) {
    mmio_throw_napi_failure(env);
    return NULL;
  }
  *data = bytes;
  return array;
}

/* residency(view, offset, length) -> Uint8Array, 1 per resident page */
napi_value mmio_js_residency(napi_env env, napi_callback_info info) {
  call_t c;
  napi_value array;
  unsigned char *vec = NULL;
  size_t i, pages;
  int err = 0;
  if (!mmio_begin(env, info, 3, &c)) return NULL;
  pages = mmio_pages_of(c.len);
  if ((array = mmio_new_page_array(env, pages, &vec, "mincore")) == NULL) return NULL;
  if (pages != 0) err = mmio_os_incore(c.start, c.len, vec);
  for (i = 0; err == 0 && i < pages; i++) vec[i] &= 1;
  if (err != 0) {
    mmio_throw_system_error(env, err, "mincore", NULL, NULL);
    return NULL;
  }
  return array;
}

static napi_value lock_or_unlock(napi_env env, napi_callback_info info, bool lock) {
  call_t c;
  int err;
  const char *syscall = lock ? "mlock" : "munlock";
  if (!mmio_begin(env, info, 3, &c) || c.len == 0) return NULL;
  if (!mmio_mapping_budget(env, 2, syscall)) return NULL;
  mmio_mapping_release_at_once(c.m); /* locked pages go at unmap(), not in a batch */
  err = lock ? mmio_os_lock(c.start, c.len) : mmio_os_unlock(c.start, c.len);
  if (err != 0) mmio_throw_system_error(env, err, syscall, NULL, mmio_os_lock_hint(err, c.len));
  return NULL;
}

/* lock(view, offset, length) and unlock(view, offset, length) */
napi_value mmio_js_lock(napi_env env, napi_callback_info info) {
  return lock_or_unlock(env, info, true);
}
napi_value mmio_js_unlock(napi_env env, napi_callback_info info) {
  return lock_or_unlock(env, info, false);
}

/* protect(view, offset, length, protection) */
napi_value mmio_js_protect(napi_env env, napi_callback_info info) {
  call_t c;
  int32_t prot;
  int err;
  if (!mmio_begin(env, info, 4, &c) || !get_int(env, c.args[3], &prot)) return NULL;
  if (!mmio_check_whole_pages(env, &c, true, "protect()") || c.len == 0) return NULL;
  if (!mmio_mapping_budget(env, 2, "mprotect")) return NULL;
  mmio_mapping_release_at_once(c.m); /* it may be writable now */
  if ((err = mmio_os_protect(c.start, c.len, prot)) != 0)
    mmio_throw_system_error(env, err, "mprotect", NULL, NULL);
  else mmio_mapping_protected(c.m); /* a fault there may be its doing from now on */
  return NULL;
}

/* fadvise(fd, offset, length, advice): about a file, not a mapping. */
napi_value mmio_js_fadvise(napi_env env, napi_callback_info info) {
  napi_value args[4];
  size_t argc = 4, i;
  int64_t a[4];
  env_state_t *st;
  int err;
  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "fadvise() takes 4 arguments");
    return NULL;
  }
  for (i = 0; i < 4; i++) CHECK(env, napi_get_value_int64(env, args[i], &a[i]));
  /* Mapped pages cannot be dropped (POSIX_FADV_DONTNEED): unmapped ones
   * still waiting in a batch go first. */
  if (!get_state(env, &st)) return NULL;
  mmio_mapping_flush(st);
  if ((err = mmio_os_fadvise(a[0], a[1], a[2], (int)a[3])) != 0)
    mmio_throw_system_error(env, err, "fadvise", NULL, NULL);
  return NULL;
}
