/*
 * Test-only: force-included (gcc -include) into every source file of a
 * build that the tests make in a scratch copy of the package, never into
 * the shipped addon. It changes what three Node-API calls do, as other
 * runtimes do, according to MMAP_IO_NAPI_HOOK:
 *
 *  - "sync-finalizer": napi_detach_arraybuffer runs the external buffer's
 *    finalizer inside the call, as Bun and Deno do; the runtime's own later
 *    call is then skipped.
 *  - "fail-after-finalizer": napi_create_external_buffer runs the finalizer
 *    and then fails.
 *  - "no-external": napi_create_external_buffer and
 *    napi_create_external_arraybuffer return napi_no_external_buffers_allowed,
 *    as Electron (V8 sandbox) does.
 */
#ifndef MMAP_IO_NAPI_HOOKS_H
#define MMAP_IO_NAPI_HOOKS_H

#include <node_api.h>
#include <stdlib.h>
#include <string.h>

typedef struct hook_entry {
  void *data;
  napi_finalize cb;
  void *hint;
  int called;
  struct hook_entry *next;
} hook_entry;

static hook_entry *hook_entries; /* one list per source file: only mapping.c uses it */

static int hook_is(const char *mode) {
  const char *m = getenv("MMAP_IO_NAPI_HOOK");
  return m != NULL && strcmp(m, mode) == 0;
}

static void hook_later(napi_env env, void *data, void *hint) {
  hook_entry *e = hint;
  if (e->called) return;
  e->called = 1;
  e->cb(env, data, e->hint);
}

static inline napi_status hooked_create_external_buffer(napi_env env, size_t len, void *data,
                                                        napi_finalize cb, void *hint,
                                                        napi_value *result) {
  hook_entry *e;
  if (hook_is("no-external")) return napi_no_external_buffers_allowed;
  if (hook_is("fail-after-finalizer")) {
    cb(env, data, hint);
    return napi_generic_failure;
  }
  if (!hook_is("sync-finalizer")) return napi_create_external_buffer(env, len, data, cb, hint, result);
  if ((e = calloc(1, sizeof *e)) == NULL) return napi_generic_failure;
  e->data = data;
  e->cb = cb;
  e->hint = hint;
  e->next = hook_entries;
  hook_entries = e;
  return napi_create_external_buffer(env, len, data, hook_later, e, result);
}

static inline napi_status hooked_create_external_arraybuffer(napi_env env, void *data, size_t len,
                                                             napi_finalize cb, void *hint,
                                                             napi_value *result) {
  if (hook_is("no-external")) return napi_no_external_buffers_allowed;
  return napi_create_external_arraybuffer(env, data, len, cb, hint, result);
}

static inline napi_status hooked_detach_arraybuffer(napi_env env, napi_value arraybuffer) {
  void *data = NULL;
  size_t len = 0;
  napi_status status;
  hook_entry *e;
  if (!hook_is("sync-finalizer")) return napi_detach_arraybuffer(env, arraybuffer);
  napi_get_arraybuffer_info(env, arraybuffer, &data, &len);
  if ((status = napi_detach_arraybuffer(env, arraybuffer)) != napi_ok) return status;
  for (e = hook_entries; e != NULL; e = e->next)
    if (e->data == data && !e->called) {
      e->called = 1;
      e->cb(env, data, e->hint);
      break;
    }
  return status;
}

#define napi_create_external_buffer hooked_create_external_buffer
#define napi_create_external_arraybuffer hooked_create_external_arraybuffer
#define napi_detach_arraybuffer hooked_detach_arraybuffer

#endif
