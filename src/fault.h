/*
 * Faults in live mappings: which mapping a faulting address lies in, what
 * it maps, what the caller asked to happen, and what happened.
 * docs/lifetime.md ("Faults") has the whole story; README the user's.
 *
 * Every live mapping has a slot in one process-wide table (per copy of the
 * addon). The fault handlers (os.h: mmio_os_fault_install) read it inside a
 * signal handler, on whichever thread faulted, while owners change it:
 *   - the table is chunks of slots that are added and never freed, so a
 *     slot's memory is always there to read;
 *   - each slot carries a sequence number, odd while its owner writes it,
 *     so the handler never acts on the base of one mapping and the name of
 *     another (it reads again until the number is even and unchanged);
 *   - the handler writes only a slot's fault count, records (in a ring
 *     tagged with slot and sequence number) and the extent of its
 *     zero-filled tail; it changes a mapping's pages only under the slot's
 *     own flag, after checking the sequence number is still the one it
 *     read, and the owner's mmio_fault_move() and mmio_fault_unwatch() wait for that
 *     flag after changing the number (so no handler acts on a mapping that
 *     unmap() or remap() has left).
 * Only the owner of a mapping (mapping.c) calls watch, move, protect and
 * unwatch for its slot.
 *
 * A slot's states: FREE --mmio_fault_watch--> WATCHED --mmio_fault_unwatch--> FREE.
 * A WATCHED slot with a fault recorded stays WATCHED: the mapping refuses
 * every call but unmap() from then on (mapping.c).
 */
#ifndef MMAP_IO_FAULT_H
#define MMAP_IO_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a fault in the mapping does. */
typedef enum {
  FAULT_EXPLAIN, /* one line on stderr, then the process ends as it would */
  FAULT_ZERO     /* zero-filled (or private) pages, and the process goes on */
} fault_policy_t;

/* What the mapping maps, for the explanation. */
typedef enum {
  ORIGIN_ANONYMOUS, /* map() with fd -1 */
  ORIGIN_FD,        /* map() of a descriptor */
  ORIGIN_PATH,      /* open() */
  ORIGIN_SHM        /* shm.create() or shm.open() */
} fault_origin_t;

typedef enum { KIND_SIGBUS, KIND_SIGSEGV, KIND_ACCESS_VIOLATION, KIND_IN_PAGE_ERROR } fault_kind_t;

typedef enum {
  CAUSE_UNKNOWN,   /* past the end of the file, or unreadable: not known which */
  CAUSE_TRUNCATED, /* the file is now shorter than the mapping */
  CAUSE_IO,        /* the page could not be read or stored */
  CAUSE_READ_ONLY, /* a write to a mapping made without write access */
  CAUSE_PROTECTED  /* protect() took the access away */
} fault_cause_t;

typedef enum { ACCESS_UNKNOWN, ACCESS_READ, ACCESS_WRITE, ACCESS_EXECUTE } fault_access_t;

/* How a new mapping is described (copied into the slot). */
typedef struct {
  fault_origin_t origin;
  const char *name; /* ORIGIN_PATH: the path as the caller gave it; ORIGIN_SHM:
                       the name; else NULL */
  bool name_cut;    /* `name` is the start of a longer one */
  int64_t fd;       /* ORIGIN_FD */
  int64_t offset;   /* the file offset of the mapping's first byte */
  size_t delta;     /* where the Buffer handed out starts in the mapping */
  bool writable;    /* mapped with write access */
  bool readable;    /* and with read access */
  fault_policy_t policy;
} fault_desc_t;

/* One fault, as the handler saw it. */
typedef struct {
  fault_kind_t kind;
  fault_cause_t cause;
  fault_access_t access;
  bool survived;   /* under FAULT_ZERO: the access was retried */
  uint64_t offset; /* in the file (or shared memory) */
  uint64_t index;  /* in the Buffer handed out */
  int64_t size;    /* the file's size when it faulted; -1: not known */
} fault_record_t;

