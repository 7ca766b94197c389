/* System errors as Node names them: see syserr.h. */
#include "syserr.h"

#include <errno.h>
#include <string.h>

typedef struct {
  const char *code;
  const char *message;
  int number;
} syserr_t;

#define UNKNOWN_NUMBER (-4094) /* libuv's UV_UNKNOWN, the same everywhere */

/* libuv's list of system errors, with its texts. A code the platform's
 * errno.h lacks is left out on POSIX; Windows has them all, with libuv's
 * numbers (errno.h there belongs to the C runtime and means nothing to
 * Node). */
#if defined(_WIN32)
#define E(code, message, windows) \
  { #code, message, windows }
#else
#define E(code, message, windows) \
  { #code, message, -(code) }
#endif
static const syserr_t table[] = {
#if defined(_WIN32) || defined(E2BIG)
    E(E2BIG, "argument list too long", -4093),
#endif
#if defined(_WIN32) || defined(EACCES)
    E(EACCES, "permission denied", -4092),
#endif
#if defined(_WIN32) || defined(EADDRINUSE)
    E(EADDRINUSE, "address already in use", -4091),
#endif
#if defined(_WIN32) || defined(EADDRNOTAVAIL)
    E(EADDRNOTAVAIL, "address not available", -4090),
#endif
#if defined(_WIN32) || defined(EAFNOSUPPORT)
    E(EAFNOSUPPORT, "address family not supported", -4089),
#endif
#if defined(_WIN32) || defined(EAGAIN)
    E(EAGAIN, "resource temporarily unavailable", -4088),
#endif
#if defined(_WIN32) || defined(EALREADY)
    E(EALREADY, "connection already in progress", -4084),
#endif
#if defined(_WIN32) || defined(EBADF)
    E(EBADF, "bad file descriptor", -4083),
#endif
#if defined(_WIN32) || defined(EBUSY)
    E(EBUSY, "resource busy or locked", -4082),
#endif
#if defined(_WIN32) || defined(ECANCELED)
    E(ECANCELED, "operation canceled", -4081),
#endif
#if defined(_WIN32) || defined(ECHARSET)
    E(ECHARSET, "invalid Unicode character", -4080),
#endif
#if defined(_WIN32) || defined(ECONNABORTED)
    E(ECONNABORTED, "software caused connection abort", -4079),
#endif
#if defined(_WIN32) || defined(ECONNREFUSED)
    E(ECONNREFUSED, "connection refused", -4078),
#endif
#if defined(_WIN32) || defined(ECONNRESET)
    E(ECONNRESET, "connection reset by peer", -4077),
#endif
#if defined(_WIN32) || defined(EDESTADDRREQ)
    E(EDESTADDRREQ, "destination address required", -4076),
#endif
#if defined(_WIN32) || defined(EEXIST)
    E(EEXIST, "file already exists", -4075),
#endif
#if defined(_WIN32) || defined(EFAULT)
    E(EFAULT, "bad address in system call argument", -4074),
#endif
#if defined(_WIN32) || defined(EFBIG)
    E(EFBIG, "file too large", -4036),
#endif
#if defined(_WIN32) || defined(EHOSTUNREACH)
    E(EHOSTUNREACH, "host is unreachable", -4073),
#endif
#if defined(_WIN32) || defined(EINTR)
    E(EINTR, "interrupted system call", -4072),
#endif
#if defined(_WIN32) || defined(EINVAL)
    E(EINVAL, "invalid argument", -4071),
#endif
#if defined(_WIN32) || defined(EIO)
    E(EIO, "i/o error", -4070),
#endif
#if defined(_WIN32) || defined(EISCONN)
    E(EISCONN, "socket is already connected", -4069),
#endif
#if defined(_WIN32) || defined(EISDIR)
    E(EISDIR, "illegal operation on a directory", -4068),
#endif
#if defined(_WIN32) || defined(ELOOP)
    E(ELOOP, "too many symbolic links encountered", -4067),
#endif
#if defined(_WIN32) || defined(EMFILE)
    E(EMFILE, "too many open files", -4066),
#endif
#if defined(_WIN32) || defined(EMSGSIZE)
    E(EMSGSIZE, "message too long", -4065),
#endif
#if defined(_WIN32) || defined(ENAMETOOLONG)
    E(ENAMETOOLONG, "name too long", -4064),
#endif
#if defined(_WIN32) || defined(ENETDOWN)
    E(ENETDOWN, "network is down", -4063),
#endif
#if defined(_WIN32) || defined(ENETUNREACH)
    E(ENETUNREACH, "network is unreachable", -4062),
#endif
#if defined(_WIN32) || defined(ENFILE)
    E(ENFILE, "file table overflow", -4061),
#endif
#if defined(_WIN32) || defined(ENOBUFS)
    E(ENOBUFS, "no buffer space available", -4060),
#endif
#if defined(_WIN32) || defined(ENODEV)
    E(ENODEV, "no such device", -4059),
#endif
#if defined(_WIN32) || defined(ENOENT)
    E(ENOENT, "no such file or directory", -4058),
#endif
#if defined(_WIN32) || defined(ENOMEM)
    E(ENOMEM, "not enough memory", -4057),
#endif
#if defined(_WIN32) || defined(ENONET)
    E(ENONET, "machine is not on the network", -4056),
#endif
#if defined(_WIN32) || defined(ENOPROTOOPT)
    E(ENOPROTOOPT, "protocol not available", -4035),
#endif
#if defined(_WIN32) || defined(ENOSPC)
    E(ENOSPC, "no space left on device", -4055),
#endif
#if defined(_WIN32) || defined(ENOSYS)
    E(ENOSYS, "function not implemented", -4054),
#endif
#if defined(_WIN32) || defined(ENOTCONN)
    E(ENOTCONN, "socket is not connected", -4053),
#endif
#if defined(_WIN32) || defined(ENOTDIR)
    E(ENOTDIR, "not a directory", -4052),
#endif
#if defined(_WIN32) || defined(ENOTEMPTY)
    E(ENOTEMPTY, "directory not empty", -4051),
#endif
#if defined(_WIN32) || defined(ENOTSOCK)
    E(ENOTSOCK, "socket operation on non-socket", -4050),
#endif
#if defined(_WIN32) || defined(ENOTSUP)
    E(ENOTSUP, "operation not supported on socket", -4049),
#endif
#if defined(_WIN32) || defined(EOVERFLOW)
    E(EOVERFLOW, "value too large for defined data type", -4026),
#endif
#if defined(_WIN32) || defined(EPERM)
    E(EPERM, "operation not permitted", -4048),
#endif
#if defined(_WIN32) || defined(EPIPE)
    E(EPIPE, "broken pipe", -4047),
#endif
#if defined(_WIN32) || defined(EPROTO)
    E(EPROTO, "protocol error", -4046),
#endif
#if defined(_WIN32) || defined(EPROTONOSUPPORT)
    E(EPROTONOSUPPORT, "protocol not supported", -4045),
#endif
#if defined(_WIN32) || defined(EPROTOTYPE)
    E(EPROTOTYPE, "protocol wrong type for socket", -4044),
#endif
#if defined(_WIN32) || defined(ERANGE)
    E(ERANGE, "result too large", -4034),
#endif
#if defined(_WIN32) || defined(EROFS)
    E(EROFS, "read-only file system", -4043),
#endif
#if defined(_WIN32) || defined(ESHUTDOWN)
    E(ESHUTDOWN, "cannot send after transport endpoint shutdown", -4042),
#endif
#if defined(_WIN32) || defined(ESPIPE)
    E(ESPIPE, "invalid seek", -4041),
#endif
#if defined(_WIN32) || defined(ESRCH)
    E(ESRCH, "no such process", -4040),
#endif
#if defined(_WIN32) || defined(ETIMEDOUT)
    E(ETIMEDOUT, "connection timed out", -4039),
#endif
#if defined(_WIN32) || defined(ETXTBSY)
    E(ETXTBSY, "text file is busy", -4038),
#endif
#if defined(_WIN32) || defined(EXDEV)
    E(EXDEV, "cross-device link not permitted", -4037),
#endif
#if defined(_WIN32) || defined(ENXIO)
    E(ENXIO, "no such device or address", -4033),
#endif
#if defined(_WIN32) || defined(EMLINK)
    E(EMLINK, "too many links", -4032),
#endif
#if defined(_WIN32) || defined(EHOSTDOWN)
    E(EHOSTDOWN, "host is down", -4031),
#endif
#if defined(_WIN32) || defined(EREMOTEIO)
    E(EREMOTEIO, "remote I/O error", -4030),
#endif
#if defined(_WIN32) || defined(ENOTTY)
    E(ENOTTY, "inappropriate ioctl for device", -4029),
#endif
#if defined(_WIN32) || defined(EFTYPE)
    E(EFTYPE, "inappropriate file type or format", -4028),
#endif
#if defined(_WIN32) || defined(EILSEQ)
    E(EILSEQ, "illegal byte sequence", -4027),
#endif
#if defined(_WIN32) || defined(ESOCKTNOSUPPORT)
    E(ESOCKTNOSUPPORT, "socket type not supported", -4025),
#endif
#if defined(_WIN32) || defined(ENODATA)
    E(ENODATA, "no data available", -4024),
#endif
#if defined(_WIN32) || defined(EUNATCH)
    E(EUNATCH, "protocol driver not attached", -4023),
#endif
    {"UNKNOWN", "unknown error", UNKNOWN_NUMBER},
};
#undef E

#define COUNT (sizeof table / sizeof table[0])

int mmio_syserr_number(const char *code) {
  unsigned i;
  for (i = 0; i < COUNT; i++)
    if (strcmp(table[i].code, code) == 0) return table[i].number;
  return UNKNOWN_NUMBER;
}

static const syserr_t *find(int number) {
  unsigned i;
  for (i = 0; i < COUNT; i++)
    if (table[i].number == number) return &table[i];
  return &table[COUNT - 1];
}

const char *mmio_syserr_code(int number) { return find(number)->code; }

const char *mmio_syserr_message(int number) { return find(number)->message; }

int mmio_syserr_entry(unsigned i, const char **code, const char **message, int *number) {
  if (i >= COUNT) return 0;
  *code = table[i].code;
  *message = table[i].message;
  *number = table[i].number;
  return 1;
}
