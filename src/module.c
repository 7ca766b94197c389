/*
 * mmap-io: the module's exports. The functions are in calls.c (synchronous)
 * and jobs.c (threadpool), mappings and their Buffers in mapping.c, the
 * address ranges they live in (and the invariant) in range.c, the process's
 * mapping budget in budget.c, the OS behind os.h.
 */
#include <node_api.h>

#include "api.h"
#include "errors.h"
#include "mapping.h"
#include "syserr.h"

static bool set_number(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok &&
         napi_set_named_property(env, obj, name, v) == napi_ok;
}

static napi_value make_constants(napi_env env) {
  napi_value obj;
  const os_constant_t *c;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  for (c = mmio_os_constants; c->name != NULL; c++)
    if (!set_number(env, obj, c->name, (double)c->value)) return NULL;
  if (!set_number(env, obj, "PAGESIZE", (double)mmio_page_size) ||
      !set_number(env, obj, "ALLOCATIONGRANULARITY", (double)mmio_os_granularity()))
    return NULL;
  return obj;
}

/* { [advice]: kind } for the MADV_* constants: lib/ checks whole pages for
 * open()'s advice before it opens the file. */
static napi_value make_advice_kinds(napi_env env) {
  napi_value obj, v;
  const os_constant_t *c;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  for (c = mmio_os_constants; c->name != NULL; c++) {
    if (c->name[0] != 'M' || c->name[1] != 'A' || c->name[2] != 'D' || c->name[3] != 'V') continue;
    napi_value key;
    if (napi_create_int32(env, c->kind, &v) != napi_ok ||
        napi_create_int64(env, c->value, &key) != napi_ok ||
        napi_set_property(env, obj, key, v) != napi_ok)
      return NULL;
  }
  return obj;
}

/* { [name]: [value, reason] }: the MAP_* flags map() refuses, so that its
 * error names the flag and says why. */
static napi_value make_refused_flags(napi_env env) {
  napi_value obj, entry, v;
  const os_refused_t *r;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  for (r = mmio_os_refused_flags; r->name != NULL; r++) {
    if (napi_create_array_with_length(env, 2, &entry) != napi_ok ||
        napi_create_int64(env, r->value, &v) != napi_ok ||
        napi_set_element(env, entry, 0, v) != napi_ok ||
        napi_create_string_utf8(env, r->reason, NAPI_AUTO_LENGTH, &v) != napi_ok ||
        napi_set_element(env, entry, 1, v) != napi_ok ||
        napi_set_named_property(env, obj, r->name, entry) != napi_ok)
      return NULL;
  }
  return obj;
}

/* [[errno, code, message], ...]: the system errors the addon names
 * (syserr.c), for the test that compares them with Node's own. */
static napi_value make_system_errors(napi_env env) {
  napi_value list, entry, v;
  const char *code, *message;
  int number;
  unsigned i;
  if (napi_create_array(env, &list) != napi_ok) return NULL;
  for (i = 0; mmio_syserr_entry(i, &code, &message, &number); i++) {
    if (napi_create_array_with_length(env, 3, &entry) != napi_ok ||
        napi_create_int32(env, number, &v) != napi_ok ||
        napi_set_element(env, entry, 0, v) != napi_ok ||
        napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &v) != napi_ok ||
        napi_set_element(env, entry, 1, v) != napi_ok ||
        napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &v) != napi_ok ||
        napi_set_element(env, entry, 2, v) != napi_ok ||
        napi_set_element(env, list, i, entry) != napi_ok)
      return NULL;
  }
  return list;
}

static napi_value make_features(napi_env env) {
  os_feature_t features[16];
  size_t n = mmio_os_features(features, sizeof features / sizeof features[0]), i;
  napi_value obj, v;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  for (i = 0; i < n; i++) {
    if (napi_get_boolean(env, features[i].supported != 0, &v) != napi_ok ||
        napi_set_named_property(env, obj, features[i].name, v) != napi_ok)
      return NULL;
  }
  /* What the runtime offers: SharedArrayBuffer mappings. */
  if (napi_get_boolean(env, mmio_mapping_shared_supported(), &v) != napi_ok ||
      napi_set_named_property(env, obj, "sharedArrayBuffer", v) != napi_ok)
    return NULL;
  return obj;
}

static void finalize_state(napi_env env, void *data, void *hint) {
  (void)hint;
  mmio_mapping_teardown(env, data);
}

/* setup(worker[, disposeKey, dispose, asyncDisposeKey, asyncDispose]):
 * lib/ says whether this environment is a worker thread's (whose end
 * mmap-io must tell apart from the process's), and gives the methods that
 * `using` and `await using` call, where the runtime has those symbols. */
