/* Faults in live mappings: the table the fault handlers read. See fault.h. */
#include "fault.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#include <io.h>
#define write(fd, p, n) _write(fd, p, (unsigned)(n))
#else
#include <unistd.h>
#endif

#include "budget.h"
#include "os.h"

/* 262,144 mappings (4 x vm.max_map_count) in chunks of 512 slots. A chunk
 * is one allocation of 200 KiB, which the C library takes from the system
 * as zero pages: a slot's page is touched when the slot is first used, and
 * its name's only by mappings that have one (open(), shm). */
enum { CHUNK = 512, MAX_CHUNKS = 512 };

typedef struct {
  atomic_uint seq;       /* odd while the owner writes the fields below */
  atomic_uintptr_t base; /* 0: free */
  atomic_size_t len;
  int next_free;        /* the owners' free list, under `lock` */
  unsigned char origin; /* fault_origin_t */
  unsigned char policy; /* fault_policy_t */
  bool writable;
  bool readable;
  bool name_cut;
  atomic_bool protected_;
  int64_t fd;
  int64_t offset;
  size_t delta;
  /* Written by the handlers. */
  atomic_flag changing;    /* held while a handler changes its pages */
  atomic_uintptr_t zeroed; /* the start of its zero-filled tail; 0: none */
  atomic_uint faults;      /* how many it has seen */
} slot_t;

typedef struct {
  slot_t slots[CHUNK];
  char names[CHUNK][FAULT_NAME_MAX];
} chunk_t;

/* The faults' records, process-wide: few, written by handlers, each
 * tagged with its slot and that slot's sequence number then (a slot's
 * next mapping has another). */
enum { RING = 1024 };
typedef struct {
  atomic_bool ready;
  int slot;
  unsigned seq;
  unsigned order; /* the slot's how-many-th fault */
  fault_record_t rec;
} entry_t;
static entry_t ring[RING];
static atomic_uint ring_next;

static _Atomic(chunk_t *) chunks[MAX_CHUNKS];
static atomic_int policy_default;
static atomic_bool installed;

/* The owners' side: free slots, under `lock`. */
static os_spinlock_t lock;
static int free_head = -1;
static size_t n_chunks;

static slot_t *slot_at(int slot) {
  chunk_t *chunk;
  if (slot < 0 || slot >= CHUNK * MAX_CHUNKS) return NULL;
  chunk = atomic_load(&chunks[slot / CHUNK]);
  return chunk == NULL ? NULL : &chunk->slots[slot % CHUNK];
}

static char *name_at(int slot) { return atomic_load(&chunks[slot / CHUNK])->names[slot % CHUNK]; }

void mmio_fault_set_policy(fault_policy_t policy) { atomic_store(&policy_default, (int)policy); }
fault_policy_t mmio_fault_policy(void) { return (fault_policy_t)atomic_load(&policy_default); }

fault_policy_t mmio_fault_policy_of(int policy) {
  return policy < 0 ? mmio_fault_policy() : policy == 1 ? FAULT_ZERO : FAULT_EXPLAIN;
}

/* A chunk more, under `lock`. */
static bool add_chunk(void) {
  chunk_t *chunk;
  int i;
  if (n_chunks == MAX_CHUNKS || (chunk = calloc(1, sizeof *chunk)) == NULL) return false;
  for (i = CHUNK - 1; i >= 0; i--) {
    chunk->slots[i].next_free = free_head;
    free_head = (int)(n_chunks * CHUNK) + i;
  }
  atomic_store(&chunks[n_chunks++], chunk);
  return true;
}

static void begin_write(slot_t *s) { atomic_fetch_add(&s->seq, 1); }
static void end_write(slot_t *s) { atomic_fetch_add(&s->seq, 1); }
/* After begin_write(): wait for a handler changing the slot's pages (it
 * took the slot before the sequence number changed); any later one sees
 * the change and leaves the pages alone. */
static void settle(slot_t *s) {
  while (atomic_flag_test_and_set(&s->changing)) {
  }
  atomic_flag_clear(&s->changing);
}