enum { FAULT_NAME_MAX = 256, FAULT_RECORDS = 8 };

/* A consistent copy of a slot, taken by mmio_fault_find(). */
typedef struct {
  int slot;
  unsigned seq;
  uintptr_t base; /* the mapping's first byte */
  size_t len;     /* its length */
  fault_origin_t origin;
  int64_t fd;
  int64_t offset;
  size_t delta;
  bool writable;
  bool readable;
  bool protected_; /* protect() was called on it */
  fault_policy_t policy;
  char name[FAULT_NAME_MAX]; /* NUL-terminated; cut short when longer */
  bool name_cut;
} fault_hit_t;

/* The process default for mappings made from now on. */
void mmio_fault_set_policy(fault_policy_t policy);
fault_policy_t mmio_fault_policy(void);
/* lib/'s number for a policy: -1 the process default, 0 explain, 1 zero. */
fault_policy_t mmio_fault_policy_of(int policy);

/* Watch a live mapping: its slot, or -1 when out of memory (then faults in
 * it are not explained). Installs the handlers on first use. */
int mmio_fault_watch(void *base, size_t len, const fault_desc_t *desc);
/* remap() gave the mapping new bounds. */
void mmio_fault_move(int slot, void *base, size_t len);
/* protect() was called on part of it. */
void mmio_fault_protected(int slot);
void mmio_fault_unwatch(int slot);

/* How many faults the slot has seen, and up to `max` of the first ones. */
size_t mmio_fault_count(int slot);
size_t mmio_fault_records(int slot, fault_record_t *out, size_t max);
/* The slot's description, for an error message (not in a handler). */
bool mmio_fault_describe(int slot, fault_hit_t *hit);

/* ---- for the handlers: async-signal-safe ------------------------------------ */

/* The watched mapping `addr` lies in: FIND_HIT with `hit` filled, FIND_NONE,
 * or FIND_CHANGED when it lay in a slot that changed while being read
 * (look again). */
typedef enum { FIND_NONE, FIND_HIT, FIND_CHANGED } fault_find_t;
fault_find_t mmio_fault_find(uintptr_t addr, fault_hit_t *hit);
/* Record a fault on the slot `hit` was taken from, unless it changed since. */
void mmio_fault_note(const fault_hit_t *hit, const fault_record_t *rec);
/* Before a handler changes the pages of the mapping `hit` was read from:
 * false when the slot changed since (unmap(), remap(): then nothing may be
 * changed). Otherwise the slot is held, its owner waits in mmio_fault_move() and
 * mmio_fault_unwatch(), and *zeroed is the start of the tail already zero-filled
 * to the end (0: none), which mmio_fault_change_end() stores. */
bool mmio_fault_change_begin(const fault_hit_t *hit, uintptr_t *zeroed);
/* Takes from the mapping budget the two kernel mappings a change may add
 * (lock-free, for the handler), reading the real count with `count` when
 * this copy's step is used up: false past the ceiling, and then the fault
 * is explained rather than survived. */
bool mmio_fault_change_allowed(size_t (*count)(void *), void *arg);
void mmio_fault_change_end(const fault_hit_t *hit, uintptr_t zeroed);
/* The explanation, NUL-terminated, cut to `cap`; `prefix` first. */
size_t mmio_fault_format(const fault_hit_t *hit, const fault_record_t *rec, const char *prefix,
                         char *out, size_t cap);
/* The same, written to `fd` a small block at a time, with a newline. */
void mmio_fault_write(const fault_hit_t *hit, const fault_record_t *rec, const char *prefix,
                      int fd);
/* Names for JavaScript. */
const char *mmio_fault_kind_name(fault_kind_t kind);
const char *mmio_fault_cause_name(fault_cause_t cause);
const char *mmio_fault_access_name(fault_access_t access);

#endif
