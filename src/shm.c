/*
 * Named shared memory: memory that belongs to no file, found by name from
 * any process (POSIX shm_open, Windows named pagefile-backed mappings).
 * Once mapped it is a mapping like any other (mapping.c).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "errors.h"
#include "mapping.h"
#include "syserr.h"

#if defined(_WIN32)
#define SHM_SYSCALL "CreateFileMapping"
#else
#define SHM_SYSCALL "shm_open"
#endif

/* The name argument; lib/ has checked it. */
static bool get_name(napi_env env, napi_value value, char *out, size_t size) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, out, size, &len) != napi_ok) {
    mmio_throw_napi_failure(env);
    return false;
  }
  if (len == 0 || len >= size - 1) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "name length out of range");
    return false;
  }
  return true;
}

/* shmMap(name, size, create, exclusive, readonly, shared, max, policy) ->
 * Buffer, or a SharedArrayBuffer when `shared`, or null when the memory is
 * empty; EFBIG when it is larger than `max` (buffer.constants.MAX_LENGTH).
 * `policy`: what a fault in it does (-1 the process default, 0 explain,
 * 1 zero). */
napi_value mmio_js_shm_map(napi_env env, napi_callback_info info) {
  napi_value args[8], result = NULL;
  size_t argc = 8;
  char name[256];
  int64_t want, max;
  bool create, exclusive, readonly, shared;
  size_t size;
  void *addr = NULL;
  os_extra_t extra = {0};
  env_state_t *st;
  mapped_t pages;
  int err;
  int32_t policy;

  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 8) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "shmMap() takes 8 arguments");
    return NULL;
  }
  if (!get_name(env, args[0], name, sizeof name)) return NULL;
  CHECK(env, napi_get_value_int64(env, args[1], &want));
  CHECK(env, napi_get_value_bool(env, args[2], &create));
  CHECK(env, napi_get_value_bool(env, args[3], &exclusive));
  CHECK(env, napi_get_value_bool(env, args[4], &readonly));
  CHECK(env, napi_get_value_bool(env, args[5], &shared));
  CHECK(env, napi_get_value_int64(env, args[6], &max));
  CHECK(env, napi_get_value_int32(env, args[7], &policy));
  CHECK(env, napi_get_instance_data(env, (void **)&st));
  if (want < 0 || (uint64_t)want > SIZE_MAX - mmio_page_size) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "size out of range");
    return NULL;
  }
  if (shared && !mmio_mapping_shared_supported()) {
    napi_throw_error(env, "ERR_MMAP_IO_SHARED_ARRAYBUFFER_UNAVAILABLE",
                     "SharedArrayBuffer mappings need "
                     "node_api_create_external_sharedarraybuffer, which this runtime does not "
                     "have: Node 22.23+, 24.21+ and 26 (and Bun) do");
    return NULL;
  }
  if (!mmio_mapping_budget(env, 1, SHM_SYSCALL)) return NULL;
  size = (size_t)want;
  if (max < 0) max = 0;
  if ((err = mmio_os_shm_map(name, create, exclusive, readonly, (size_t)max, &size, &addr,
                             &extra)) != 0) {
    mmio_throw_system_error(env, err, SHM_SYSCALL, NULL, NULL);
    return NULL;
  }
  if (addr == NULL) { /* empty */
    CHECK(env, napi_get_null(env, &result));
    return result;
  }
  memset(&pages, 0, sizeof pages);
  pages.addr = addr;
  pages.len = size;
  pages.extra = extra;
  pages.prot = readonly ? 1 : 3; /* PROT_READ, PROT_READ | PROT_WRITE: the same values everywhere */
  pages.map_shared = true;
  pages.at_once = !readonly; /* a stale pointer's writes would reach it */
  pages.offset = 0;
  pages.fault.origin = ORIGIN_SHM;
  pages.fault.name = name;
  pages.fault.policy = mmio_fault_policy_of(policy);
  return mmio_mapping_hand_out(env, st, &pages, shared);
}

/* shmSize(name) -> its size in bytes */
napi_value mmio_js_shm_size(napi_env env, napi_callback_info info) {
  napi_value arg, result;
  size_t argc = 1, size = 0;
  char name[256];
  int err;
  CHECK(env, napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  if (argc < 1 || !get_name(env, arg, name, sizeof name)) return NULL;
  if ((err = mmio_os_shm_size(name, &size)) != 0) {
    mmio_throw_system_error(env, err, SHM_SYSCALL, NULL, NULL);
    return NULL;
  }
  CHECK(env, napi_create_double(env, (double)size, &result));
  return result;
}

/* shmRemove(name) */
napi_value mmio_js_shm_remove(napi_env env, napi_callback_info info) {
  napi_value arg;
  size_t argc = 1;
  char name[256];
  int err;
  CHECK(env, napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  if (argc < 1 || !get_name(env, arg, name, sizeof name)) return NULL;
#if defined(_WIN32)
  err = mmio_os_shm_remove(name);
  if (err != 0) mmio_throw_system_error(env, err, "OpenFileMapping", NULL, NULL);
#else
  if ((err = mmio_os_shm_remove(name)) != 0)
    mmio_throw_system_error(env, err, "shm_unlink", NULL, NULL);
#endif
  return NULL;
}