int mmio_fault_watch(void *base, size_t len, const fault_desc_t *d) {
  slot_t *s;
  int slot;
  if (!atomic_load_explicit(&installed, memory_order_relaxed)) {
    mmio_os_fault_install();
    atomic_store(&installed, true);
  }
  mmio_os_spin_lock(&lock);
  if (free_head < 0 && !add_chunk()) {
    mmio_os_spin_unlock(&lock);
    return -1;
  }
  slot = free_head;
  s = slot_at(slot);
  free_head = s->next_free;
  mmio_os_spin_unlock(&lock);
  /* Between the two sequence numbers (each a full barrier), plain stores. */
  begin_write(s);
  atomic_store_explicit(&s->len, len, memory_order_relaxed);
  s->origin = (unsigned char)d->origin;
  s->fd = d->fd;
  s->offset = d->offset;
  s->delta = d->delta;
  s->writable = d->writable;
  s->readable = d->readable;
  atomic_store_explicit(&s->protected_, false, memory_order_relaxed);
  s->policy = (unsigned char)d->policy;
  s->name_cut = false;
  if (d->name != NULL) {
    char *name = name_at(slot);
    size_t n = strlen(d->name);
    s->name_cut = d->name_cut || n >= FAULT_NAME_MAX;
    if (n >= FAULT_NAME_MAX) n = FAULT_NAME_MAX - 1;
    memcpy(name, d->name, n);
    name[n] = '\0';
  }
  atomic_store_explicit(&s->zeroed, 0, memory_order_relaxed);
  atomic_store_explicit(&s->faults, 0, memory_order_relaxed);
  atomic_store_explicit(&s->base, (uintptr_t)base, memory_order_relaxed);
  end_write(s);
  return slot;
}

void mmio_fault_move(int slot, void *base, size_t len) {
  slot_t *s = slot_at(slot);
  if (s == NULL) return;
  begin_write(s);
  settle(s);
  atomic_store(&s->base, (uintptr_t)base);
  atomic_store(&s->len, len);
  atomic_store(&s->zeroed, 0); /* moved: the tail, if any, is elsewhere */
  end_write(s);
}

void mmio_fault_protected(int slot) {
  slot_t *s = slot_at(slot);
  if (s != NULL) atomic_store(&s->protected_, true);
}

void mmio_fault_unwatch(int slot) {
  slot_t *s = slot_at(slot);
  if (s == NULL) return;
  begin_write(s);
  settle(s);
  atomic_store(&s->base, 0);
  atomic_store(&s->len, 0);
  end_write(s);
  mmio_os_spin_lock(&lock);
  s->next_free = free_head;
  free_head = slot;
  mmio_os_spin_unlock(&lock);
}

size_t mmio_fault_count(int slot) {
  slot_t *s = slot_at(slot);
  return s == NULL ? 0 : atomic_load(&s->faults);
}

size_t mmio_fault_records(int slot, fault_record_t *out, size_t max) {
  slot_t *s = slot_at(slot);
  size_t n, i, got = 0;
  unsigned seq;
  if (s == NULL) return 0;
  seq = atomic_load(&s->seq);
  n = atomic_load(&s->faults);
  if (n > FAULT_RECORDS) n = FAULT_RECORDS;
  if (n > max) n = max;
  /* In the order they happened: the ring holds each at most once. */
  for (i = 0; i < n; i++) {
    unsigned e;
    for (e = 0; e < RING; e++) {
      const entry_t *en = &ring[e];
      if (atomic_load(&en->ready) && en->slot == slot && en->seq == seq && en->order == i) {
        out[got++] = en->rec;
        break;
      }
    }
  }
  return got;
}

/* ---- the handlers' side ------------------------------------------------------- */

/* A consistent copy of slot `slot`, if it watches `addr` (any address when
 * `addr` is 0). An owner writing it (odd sequence number) is waited for:
 * it does a few stores, or waits in settle() for a handler that is making
 * one mmap() call. */
static bool read_slot(int slot, uintptr_t addr, fault_hit_t *hit) {
  slot_t *s = slot_at(slot);
  if (s == NULL) return false;
  for (;;) {
    unsigned before = atomic_load(&s->seq);
    uintptr_t base;
    size_t len;
    if (before & 1u) continue;
    base = atomic_load(&s->base);
    len = atomic_load(&s->len);
    if (base == 0 || (addr != 0 && (addr < base || addr - base >= len))) {
      if (atomic_load(&s->seq) == before) return false;
      continue;
    }
    hit->slot = slot;
    hit->seq = before;
    hit->base = base;
    hit->len = len;
    hit->origin = (fault_origin_t)s->origin;
    hit->fd = s->fd;
    hit->offset = s->offset;
    hit->delta = s->delta;
    hit->writable = s->writable;
    hit->readable = s->readable;
    hit->protected_ = atomic_load(&s->protected_);
    hit->policy = (fault_policy_t)s->policy;
    hit->name_cut = s->name_cut;
    if (hit->origin == ORIGIN_PATH || hit->origin == ORIGIN_SHM) {
      memcpy(hit->name, name_at(slot), FAULT_NAME_MAX);
      hit->name[FAULT_NAME_MAX - 1] = '\0';
    } else {
      hit->name[0] = '\0';
    }
    if (atomic_load(&s->seq) == before) return true;
  }
}

