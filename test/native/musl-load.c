/*
 * Test-only (test/musl.js): loads a musl prebuild where no musl Node runs.
 *
 *   musl-load <addon.node>
 *
 * Linked against musl and started with musl's dynamic loader, it dlopen()s
 * the addon with RTLD_NOW: every symbol the addon needs must resolve, from
 * musl or from this program, which exports (-rdynamic) the Node-API
 * functions as stand-ins. The ones below keep just enough state to let
 * napi_register_module_v1 run to its end and to print what it registers on
 * `exports`; every other Node-API function is a stub (written by
 * test/musl.js from node-api-headers' list) that fails if called.
 * Exits 0 only if the addon loaded, registered without a failure, and
 * returned `exports`.
 */
#include <dlfcn.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stand-in for a JavaScript value: what it is and, for an object or an
 * array, how many properties were set on it. */
struct napi_value__ {
  const char *kind;
  unsigned properties;
};

static struct napi_value__ exports_value = {"object", 0};
static int failures;

static napi_value make(const char *kind) {
  napi_value v = calloc(1, sizeof *v);
  if (v == NULL) abort();
  v->kind = kind;
  return v;
}

#define MAKE(kind) (*result = make(kind), napi_ok)

/* A name set on `exports`: printed with its kind. */
static void registered(napi_value object, const char *name, napi_value value) {
  object->properties++;
  if (object == &exports_value) printf("  %s: %s\n", name, value->kind);
}

napi_status napi_create_object(napi_env env, napi_value *result) {
  (void)env;
  return MAKE("object");
}
napi_status napi_create_array(napi_env env, napi_value *result) {
  (void)env;
  return MAKE("array");
}
napi_status napi_create_array_with_length(napi_env env, size_t length, napi_value *result) {
  (void)env, (void)length;
  return MAKE("array");
}
napi_status napi_create_double(napi_env env, double value, napi_value *result) {
  (void)env, (void)value;
  return MAKE("number");
}
napi_status napi_create_int32(napi_env env, int32_t value, napi_value *result) {
  (void)env, (void)value;
  return MAKE("number");
}
napi_status napi_create_uint32(napi_env env, uint32_t value, napi_value *result) {
  (void)env, (void)value;
  return MAKE("number");
}
napi_status napi_create_int64(napi_env env, int64_t value, napi_value *result) {
  (void)env, (void)value;
  return MAKE("number");
}
napi_status napi_get_boolean(napi_env env, bool value, napi_value *result) {
  (void)env, (void)value;
  return MAKE("boolean");
}
napi_status napi_create_string_utf8(napi_env env, const char *str, size_t length,
                                    napi_value *result) {
  (void)env, (void)str, (void)length;
  return MAKE("string");
}
napi_status napi_set_named_property(napi_env env, napi_value object, const char *name,
                                    napi_value value) {
  (void)env;
  registered(object, name, value);
  return napi_ok;
}
napi_status napi_set_property(napi_env env, napi_value object, napi_value key, napi_value value) {
  (void)env, (void)key, (void)value;
  object->properties++;
  return napi_ok;
}
napi_status napi_set_element(napi_env env, napi_value object, uint32_t index, napi_value value) {
  (void)env, (void)index, (void)value;
  object->properties++;
  return napi_ok;
}
napi_status napi_define_properties(napi_env env, napi_value object, size_t property_count,
                                   const napi_property_descriptor *properties) {
  (void)env;
  for (size_t i = 0; i < property_count; i++) {
    const napi_property_descriptor *p = &properties[i];
    if (p->utf8name == NULL || p->method == NULL) return napi_invalid_arg;
    object->properties++;
    if (object == &exports_value) printf("  %s: function\n", p->utf8name);
  }
  return napi_ok;
}

/* A global object with nothing on it: the addon asks it which runtime this
 * is (Bun, Deno) and whether ArrayBuffer.prototype.transfer exists. */
napi_status napi_get_global(napi_env env, napi_value *result) {
  (void)env;
  return MAKE("object");
}
napi_status napi_has_named_property(napi_env env, napi_value object, const char *name,
                                    bool *result) {
  (void)env, (void)object, (void)name;
  *result = false;
  return napi_ok;
}
napi_status napi_get_named_property(napi_env env, napi_value object, const char *name,
                                    napi_value *result) {
  (void)env, (void)object, (void)name;
  return MAKE("undefined");
}
napi_status napi_typeof(napi_env env, napi_value value, napi_valuetype *result) {
  (void)env, (void)value;
  *result = napi_undefined;
  return napi_ok;
}

static void *instance_data;
napi_status napi_set_instance_data(napi_env env, void *data, napi_finalize finalize_cb,
                                   void *finalize_hint) {
  (void)env, (void)finalize_cb, (void)finalize_hint;
  instance_data = data;
  return napi_ok;
}
napi_status napi_get_instance_data(napi_env env, void **data) {
  (void)env;
  *data = instance_data;
  return napi_ok;
}
napi_status napi_add_env_cleanup_hook(napi_env env, napi_cleanup_hook fun, void *arg) {
  (void)env, (void)fun, (void)arg;
  return napi_ok;
}

/* The calls that report a failure: counted, so that the run fails. */
napi_status napi_throw_error(napi_env env, const char *code, const char *msg) {
  (void)env;
  fprintf(stderr, "napi_throw_error(%s, %s)\n", code ? code : "NULL", msg);
  failures++;
  return napi_ok;
}
napi_status napi_throw_type_error(napi_env env, const char *code, const char *msg) {
  return napi_throw_error(env, code, msg);
}
napi_status napi_is_exception_pending(napi_env env, bool *result) {
  (void)env;
  *result = failures > 0;
  return napi_ok;
}

/* Called by the generated stubs (test/musl.js). */
int musl_load_unexpected(const char *name) {
  fprintf(stderr, "the addon called %s, which this harness does not provide\n", name);
  failures++;
  return napi_generic_failure;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <addon.node>\n", argv[0]);
    return 2;
  }
  void *addon = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (addon == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  printf("dlopen(RTLD_NOW): every symbol of %s resolved\n", argv[1]);
  int32_t (*version)(void) = (int32_t(*)(void))dlsym(addon, "node_api_module_get_api_version_v1");
  napi_value (*init)(napi_env, napi_value) =
      (napi_value(*)(napi_env, napi_value))dlsym(addon, "napi_register_module_v1");
  if (version == NULL || init == NULL) {
    fprintf(stderr, "the addon lacks Node-API's entry points\n");
    return 1;
  }
  printf("node_api_module_get_api_version_v1() = %d\n", (int)version());
  printf("napi_register_module_v1 registers:\n");
  /* A non-null environment that no function above reads. */
  static int env_tag;
  napi_value result = init((napi_env)&env_tag, &exports_value);
  printf("%u properties on exports\n", exports_value.properties);
  if (result != &exports_value || failures) {
    fprintf(stderr, "napi_register_module_v1 failed (%d failures)\n", failures);
    return 1;
  }
  return 0;
}
