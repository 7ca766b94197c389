{
  "targets": [
    {
      "target_name": "mmap_io",
      "sources": ["src/module.c", "src/calls.c", "src/jobs.c", "src/mapping.c", "src/views.c", "src/budget.c", "src/errors.c", "src/syserr.c", "src/shm.c", "src/registry.c", "src/range.c", "src/fault.c"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS=='win'", { "sources": ["src/os_win.c"] }, { "sources": ["src/os_posix.c", "src/os_guard_posix.c"] }],
        ["OS!='win'", {
          "cflags": ["-std=c11", "-Wall", "-Wextra"],
          "cflags!": ["-fno-exceptions"],
          "xcode_settings": {
            "OTHER_CFLAGS": ["-std=c11", "-Wall", "-Wextra"]
          }
        }]
      ]
    }
  ]
}
