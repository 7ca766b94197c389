/* Resolving views to mappings: see views.h. */
#include "views.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"

static size_t element_size(napi_typedarray_type type) {
  switch ((int)type) {
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
    case napi_biguint64_array + 1: return 2; /* napi_float16_array (Node 24+) */
    default: return 0;                       /* a kind this build does not know */
  }
}

bool mmio_get_view(napi_env env, napi_value value, view_t *view) {
  bool is_typedarray = false, is_dataview = false;
  void *data = NULL, *ab_data = NULL, *instance = NULL;
  size_t len = 0, offset = 0, ab_len = 0;
  mapping_t *m;

  memset(view, 0, sizeof *view);
  if (napi_is_typedarray(env, value, &is_typedarray) != napi_ok) goto napi_failed;
  if (is_typedarray) {
    napi_typedarray_type type;
    size_t count;
    if (napi_get_typedarray_info(env, value, &type, &count, &data, &view->arraybuffer, &offset) !=
        napi_ok)
      goto napi_failed;
    if (element_size(type) == 0) goto not_a_view;
    len = count * element_size(type);
  } else {
    if (napi_is_dataview(env, value, &is_dataview) != napi_ok) goto napi_failed;
    if (!is_dataview) goto not_a_view;
    if (napi_get_dataview_info(env, value, &len, &data, &view->arraybuffer, &offset) != napi_ok)
      goto napi_failed;
  }
  view->data = data;
  view->len = len;
  /* Older runtimes refuse a SharedArrayBuffer here: it may be a shared
   * mapping, found by address below. */
  if (napi_get_arraybuffer_info(env, view->arraybuffer, &ab_data, &ab_len) == napi_ok &&
      ab_data != NULL) {
    if (napi_get_instance_data(env, &instance) != napi_ok || instance == NULL) goto napi_failed;
    /* The ArrayBuffer is exactly the mapping's Buffer; anything else is not
     * ours. */
    if ((m = mmio_mapping_find(instance, ab_data, ab_len)) != NULL) {
      uint8_t *base;
      size_t len;
      mmio_mapping_bounds(m, &base, &len);
      if (view->data >= base && view->len <= len - (size_t)(view->data - base)) {
        view->mapping = m;
        return true;
      }
    }
  }
  /* A view of a SharedArrayBuffer mapping, in any thread. Only such a
   * SharedArrayBuffer points into the mapping's addresses. */
  view->mapping = mmio_mapping_find_shared(view->data, view->len, &view->released);
  return true;

not_a_view:
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                        "The \"buffer\" argument must be a Buffer, TypedArray or DataView");
  return false;
napi_failed:
  mmio_throw_napi_failure(env);
  return false;
}

void mmio_throw_not_live(napi_env env, const view_t *view) {
  bool detached = false;
  if (!view->released &&
      napi_is_detached_arraybuffer(env, view->arraybuffer, &detached) != napi_ok) {
    mmio_throw_napi_failure(env);
    return;
  }
  if (view->released || detached)
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                          "The argument 'buffer' must be a view of a live mapping: its "
                          "memory was unmapped by unmap(), or moved by remap() (use the "
                          "Buffer remap() returned), or transferred away");
  else
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                          "The argument 'buffer' must be a view of a live mapping (a Buffer "
                          "that map(), open(), remap() or shm returned, or a view of its "
                          "memory)");
}

size_t mmio_pages_of(size_t len) { return len / mmio_page_size + (len % mmio_page_size != 0); }

bool mmio_check_no_fault(napi_env env, const mapping_t *m) {
  napi_value error;
  if (mmio_mapping_faults(m) == 0) return true;
  error = mmio_fault_error(env, mmio_mapping_fault_slot(m));
  if (error == NULL || napi_throw(env, error) != napi_ok) mmio_throw_napi_failure(env);
  return false;
}

static bool begin(napi_env env, napi_callback_info info, size_t argc, call_t *c,
                  bool mapping_pages) {
  size_t given = argc, limit, pages_end;
  int64_t length;

  if (napi_get_cb_info(env, info, &given, c->args, NULL, NULL) != napi_ok) {
    mmio_throw_napi_failure(env);
    return false;
  }
  if (given < argc) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "missing arguments");
    return false;
  }
  if (!mmio_get_view(env, c->args[0], &c->view)) return false;
  if ((c->m = c->view.mapping) == NULL) {
    mmio_throw_not_live(env, &c->view);
    return false;
  }
  if (!mmio_check_no_fault(env, c->m)) return false;
  if (napi_get_value_int64(env, c->args[1], &c->offset) != napi_ok ||
      napi_get_value_int64(env, c->args[2], &length) != napi_ok) {
    mmio_throw_napi_failure(env);
    return false;
  }
  mmio_mapping_bounds(c->m, &c->base, &c->mapping_len);
  /* lib/ checked these against the view's length as JavaScript sees it;
   * this is the engine's length, which no getter can change. With
   * `mapping_pages`, the range may go on past the view to the end of the
   * mapping's last page (as 1.x's advise() took it): the kernel's mapping,
   * the caller's own. */
  limit = c->view.len;
  if (mapping_pages) {
    pages_end = mmio_pages_of(c->mapping_len) * mmio_page_size;
    limit = pages_end - (size_t)(c->view.data - c->base);
  }
  if (c->offset < 0 || length < 0 || (uint64_t)c->offset > limit ||
      (uint64_t)length > limit - (uint64_t)c->offset) {
    napi_throw_range_error(
        env, "ERR_OUT_OF_RANGE",
        mapping_pages ? "range outside the mapping's pages" : "range outside the view");
    return false;
  }
  c->first = c->view.data + c->offset;
  /* Round down to the page: the mapping's base is page-aligned, so this
   * never leaves the mapping. */
  c->start = c->base + ((size_t)(c->first - c->base) / mmio_page_size) * mmio_page_size;
  c->len = length == 0 ? 0 : (size_t)(c->first + length - c->start);
  return true;
}

bool mmio_begin(napi_env env, napi_callback_info info, size_t argc, call_t *c) {
  return begin(env, info, argc, c, false);
}

bool mmio_begin_in_pages(napi_env env, napi_callback_info info, size_t argc, call_t *c) {
  return begin(env, info, argc, c, true);
}

bool mmio_check_whole_pages(napi_env env, const call_t *c, bool to_end_ok, const char *what) {
  char range[160];
  size_t end;
  if (c->len == 0) return true;
  end = (size_t)(c->start - c->base) + c->len;
  if (c->first == c->start && (end % mmio_page_size == 0 || (to_end_ok && end == c->mapping_len)))
    return true;
  snprintf(range, sizeof range, "page-aligned, with a length in whole pages%s, for %s",
           to_end_ok ? " (or to the end of the mapping)" : "", what);
  mmio_throw_out_of_range(env, "offset", range, c->offset);
  return false;
}
