/*
 * System errors as Node names them: for each, the code ('ENOENT'), the text
 * ('no such file or directory') and the number Node gives it (err.errno,
 * which util.getSystemErrorName() maps back to the code): -errno on POSIX,
 * libuv's own numbers on Windows. Written here rather than asked of libuv
 * (uv_err_name, uv_strerror, uv_translate_sys_error), which Bun and Deno do
 * not have: the addon needs nothing beyond Node-API.
 */
#ifndef MMAP_IO_SYSERR_H
#define MMAP_IO_SYSERR_H

/* The number Node gives `code`, or UNKNOWN's when the table lacks it. */
int mmio_syserr_number(const char *code);
/* The code and text for a number; UNKNOWN's for one the table lacks. */
const char *mmio_syserr_code(int number);
const char *mmio_syserr_message(int number);

/* For the tests: the i-th entry (0 when past the end). */
int mmio_syserr_entry(unsigned i, const char **code, const char **message, int *number);

#endif
