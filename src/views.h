/*
 * Resolving what JavaScript passes as a view (Buffer, TypedArray, DataView)
 * to the mapping it lies in, from what the engine says about the view (its
 * data pointer, length and ArrayBuffer), never from properties that user
 * code can redefine.
 */
#ifndef MMAP_IO_VIEWS_H
#define MMAP_IO_VIEWS_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mapping.h"

typedef struct {
  napi_value arraybuffer;
  uint8_t *data;      /* first byte of the view */
  size_t len;         /* its length in bytes */
  mapping_t *mapping; /* the live mapping of this environment it lies in, or NULL */
  bool released;      /* it lies in a SharedArrayBuffer mapping that unmap()
                         released (such views cannot be detached) */
} view_t;

/* Fill `view` from a TypedArray or DataView; false with a TypeError pending
 * when `value` is neither. */
bool mmio_get_view(napi_env env, napi_value value, view_t *view);

/* A call on a byte range of a live mapping: args[0..2] are (view, offset,
 * length), further arguments follow. */
typedef struct {
  napi_value args[6];
  view_t view;
  mapping_t *m;
  uint8_t *base;      /* the mapping's first byte */
  size_t mapping_len; /* and its length */
  int64_t offset;     /* as given, for error messages */
  uint8_t *first;     /* the range's first byte */
  uint8_t *start;     /* its page */
  size_t len;         /* from start to the end of the range; 0 for none */
} call_t;

/* TypeError ERR_INVALID_ARG_VALUE: `view` is not of a live mapping. The
 * message says which case the caller is in: its memory was unmapped (or
 * moved by remap(), or transferred away), or it was never a mapping. */
void mmio_throw_not_live(napi_env env, const view_t *view);

/* False with ERR_MMAP_IO_FAULT pending when the mapping saw a fault
 * (fault.h): then it refuses every call but unmap(). */
bool mmio_check_no_fault(napi_env env, const mapping_t *m);

/* Read `argc` arguments and resolve the range; false with an exception
 * pending when the view is not of a live mapping, the mapping saw a fault,
 * or the range leaves it. */
bool mmio_begin(napi_env env, napi_callback_info info, size_t argc, call_t *c);
/* The same for a range that may go on past the view to the end of the
 * mapping's last page (advise(), as 1.x took its ranges). */
bool mmio_begin_in_pages(napi_env env, napi_callback_info info, size_t argc, call_t *c);

/* For calls that change whole pages (advice that discards data,
 * protection): the range must start on a page and end on one, or at the end
 * of the mapping when `to_end_ok` (the rest of that last page is past the
 * ArrayBuffer, out of every view's reach). False with a RangeError pending
 * otherwise. */
bool mmio_check_whole_pages(napi_env env, const call_t *c, bool to_end_ok, const char *what);

size_t mmio_pages_of(size_t len);

#endif
