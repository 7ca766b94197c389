/* A Node-API addon for the hostile tests, native code misbehaving in the
 * process. jump(view) calls the first byte of a view as a function, as
 * native code through a corrupted function pointer would: memory that is
 * not executable raises SIGSEGV (an instruction fetch), which must end the
 * process, explained when the view is an mmap-io mapping, and never loop.
 * unmarkOthers() unmaps every mmap-io copy's mark (src/budget.h) but the
 * last one /proc/self/maps lists, and returns how many it unmapped. */
#define _GNU_SOURCE
#include <node_api.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static napi_value jump(napi_env env, napi_callback_info info) {
  napi_value arg;
  size_t argc = 1, len = 0;
  void *data = NULL;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  void (*fn)(void);
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_typedarray_info(env, arg, &type, &len, &data, &ab, &offset) != napi_ok ||
      data == NULL)
    return NULL;
  *(void **)&fn = data;
  fn();
  return NULL;
}

static napi_value unmark_others(napi_env env, napi_callback_info info) {
  enum { MAX = 64 };
  unsigned long from[MAX], to[MAX];
  char line[1024];
  int n = 0, i, unmapped = 0;
  napi_value result;
  FILE *f = fopen("/proc/self/maps", "r");
  (void)info;
  if (f == NULL) return NULL;
  while (fgets(line, sizeof line, f) != NULL)
    if (strstr(line, "/memfd:mmap-io copy") != NULL && n < MAX &&
        sscanf(line, "%lx-%lx", &from[n], &to[n]) == 2)
      n++;
  fclose(f);
  for (i = 0; i < n - 1; i++) unmapped += munmap((void *)from[i], to[i] - from[i]) == 0;
  if (napi_create_int32(env, unmapped, &result) != napi_ok) return NULL;
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn, unmark;
  if (napi_create_function(env, "jump", NAPI_AUTO_LENGTH, jump, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "jump", fn) != napi_ok ||
      napi_create_function(env, "unmarkOthers", NAPI_AUTO_LENGTH, unmark_others, NULL, &unmark) !=
          napi_ok ||
      napi_set_named_property(env, exports, "unmarkOthers", unmark) != napi_ok)
    return NULL;
  return exports;
}
