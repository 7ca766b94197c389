/* Errors thrown to JavaScript: see errors.h. */
#include "errors.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fault.h"
#include "syserr.h"

void mmio_throw_napi_failure(napi_env env) {
  bool pending = false;
  const napi_extended_error_info *info = NULL;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, "ERR_MMAP_IO_NAPI",
                   info && info->error_message ? info->error_message : "Node-API call failed");
}

napi_value mmio_system_error(napi_env env, int err, const char *syscall, const char *description,
                             const char *hint) {
  char message[768], unknown[64];
  const char *code = mmio_syserr_code(err);
  napi_value error, code_value, message_value, errno_value, syscall_value;

  /* A number Node has no name for is Node's UNKNOWN, with the number said. */
  if (strcmp(code, "UNKNOWN") == 0 && err != mmio_syserr_number("UNKNOWN")) {
    snprintf(unknown, sizeof unknown, "system error %d", err);
    if (hint == NULL) hint = unknown;
    err = mmio_syserr_number("UNKNOWN");
  }
  snprintf(message, sizeof message, "%s: %s%s%s%s, %s", code,
           description ? description : mmio_syserr_message(err), hint ? " (" : "", hint ? hint : "",
           hint ? ")" : "", syscall);
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

void mmio_throw_system_error(napi_env env, int err, const char *syscall, const char *description,
                             const char *hint) {
  napi_value error = mmio_system_error(env, err, syscall, description, hint);
  if (error == NULL || napi_throw(env, error) != napi_ok) mmio_throw_napi_failure(env);
}

/* An integer as Node prints it in range errors: with "_" between groups of
 * three digits above 2^32. */
static void format_integer(char *out, size_t size, int64_t value) {
  char digits[32];
  size_t n = (size_t)snprintf(digits, sizeof digits, "%lld", (long long)value), i, o = 0;
  size_t first = digits[0] == '-' ? 1 : 0;
  bool group = value > ((int64_t)1 << 32) || value < -((int64_t)1 << 32);
  for (i = 0; i < n && o + 2 < size; i++) {
    if (group && i > first && (n - i) % 3 == 0) out[o++] = '_';
    out[o++] = digits[i];
  }
  out[o] = 0;
}

void mmio_throw_out_of_range(napi_env env, const char *name, const char *range, int64_t received) {
  char message[384], number[48];
  format_integer(number, sizeof number, received);
  snprintf(message, sizeof message,
           "The value of \"%s\" is out of range. It must be %s. Received %s", name, range, number);
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
}

/* ---- faults ------------------------------------------------------------------ */

static bool set_string(napi_env env, napi_value object, const char *name, const char *value) {
  napi_value v;
  return napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) == napi_ok &&
         napi_set_named_property(env, object, name, v) == napi_ok;
}

static bool set_number(napi_env env, napi_value object, const char *name, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok &&
         napi_set_named_property(env, object, name, v) == napi_ok;
}

/* signal, reason, access, offset, index, size of one record. */
static bool set_record(napi_env env, napi_value object, const fault_record_t *rec) {
  return set_string(env, object, "signal", mmio_fault_kind_name(rec->kind)) &&
         set_string(env, object, "reason", mmio_fault_cause_name(rec->cause)) &&
         set_string(env, object, "access", mmio_fault_access_name(rec->access)) &&
         set_number(env, object, "offset", (double)rec->offset) &&
         set_number(env, object, "index", (double)rec->index) &&
         (rec->size < 0 || set_number(env, object, "size", (double)rec->size));
}

napi_value mmio_fault_error(napi_env env, int slot) {
  fault_hit_t hit;
  fault_record_t rec;
  char message[1024];
  size_t n;
  napi_value error, code, text;
  if (!mmio_fault_describe(slot, &hit) || mmio_fault_records(slot, &rec, 1) != 1) return NULL;
  n = mmio_fault_format(&hit, &rec, "", message, sizeof message);
  snprintf(message + n, sizeof message - n,
           ". The mapping no longer mirrors %s, and refuses every call but unmap()",
           hit.origin == ORIGIN_SHM ? "the shared memory" : "the file");
  if (napi_create_string_utf8(env, "ERR_MMAP_IO_FAULT", NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text) != napi_ok ||
      napi_create_error(env, code, text, &error) != napi_ok || !set_record(env, error, &rec) ||
      !set_number(env, error, "faults", (double)mmio_fault_count(slot)))
    return NULL;
  switch (hit.origin) {
    case ORIGIN_PATH:
    case ORIGIN_SHM: /* as shm's other errors name it */
      if (!set_string(env, error, "path", hit.name)) return NULL;
      break;
    case ORIGIN_FD:
      if (!set_number(env, error, "fd", (double)hit.fd)) return NULL;
      break;
    default: break;
  }
  return error;
}

napi_value mmio_fault_list(napi_env env, int slot) {
  fault_record_t recs[FAULT_RECORDS];
  size_t n = slot < 0 ? 0 : mmio_fault_records(slot, recs, FAULT_RECORDS), i;
  napi_value list, item;
  if (napi_create_array_with_length(env, n, &list) != napi_ok) return NULL;
  for (i = 0; i < n; i++) {
    if (napi_create_object(env, &item) != napi_ok || !set_record(env, item, &recs[i]) ||
        napi_set_element(env, list, (uint32_t)i, item) != napi_ok)
      return NULL;
  }
  return list;
}