bool mmio_fault_describe(int slot, fault_hit_t *hit) { return read_slot(slot, 0, hit); }

fault_find_t mmio_fault_find(uintptr_t addr, fault_hit_t *hit) {
  int c, i;
  bool changed = false;
  if (addr == 0) return FIND_NONE;
  for (c = 0; c < MAX_CHUNKS; c++) {
    chunk_t *chunk = atomic_load(&chunks[c]);
    if (chunk == NULL) break;
    for (i = 0; i < CHUNK; i++) {
      slot_t *s = &chunk->slots[i];
      uintptr_t base = atomic_load(&s->base);
      if (base == 0 || addr < base || addr - base >= atomic_load(&s->len)) continue;
      if (read_slot(c * CHUNK + i, addr, hit)) return FIND_HIT;
      changed = true; /* it no longer holds `addr` */
    }
  }
  return changed ? FIND_CHANGED : FIND_NONE;
}

void mmio_fault_note(const fault_hit_t *hit, const fault_record_t *rec) {
  slot_t *s = slot_at(hit->slot);
  unsigned n;
  entry_t *en;
  if (s == NULL || atomic_load(&s->seq) != hit->seq) return;
  n = atomic_fetch_add(&s->faults, 1);
  if (n >= FAULT_RECORDS) return;
  en = &ring[atomic_fetch_add(&ring_next, 1) % RING];
  atomic_store(&en->ready, false);
  en->slot = hit->slot;
  en->seq = hit->seq;
  en->order = n;
  en->rec = *rec;
  atomic_store(&en->ready, true);
}

bool mmio_fault_change_begin(const fault_hit_t *hit, uintptr_t *zeroed) {
  slot_t *s = slot_at(hit->slot);
  if (s == NULL) return false;
  while (atomic_flag_test_and_set(&s->changing)) {
  }
  if (atomic_load(&s->seq) != hit->seq) {
    atomic_flag_clear(&s->changing);
    return false;
  }
  *zeroed = atomic_load(&s->zeroed);
  return true;
}

bool mmio_fault_change_allowed(size_t (*count)(void *), void *arg) {
  return mmio_budget_take_async(2) || mmio_budget_recount_async(count(arg), 2);
}

void mmio_fault_change_end(const fault_hit_t *hit, uintptr_t zeroed) {
  slot_t *s = slot_at(hit->slot);
  atomic_store(&s->zeroed, zeroed);
  atomic_flag_clear(&s->changing);
}

/* ---- the explanation: no stdio, no allocation ------------------------------- */

/* Text into a buffer: cut at its end, or (fd >= 0) written out whenever it
 * is full. */
typedef struct {
  char *p;
  size_t n, cap;
  int fd;
} text_t;

static void flush(text_t *t) {
  size_t done = 0;
  while (done < t->n) {
    long w = (long)write(t->fd, t->p + done, t->n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += (size_t)w;
  }
  t->n = 0;
}

static void put_c(text_t *t, char c) {
  if (t->n + 1 >= t->cap) {
    if (t->fd < 0) return;
    flush(t);
  }
  t->p[t->n++] = c;
  t->p[t->n] = '\0';
}

static void put(text_t *t, const char *s) {
  while (*s != '\0') put_c(t, *s++);
}

static void put_u(text_t *t, uint64_t v) {
  char digits[24];
  int n = 0;
  do digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0) put_c(t, digits[--n]);
}

static void put_hex(text_t *t, unsigned char c) {
  static const char hex[] = "0123456789abcdef";
  put(t, "\\x");
  put_c(t, hex[c >> 4]);
  put_c(t, hex[c & 15]);
}

/* Quoted, at most NAME_OUT bytes of it (so that the cause always fits),
 * with control characters (C0, DEL, and C1 as UTF-8 encodes them) and
 * quotes escaped, and backslashes but on Windows, where they separate a
 * path's parts. */
enum { NAME_OUT = 320 };
#if defined(_WIN32)
#define ESCAPED(c) ((c) == '\'')
#else
#define ESCAPED(c) ((c) == '\'' || (c) == '\\')
#endif
static void put_quoted(text_t *t, const char *s, bool cut) {
  size_t out = 0;
  put_c(t, '\'');
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s, next = (unsigned char)s[1];
    size_t need = c < 0x20 || c == 0x7f ? 4 : (c == 0xc2 && next >= 0x80 && next < 0xa0) ? 8 : 2;
    if (out + need > NAME_OUT) {
      cut = true;
      break;
    }
    out += need;
    if (c < 0x20 || c == 0x7f) {
      put_hex(t, c);
    } else if (c == 0xc2 && next >= 0x80 && next < 0xa0) {
      put_hex(t, c);
      put_hex(t, next);
      s++;
    } else {
      if (ESCAPED(c)) put_c(t, '\\');
      put_c(t, (char)c);
    }
  }
  put(t, cut ? "...'" : "'");
}

