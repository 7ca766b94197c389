/*
 * Work on the libuv threadpool (promises.sync, prefetch, residency). Each
 * job pins its mapping's range (range.h): unmap() or remap() during it
 * detaches every view at once, and the file's pages stay in that range until
 * the job is done, so a queued sync still syncs them.
 */
#include <stdlib.h>

#include "api.h"
#include "errors.h"
#include "syserr.h"
#include "mapping.h"
#include "views.h"

typedef enum { JOB_SYNC, JOB_PREFETCH, JOB_RESIDENCY } job_kind_t;

typedef struct {
  job_kind_t kind;
  napi_async_work work;
  napi_deferred deferred;
  napi_ref view;    /* keeps the ArrayBuffer, and so the mapping, alive */
  napi_ref result;  /* the residency array, or NULL */
  call_t call;      /* start/len; its napi_values and mapping are not used off-thread */
  pin_t pin;        /* the range it works on, whatever becomes of the mapping */
  os_extra_t extra; /* the range's (Windows: the file handle that sync flushes) */
  bool invalidate;
  unsigned char *vec; /* the residency array's bytes */
  int err;
} job_t;

static const char *job_syscalls[] = {"msync", "madvise", "mincore"};

/* On a threadpool thread: system calls only, no Node-API. */
static void job_execute(napi_env env, void *data) {
  job_t *job = data;
  call_t *c = &job->call;
  size_t i, pages;
  (void)env;
  if (c->len == 0) return;
  switch (job->kind) {
    case JOB_SYNC:
      job->err = mmio_os_sync(c->start, c->len, 1, job->invalidate, &job->extra);
      break;
    case JOB_PREFETCH: job->err = mmio_os_prefetch(c->start, c->len); break;
    case JOB_RESIDENCY:
      pages = mmio_pages_of(c->len);
      job->err = mmio_os_incore(c->start, c->len, job->vec);
      for (i = 0; job->err == 0 && i < pages; i++) job->vec[i] &= 1;
      break;
  }
}

/* Back on the environment's thread. */
static void job_complete(napi_env env, napi_status status, void *data) {
  job_t *job = data;
  napi_value value = NULL;

  mmio_mapping_unpin(job->pin);
  if (status == napi_cancelled) job->err = mmio_syserr_number("ECANCELED");
  if (job->err != 0) {
    value = mmio_system_error(env, job->err, job_syscalls[job->kind], NULL, NULL);
    if (value != NULL) napi_reject_deferred(env, job->deferred, value);
  } else {
    if (job->result == NULL) napi_get_undefined(env, &value);
    else napi_get_reference_value(env, job->result, &value);
    if (value != NULL) napi_resolve_deferred(env, job->deferred, value);
  }
  /* A promise left unsettled here means the environment is going away. */
  napi_delete_reference(env, job->view);
  if (job->result != NULL) napi_delete_reference(env, job->result);
  napi_delete_async_work(env, job->work);
  free(job);
}

/* Start `job` on the range in job->call; returns the promise. */
static napi_value start_job(napi_env env, job_t *job, napi_value result) {
  napi_value promise = NULL, name;
  job->deferred = NULL;
  if (napi_create_string_utf8(env, "mmap-io", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_reference(env, job->call.args[0], 1, &job->view) != napi_ok)
    goto fail;
  if (result != NULL && napi_create_reference(env, result, 1, &job->result) != napi_ok) goto fail;
  if (napi_create_async_work(env, NULL, name, job_execute, job_complete, job, &job->work) !=
      napi_ok)
    goto fail;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    goto fail;
  }
  job->extra = *mmio_mapping_extra(job->call.m);
  job->pin = mmio_mapping_pin(job->call.m);
  return promise;

fail:
  mmio_throw_napi_failure(env);
  if (job->view != NULL) napi_delete_reference(env, job->view);
  if (job->result != NULL) napi_delete_reference(env, job->result);
  /* A promise created but not handed out is simply dropped. */
  free(job);
  return NULL;
}

static job_t *new_job(napi_env env, napi_callback_info info, size_t argc, job_kind_t kind) {
  job_t *job = calloc(1, sizeof *job);
  if (job == NULL) {
    mmio_throw_system_error(env, mmio_syserr_number("ENOMEM"), job_syscalls[kind], NULL, NULL);
    return NULL;
  }
  job->kind = kind;
  if (!mmio_begin(env, info, argc, &job->call)) {
    free(job);
    return NULL;
  }
  return job;
}

/* syncAsync(view, offset, length, invalidate) -> Promise<undefined> */
napi_value mmio_js_sync_async(napi_env env, napi_callback_info info) {
  job_t *job = new_job(env, info, 4, JOB_SYNC);
  bool invalidate;
  if (job == NULL) return NULL;
  if (napi_get_value_bool(env, job->call.args[3], &invalidate) != napi_ok) {
    free(job);
    mmio_throw_napi_failure(env);
    return NULL;
  }
  job->invalidate = invalidate;
  return start_job(env, job, NULL);
}

/* prefetchAsync(view, offset, length) -> Promise<undefined> */
napi_value mmio_js_prefetch_async(napi_env env, napi_callback_info info) {
  job_t *job = new_job(env, info, 3, JOB_PREFETCH);
  return job == NULL ? NULL : start_job(env, job, NULL);
}

/* residencyAsync(view, offset, length) -> Promise<Uint8Array> */
napi_value mmio_js_residency_async(napi_env env, napi_callback_info info) {
  job_t *job = new_job(env, info, 3, JOB_RESIDENCY);
  napi_value array;
  if (job == NULL) return NULL;
  array = mmio_new_page_array(env, mmio_pages_of(job->call.len), &job->vec, "mincore");
  if (array == NULL) {
    free(job);
    return NULL;
  }
  return start_job(env, job, array);
}
