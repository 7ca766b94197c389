/* The prebuilt Linux binaries load on glibc 2.28 and later: the oldest
 * glibc that Node 18's own binaries run on (RHEL 8, Debian 10, Ubuntu 20.04).
 * They are built on a newer glibc, which gives dlsym, dlopen, dladdr, shm_open, shm_unlink
 * (2.34, moved into libc), fstat and stat (2.33, were inline wrappers) new symbol
 * versions that an older loader refuses; scripts/prebuilds.js checks the
 * versions the binaries need. Included by os_posix.c and os_guard_posix.c, after the system
 * headers. */
#ifndef MMAP_IO_GLIBC_COMPAT_H
#define MMAP_IO_GLIBC_COMPAT_H

#if defined(__linux__) && defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))

#include <limits.h>
#include <sys/syscall.h>

/* dlsym, dlopen, dladdr: the versions they had before 2.34 (the
 * architecture's first). */
#if defined(__x86_64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.2.5");
__asm__(".symver dlopen, dlopen@GLIBC_2.2.5");
__asm__(".symver dladdr, dladdr@GLIBC_2.2.5");
#elif defined(__aarch64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.17");
__asm__(".symver dlopen, dlopen@GLIBC_2.17");
__asm__(".symver dladdr, dladdr@GLIBC_2.17");
#endif

/* fstat: the system call itself. The kernel's struct stat is glibc's on
 * the 64-bit architectures we build for (x86_64, aarch64). */
static inline int compat_fstat(int fd, struct stat *st) { return (int)syscall(SYS_fstat, fd, st); }
#define fstat(fd, st) compat_fstat(fd, st)
/* stat: the same, by path (fstatat; no architecture we build for lacks it). */
static inline int compat_stat(const char *path, struct stat *st) {
  return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, 0);
}
#define stat(path, st) compat_stat(path, st)

/* shm_open and shm_unlink: what glibc itself does, a file in /dev/shm
 * opened without following a link. The name is "/" + a name that lib/ has
 * checked (letters, digits, '.', '_', '-'). */
static inline int compat_shm_path(const char *name, char *path, size_t size) {
  if (name[0] != '/' || name[1] == '\0' || strchr(name + 1, '/') != NULL) {
    errno = EINVAL;
    return -1;
  }
  if ((size_t)snprintf(path, size, "/dev/shm%s", name) >= size) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}
static inline int compat_shm_open(const char *name, int flags, mode_t mode) {
  char path[PATH_MAX];
  if (compat_shm_path(name, path, sizeof path) != 0) return -1;
  return open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode);
}
static inline int compat_shm_unlink(const char *name) {
  char path[PATH_MAX];
  if (compat_shm_path(name, path, sizeof path) != 0) return -1;
  return unlink(path);
}
#define shm_open(name, flags, mode) compat_shm_open(name, flags, mode)
#define shm_unlink(name) compat_shm_unlink(name)

#endif
#endif
