{
  "targets": [
    {
      "target_name": "mmap_io",
      "sources": ["src/module.c", "src/calls.c", "src/jobs.c", "src/mapping.c", "src/views.c", "src/budget.c", "src/errors.c", "src/syserr.c", "src/shm.c", "src/registry.c", "src/range.c", "src/fault.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags!": ["-fno-exceptions"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"],
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES"
      },
      "conditions": [
        ["OS=='win'", { "sources": ["src/os_win.c"] }, { "sources": ["src/os_posix.c", "src/os_guard_posix.c"] }]
      ]
    }
  ]
}