static void put_subject(text_t *t, const fault_hit_t *hit) {
  switch (hit->origin) {
    case ORIGIN_PATH: put_quoted(t, hit->name, hit->name_cut); break;
    case ORIGIN_SHM:
      put(t, "shared memory ");
      put_quoted(t, hit->name, hit->name_cut);
      break;
    case ORIGIN_FD:
      put(t, "fd ");
      put_u(t, (uint64_t)hit->fd);
      break;
    default: put(t, "anonymous memory"); break;
  }
}

const char *mmio_fault_kind_name(fault_kind_t kind) {
  switch (kind) {
    case KIND_SIGBUS: return "SIGBUS";
    case KIND_SIGSEGV: return "SIGSEGV";
    case KIND_ACCESS_VIOLATION: return "EXCEPTION_ACCESS_VIOLATION";
    default: return "EXCEPTION_IN_PAGE_ERROR";
  }
}

const char *mmio_fault_cause_name(fault_cause_t cause) {
  switch (cause) {
    case CAUSE_TRUNCATED: return "truncated";
    case CAUSE_IO: return "io";
    case CAUSE_READ_ONLY: return "read-only";
    case CAUSE_PROTECTED: return "protected";
    default: return "unknown";
  }
}

const char *mmio_fault_access_name(fault_access_t access) {
  switch (access) {
    case ACCESS_READ: return "read";
    case ACCESS_WRITE: return "write";
    case ACCESS_EXECUTE: return "execute";
    default: return "unknown";
  }
}

static void explain(text_t *t, const fault_hit_t *hit, const fault_record_t *rec,
                    const char *prefix) {
  const char *what = hit->origin == ORIGIN_SHM ? "the shared memory" : "the file";
  put(t, prefix);
  put(t, mmio_fault_kind_name(rec->kind));
  put(t, rec->access == ACCESS_READ      ? " on a read at "
         : rec->access == ACCESS_WRITE   ? " on a write at "
         : rec->access == ACCESS_EXECUTE ? " on an instruction fetch at "
                                         : " on an access at ");
  if (hit->origin != ORIGIN_ANONYMOUS) {
    put(t, "offset ");
    put_u(t, rec->offset);
    put(t, " of ");
  }
  put_subject(t, hit);
  put(t, " (index ");
  put_u(t, rec->index);
  put(t, " of the Buffer): ");
  switch (rec->cause) {
    case CAUSE_TRUNCATED:
      put(t, what);
      put(t, " is now ");
      put_u(t, (uint64_t)rec->size);
      put(t, " bytes, shorter than the mapping (truncated while mapped)");
      break;
    case CAUSE_IO:
      put(t, "the page could not be read or stored (an I/O error, or no space left)");
      break;
    case CAUSE_READ_ONLY:
      put(t, hit->origin == ORIGIN_PATH  ? "the mapping is read-only (open it with mode 'r+')"
             : hit->origin == ORIGIN_SHM ? "the shared memory was opened read-only"
                                         : "the mapping is read-only (map it with PROT_WRITE)");
      break;
    case CAUSE_PROTECTED: put(t, "protect() took that access away"); break;
    default:
      if (rec->kind == KIND_SIGSEGV || rec->kind == KIND_ACCESS_VIOLATION) {
        put(t, "the mapping's protection does not allow this access");
        break;
      }
      put(t, "the page is past the end of ");
      put(t, what);
      put(t, " (truncated while mapped?), or could not be read");
      break;
  }
  if (rec->survived)
    put(t, rec->cause == CAUSE_READ_ONLY ? "; the write went to a private copy of the page "
                                           "(onFault: 'zero')"
           : rec->cause == CAUSE_IO      ? "; the page reads as zeros (onFault: 'zero')"
                                         : "; from that page to the end, the mapping reads as "
                                           "zeros (onFault: 'zero')");
}

size_t mmio_fault_format(const fault_hit_t *hit, const fault_record_t *rec, const char *prefix,
                         char *out, size_t cap) {
  text_t t;
  if (cap == 0) return 0;
  t.p = out;
  t.n = 0;
  t.cap = cap;
  t.fd = -1;
  out[0] = '\0';
  explain(&t, hit, rec, prefix);
  return t.n;
}

void mmio_fault_write(const fault_hit_t *hit, const fault_record_t *rec, const char *prefix,
                      int fd) {
  char block[128];
  text_t t;
  t.p = block;
  t.n = 0;
  t.cap = sizeof block;
  t.fd = fd;
  explain(&t, hit, rec, prefix);
  put_c(&t, '\n');
  flush(&t);
}
