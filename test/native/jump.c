/* A Node-API addon for the fault tests: jump(view) calls the first byte of
 * a view as a function, as native code through a corrupted function pointer
 * would. Memory that is not executable raises SIGSEGV (an instruction
 * fetch), which must end the process, explained when the view is an
 * mmap-io mapping, and never loop. */
#include <node_api.h>
#include <stddef.h>

static napi_value jump(napi_env env, napi_callback_info info) {
  napi_value arg;
  size_t argc = 1, len = 0;
  void *data = NULL;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  void (*fn)(void);
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_typedarray_info(env, arg, &type, &len, &data, &ab, &offset) != napi_ok || data == NULL)
    return NULL;
  *(void **)&fn = data;
  fn();
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "jump", NAPI_AUTO_LENGTH, jump, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "jump", fn) != napi_ok)
    return NULL;
  return exports;
}