static napi_value js_setup(napi_env env, napi_callback_info info) {
  napi_value args[5];
  size_t argc = 5;
  bool worker = false;
  env_state_t *st;
  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc != 1 && argc != 5) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "setup() takes 1 or 5 arguments");
    return NULL;
  }
  CHECK(env, napi_get_value_bool(env, args[0], &worker));
  CHECK(env, napi_get_instance_data(env, (void **)&st));
  if (argc == 5) {
    /* Two (symbol, function) pairs, checked here: a key that is not a
     * symbol could make every Buffer's properties fail. */
    napi_valuetype types[4];
    int i;
    for (i = 0; i < 4; i++) CHECK(env, napi_typeof(env, args[1 + i], &types[i]));
    if (types[0] != napi_symbol || types[1] != napi_function || types[2] != napi_symbol ||
        types[3] != napi_function) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                            "setup() takes (worker, symbol, function, symbol, function)");
      return NULL;
    }
    if (!mmio_mapping_set_disposers(env, st, args + 1)) {
      mmio_throw_napi_failure(env);
      return NULL;
    }
  }
  mmio_mapping_set_worker(st, worker);
  return NULL;
}

#define FUNCTION(name, fn) \
  { name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL }

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  env_state_t *st;
  napi_value constants, features, kinds, errors, refused, batch;
  napi_property_descriptor functions[] = {
      FUNCTION("setup", js_setup),
      FUNCTION("map", mmio_js_map),
      FUNCTION("unmap", mmio_js_unmap),
      FUNCTION("advise", mmio_js_advise),
      FUNCTION("sync", mmio_js_sync),
      FUNCTION("incore", mmio_js_incore),
      FUNCTION("residency", mmio_js_residency),
      FUNCTION("lock", mmio_js_lock),
      FUNCTION("unlock", mmio_js_unlock),
      FUNCTION("protect", mmio_js_protect),
      FUNCTION("fadvise", mmio_js_fadvise),
      FUNCTION("poll", mmio_js_poll),
      FUNCTION("guarded", mmio_js_guarded),
      FUNCTION("mapShared", mmio_js_map_shared),
      FUNCTION("reserved", mmio_js_reserved),
      FUNCTION("remap", mmio_js_remap),
      FUNCTION("sentinel", mmio_js_sentinel),
      FUNCTION("faults", mmio_js_faults),
      FUNCTION("setFaultPolicy", mmio_js_set_fault_policy),
      FUNCTION("shmMap", mmio_js_shm_map),
      FUNCTION("shmSize", mmio_js_shm_size),
      FUNCTION("shmRemove", mmio_js_shm_remove),
      FUNCTION("syncAsync", mmio_js_sync_async),
      FUNCTION("prefetchAsync", mmio_js_prefetch_async),
      FUNCTION("residencyAsync", mmio_js_residency_async),
  };

  mmio_mapping_init(env);
  if ((st = mmio_env_state_new(env)) == NULL) {
    napi_throw_error(env, "ENOMEM", "mmap-io: out of memory");
    return NULL;
  }
  if (napi_set_instance_data(env, st, finalize_state, NULL) != napi_ok) {
    mmio_mapping_teardown(env, st);
    mmio_throw_napi_failure(env);
    return NULL;
  }
  CHECK(env,
        napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions));
  if ((constants = make_constants(env)) == NULL || (features = make_features(env)) == NULL ||
      (kinds = make_advice_kinds(env)) == NULL || (errors = make_system_errors(env)) == NULL ||
      (refused = make_refused_flags(env)) == NULL) {
    mmio_throw_napi_failure(env);
    return NULL;
  }
  CHECK(env, napi_set_named_property(env, exports, "constants", constants));
  CHECK(env, napi_set_named_property(env, exports, "features", features));
  CHECK(env, napi_set_named_property(env, exports, "adviceKinds", kinds));
  CHECK(env, napi_set_named_property(env, exports, "systemErrors", errors));
  CHECK(env, napi_set_named_property(env, exports, "refusedFlags", refused));
  CHECK(env, napi_create_uint32(env, RANGE_BATCH, &batch));
  CHECK(env, napi_set_named_property(env, exports, "deferBatch", batch));
  CHECK(env, napi_create_double(env, (double)RANGE_BATCH_MAX_SPAN, &batch));
  CHECK(env, napi_set_named_property(env, exports, "deferMaxSpan", batch));
  return exports;
}
