/*
 * Errors thrown to JavaScript, in the shapes of Node's own: argument errors
 * with Node's codes, and system errors shaped like fs errors (code, errno,
 * syscall; message "<CODE>: <description>, <syscall>").
 */
#ifndef MMAP_IO_ERRORS_H
#define MMAP_IO_ERRORS_H

#include <node_api.h>
#include <stdint.h>

/* Throw an Error for the last failed Node-API call, unless one is pending. */
void mmio_throw_napi_failure(napi_env env);

/* Evaluate a Node-API call; on failure throw and return NULL from the
 * enclosing napi_callback. */
#define CHECK(env, call)            \
  do {                              \
    if ((call) != napi_ok) {        \
      mmio_throw_napi_failure(env); \
      return NULL;                  \
    }                               \
  } while (0)

/* A system error for libuv error number `err` from `syscall`. `description`
 * replaces the standard text when not NULL; `hint` is added after it in
 * parentheses when not NULL. NULL when the error could not be made. */
napi_value mmio_system_error(napi_env env, int err, const char *syscall, const char *description,
                             const char *hint);
void mmio_throw_system_error(napi_env env, int err, const char *syscall, const char *description,
                             const char *hint);

/* ERR_MMAP_IO_FAULT for the first fault recorded in fault slot `slot`
 * (fault.h): its explanation, with `path` (open(); shm: the name) or `fd`
 * (map()), `offset` in the file, `index` in the Buffer, `reason`, `access`,
 * `signal`, and `faults` (how many). NULL when it could not be made. */
napi_value mmio_fault_error(napi_env env, int slot);
/* The faults recorded in `slot`, as an array of { signal, reason, access,
 * offset, index, size } (size: the file's when known, else undefined). */
napi_value mmio_fault_list(napi_env env, int slot);

/* RangeError ERR_OUT_OF_RANGE with Node's message for `name`. */
void mmio_throw_out_of_range(napi_env env, const char *name, const char *range, int64_t received);

#endif
