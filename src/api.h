/*
 * The functions the addon exports to lib/index.js. lib/ shapes and validates
 * every argument first; these check again only what guards memory.
 */
#ifndef MMAP_IO_API_H
#define MMAP_IO_API_H

#include <node_api.h>

/* calls.c: synchronous */
napi_value mmio_js_map(napi_env env, napi_callback_info info);
napi_value mmio_js_unmap(napi_env env, napi_callback_info info);
napi_value mmio_js_advise(napi_env env, napi_callback_info info);
napi_value mmio_js_sync(napi_env env, napi_callback_info info);
napi_value mmio_js_incore(napi_env env, napi_callback_info info);
napi_value mmio_js_residency(napi_env env, napi_callback_info info);
napi_value mmio_js_lock(napi_env env, napi_callback_info info);
napi_value mmio_js_unlock(napi_env env, napi_callback_info info);
napi_value mmio_js_protect(napi_env env, napi_callback_info info);
napi_value mmio_js_fadvise(napi_env env, napi_callback_info info);
napi_value mmio_js_poll(napi_env env, napi_callback_info info);
napi_value mmio_js_guarded(napi_env env, napi_callback_info info);
napi_value mmio_js_map_shared(napi_env env, napi_callback_info info);
napi_value mmio_js_reserved(napi_env env, napi_callback_info info);
napi_value mmio_js_remap(napi_env env, napi_callback_info info);
napi_value mmio_js_sentinel(napi_env env, napi_callback_info info);
napi_value mmio_js_faults(napi_env env, napi_callback_info info);
napi_value mmio_js_set_fault_policy(napi_env env, napi_callback_info info);

/* shm.c: named shared memory */
napi_value mmio_js_shm_map(napi_env env, napi_callback_info info);
napi_value mmio_js_shm_size(napi_env env, napi_callback_info info);
napi_value mmio_js_shm_remove(napi_env env, napi_callback_info info);

/* jobs.c: on the threadpool, returning promises */
napi_value mmio_js_sync_async(napi_env env, napi_callback_info info);
napi_value mmio_js_prefetch_async(napi_env env, napi_callback_info info);
napi_value mmio_js_residency_async(napi_env env, napi_callback_info info);

/* calls.c: a Uint8Array of `pages` bytes for residency(); *data points at
 * them. NULL with ENOMEM thrown when the memory cannot be had. */
napi_value mmio_new_page_array(napi_env env, size_t pages, unsigned char **data,
                               const char *syscall);
/* The kind of advice `advice` is (os_advice_kind_t), or -1 if unknown. */
int mmio_advice_kind(int advice);

#endif
