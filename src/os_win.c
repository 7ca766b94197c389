/* The OS layer on Windows: file mappings and views. See os.h.
 *
 * The POSIX names keep their POSIX values here, so JavaScript code is the
 * same on every platform; this file translates them. Win32 errors are
 * translated to the codes Node's fs gives them (translate()). */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <psapi.h>
#include <winsock2.h> /* WSAEACCES */

#include "fault.h"
#include "os.h"
#include "syserr.h"

/* The fd is a descriptor of the runtime's C runtime, which is not ours
 * (node.exe links its own): the runtime's uv_get_osfhandle turns it into
 * the file's HANDLE. Looked up when first needed, so that the addon imports
 * nothing beyond Node-API and loads where there is no libuv; without it,
 * the shared C runtime's _get_osfhandle. */
typedef intptr_t(__cdecl *osfhandle_fn)(int);
static HANDLE handle_of(int64_t fd) {
  static osfhandle_fn get;
  static int looked;
  if (!looked) {
    get = (osfhandle_fn)(void (*)(void))GetProcAddress(GetModuleHandleW(NULL), "uv_get_osfhandle");
    if (get == NULL) {
      HMODULE crt = GetModuleHandleW(L"ucrtbase.dll");
      if (crt != NULL) get = (osfhandle_fn)(void (*)(void))GetProcAddress(crt, "_get_osfhandle");
    }
    looked = 1;
  }
  if (get == NULL || (int64_t)(int)fd != fd) return INVALID_HANDLE_VALUE;
  return (HANDLE)get((int)fd);
}

#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define MAP_SHARED 1
#define MAP_PRIVATE 2
#define MAP_ANONYMOUS 0x20
#define MADV_NORMAL 0
#define MADV_RANDOM 1
#define MADV_SEQUENTIAL 2
#define MADV_WILLNEED 3
#define MADV_DONTNEED 4
#define MS_ASYNC 1
#define MS_INVALIDATE 2
#define MS_SYNC 4

#define C(name) \
  { #name, name, 0 }
#define A(name, kind) \
  { #name, name, kind }
const os_constant_t mmio_os_constants[] = {
    C(PROT_READ),
    C(PROT_WRITE),
    C(PROT_EXEC),
    C(PROT_NONE),
    C(MAP_SHARED),
    C(MAP_PRIVATE),
    C(MAP_ANONYMOUS),
    A(MADV_NORMAL, ADVICE_KEEPS),
    A(MADV_RANDOM, ADVICE_KEEPS),
    A(MADV_SEQUENTIAL, ADVICE_KEEPS),
    A(MADV_WILLNEED, ADVICE_KEEPS),
    /* A no-op here, but a program written for POSIX relies on its rule. */
    A(MADV_DONTNEED, ADVICE_DISCARDS),
    C(MS_ASYNC),
    C(MS_SYNC),
    C(MS_INVALIDATE),
    {NULL, 0, 0},
};
#undef A
#undef C

/* Windows has no MAP_* flags beyond those above. */
const os_refused_t mmio_os_refused_flags[] = {{NULL, 0, NULL}};

/* The Win32 errors these calls give, as Node's fs names them (libuv's
 * translation), except ERROR_ACCESS_DENIED: EACCES, as POSIX mmap says for
 * the same failure (a mapping the file's open mode does not allow), where
 * libuv says EPERM. */
static int translate(DWORD err) {
  const char *code;
  switch (err) {
    case ERROR_ACCESS_DENIED:
    case ERROR_NOACCESS:
    case ERROR_INVALID_ACCESS: code = "EACCES"; break;
    case ERROR_INVALID_HANDLE: code = "EBADF"; break;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
    case ERROR_WORKING_SET_QUOTA:
    case ERROR_NOT_ENOUGH_QUOTA: code = "ENOMEM"; break;
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_ADDRESS:
    case ERROR_MAPPED_ALIGNMENT: code = "EINVAL"; break;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: code = "ENOENT"; break;
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_USER_MAPPED_FILE: code = "EBUSY"; break;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL: code = "ENOSPC"; break;
    case ERROR_PRIVILEGE_NOT_HELD: code = "EPERM"; break;
    case ERROR_OPERATION_ABORTED: code = "ECANCELED"; break;
    case ERROR_NOT_SUPPORTED: code = "ENOTSUP"; break;
    case ERROR_BAD_UNIT: code = "ENODEV"; break;
    case ERROR_INVALID_FUNCTION: code = "EISDIR"; break;
    case ERROR_IO_DEVICE:
    case ERROR_CRC: code = "EIO"; break;
    case ERROR_FILE_INVALID: code = "ENXIO"; break;
    default: code = "UNKNOWN";
  }
  return mmio_syserr_number(code);
}

static int last_error(void) { return translate(GetLastError()); }

static SYSTEM_INFO system_info(void) {
  SYSTEM_INFO info;
  GetSystemInfo(&info);
  return info;
}

size_t mmio_os_page_size(void) { return system_info().dwPageSize; }

/* 64 KiB: view offsets must be multiples of it. */
size_t mmio_os_granularity(void) { return system_info().dwAllocationGranularity; }

size_t mmio_os_map_count_limit(int *err) {
  *err = 0;
  return 0;
}

size_t mmio_os_map_count(size_t *marks, bool *own, int *err) {
  *marks = 0;
  *own = false;
  *err = 0;
  return 0;
}

bool mmio_os_map_count_lasting(int err) {
  (void)err;
  return true;
}

bool mmio_os_mark_copy(void) { return false; }

size_t mmio_os_map_count_with(char *block, size_t size) {
  (void)block;
  (void)size;
  return 0;
}

int mmio_os_check_mappable(int64_t fd, int prot) {
  HANDLE file = handle_of(fd);
  (void)prot;
  if (file == INVALID_HANDLE_VALUE) return mmio_syserr_number("EBADF");
  /* Pipes and sockets have no pages to map. */
  if (GetFileType(file) != FILE_TYPE_DISK) return mmio_syserr_number("ENODEV");
  return 0;
}

/* Page protection for VirtualProtect and CreateFileMapping. */
static DWORD page_protection(int prot, int private_copy) {
  int write = (prot & PROT_WRITE) != 0;
  if (prot & PROT_EXEC) {
    if (write) return private_copy ? PAGE_EXECUTE_WRITECOPY : PAGE_EXECUTE_READWRITE;
    return (prot & PROT_READ) ? PAGE_EXECUTE_READ : PAGE_EXECUTE;
  }
  if (write) return private_copy ? PAGE_WRITECOPY : PAGE_READWRITE;
  return (prot & PROT_READ) ? PAGE_READONLY : PAGE_NOACCESS;
}

static int shm_name(const char *name, wchar_t *out, int size);
static void close_handles(os_extra_t *extra);

int mmio_os_map(void **addr, size_t len, int prot, int flags, int64_t fd, int64_t offset,
                const char *name, os_extra_t *extra) {
  int anonymous = (flags & MAP_ANONYMOUS) != 0;
  int private_copy = (flags & MAP_PRIVATE) != 0 && !anonymous;
  HANDLE file = INVALID_HANDLE_VALUE, mapping, dup = NULL;
  DWORD protection, access, ignored;
  uint64_t size_hi_lo;
  void *view;
  wchar_t wname[256];
  int err = 0;

  if (name != NULL && (err = shm_name(name, wname, 256)) != 0) return err;
  /* Named anonymous memory is a section other processes open: never
   * private. */
  if (name != NULL && anonymous && (flags & MAP_PRIVATE) != 0) return mmio_syserr_number("EINVAL");
  if (!anonymous) {
    file = handle_of(fd);
    if (file == INVALID_HANDLE_VALUE) return mmio_syserr_number("EBADF");
  }
  /* The mapping object needs some access; PROT_NONE is applied afterwards. */
  protection = page_protection(prot == PROT_NONE ? PROT_READ : prot, private_copy);
  if (private_copy && protection == PAGE_READONLY) protection = PAGE_WRITECOPY;
  if (private_copy && protection == PAGE_EXECUTE_READ) protection = PAGE_EXECUTE_WRITECOPY;
  /* A file mapping is the file's current size (Windows would grow the file
   * for a larger one); anonymous memory is exactly `len`. */
  size_hi_lo = anonymous ? (uint64_t)len : 0;
  mapping = CreateFileMappingW(file, NULL, protection, (DWORD)(size_hi_lo >> 32), (DWORD)size_hi_lo,
                               name != NULL ? wname : NULL);
  if (mapping == NULL) return last_error();
  /* A name that exists already: Windows returns that object, which for a
   * file may be another file's (planted by anyone in the session). */
  if (name != NULL && !anonymous && GetLastError() == ERROR_ALREADY_EXISTS) {
    CloseHandle(mapping);
    return mmio_syserr_number("EEXIST");
  }

  if (private_copy) access = FILE_MAP_COPY;
  else if (prot & PROT_WRITE) access = FILE_MAP_WRITE;
  else access = FILE_MAP_READ;
  if (prot & PROT_EXEC) access |= FILE_MAP_EXECUTE;
  view =
      MapViewOfFile(mapping, access, (DWORD)((uint64_t)offset >> 32), (DWORD)(uint64_t)offset, len);
  if (view == NULL) err = last_error();
  /* The view keeps the section alive; a name lives only as long as a
   * handle, so a named one keeps its handle until the view goes. */
  if (err != 0 || name == NULL) CloseHandle(mapping);
  if (err != 0) return err;
  if (name != NULL) extra->section = (intptr_t)mapping;

  if (prot == PROT_NONE && !VirtualProtect(view, len, PAGE_NOACCESS, &ignored)) {
    err = last_error();
    UnmapViewOfFile(view);
    close_handles(extra);
    return err;
  }
  /* sync(…, blocking) flushes the file of a shared view too, and the fd may
   * be closed by then. A private or anonymous view has no file to flush. */
  if (!anonymous && !private_copy &&
      !DuplicateHandle(GetCurrentProcess(), file, GetCurrentProcess(), &dup, 0, FALSE,
                       DUPLICATE_SAME_ACCESS)) {
    err = last_error();
    UnmapViewOfFile(view);
    close_handles(extra);
    return err;
  }
  extra->file = (intptr_t)dup;
  *addr = view;
  return 0;
}

bool mmio_os_mapped_files_locked(void) { return true; }

bool mmio_os_can_split(void) { return false; }

bool mmio_os_release_at_once(int prot, int flags) {
  return (flags & MAP_SHARED) != 0 && (prot & PROT_WRITE) != 0;
}

/* The fault handler: a vectored exception handler, first in line, that
 * explains an access violation or in-page error in a live view on stderr
 * (fault.c's table decides) and lets the search go on, so the process ends
 * as it would without us. Windows cannot replace part of a view with other
 * pages, so FAULT_ZERO is explained, not survived (docs/lifetime.md); a
 * mapped file cannot be truncated there, so an in-page error is an I/O
 * error (a network drive gone, a bad sector). */
static LONG CALLBACK on_exception(EXCEPTION_POINTERS *e) {
  const EXCEPTION_RECORD *r = e->ExceptionRecord;
  fault_hit_t hit;
  fault_record_t rec;
  char line[768];
  size_t n;
  DWORD written;
  uintptr_t addr;
  if ((r->ExceptionCode != EXCEPTION_ACCESS_VIOLATION &&
       r->ExceptionCode != EXCEPTION_IN_PAGE_ERROR) ||
      r->NumberParameters < 2)
    return EXCEPTION_CONTINUE_SEARCH;
  addr = (uintptr_t)r->ExceptionInformation[1];
  if (mmio_fault_find(addr, &hit) != FIND_HIT) return EXCEPTION_CONTINUE_SEARCH;
  memset(&rec, 0, sizeof rec);
  rec.kind =
      r->ExceptionCode == EXCEPTION_IN_PAGE_ERROR ? KIND_IN_PAGE_ERROR : KIND_ACCESS_VIOLATION;
  rec.access = r->ExceptionInformation[0] == 0   ? ACCESS_READ
               : r->ExceptionInformation[0] == 1 ? ACCESS_WRITE
               : r->ExceptionInformation[0] == 8 ? ACCESS_EXECUTE
                                                 : ACCESS_UNKNOWN;
  rec.offset = (uint64_t)hit.offset + (addr - hit.base);
  rec.index = addr - hit.base >= hit.delta ? addr - hit.base - hit.delta : 0;
  rec.size = -1;
  if (rec.kind == KIND_IN_PAGE_ERROR) rec.cause = CAUSE_IO;
  else if (rec.access == ACCESS_EXECUTE) rec.cause = CAUSE_UNKNOWN;
  else
    rec.cause = hit.protected_                                               ? CAUSE_PROTECTED
                : hit.readable && !hit.writable && rec.access != ACCESS_READ ? CAUSE_READ_ONLY
                                                                             : CAUSE_UNKNOWN;
  mmio_fault_note(&hit, &rec);
  n = mmio_fault_format(&hit, &rec, "mmap-io: ", line, sizeof line - 2);
  line[n++] = '\r';
  line[n++] = '\n';
  WriteFile(GetStdHandle(STD_ERROR_HANDLE), line, (DWORD)n, &written, NULL);
  return EXCEPTION_CONTINUE_SEARCH;
}

static os_spinlock_t install_lock;
static int installed; /* 1 done, -1 failed; under install_lock */

bool mmio_os_fault_install(void) {
  mmio_os_spin_lock(&install_lock);
  if (installed == 0) installed = AddVectoredExceptionHandler(1, on_exception) != NULL ? 1 : -1;
  mmio_os_spin_unlock(&install_lock);
  return installed == 1;
}

/* No fault guard: unmapped views become placeholders at once. */
bool mmio_os_guard_ready(void) { return false; }
int mmio_os_guard_add(void *addr, size_t len) {
  (void)addr;
  (void)len;
  return -1;
}
void mmio_os_guard_remove(int slot) { (void)slot; }
size_t mmio_os_guard_caught(void) { return 0; }

bool mmio_os_prot_writable(int prot) { return (prot & PROT_WRITE) != 0; }

bool mmio_os_prot_readable(int prot) { return (prot & PROT_READ) != 0; }

bool mmio_os_flags_shared(int flags) { return (flags & MAP_SHARED) != 0; }

/* Close the handles a view kept for sync(): its duplicate of the file's, and
 * the section of named shared memory. */
static void close_handles(os_extra_t *extra) {
  if (extra->file != 0) {
    CloseHandle((HANDLE)extra->file);
    extra->file = 0;
  }
  if (extra->section != 0) {
    CloseHandle((HANDLE)extra->section);
    extra->section = 0;
  }
}

int mmio_os_unmap(void *addr, size_t len, os_extra_t *extra) {
  int err = UnmapViewOfFile(addr) ? 0 : last_error();
  (void)len;
  close_handles(extra);
  return err;
}

int mmio_os_placeholder(void *addr, size_t len, os_extra_t *extra, bool *reserved) {
  if (!UnmapViewOfFile(addr)) return last_error(); /* still mapped, handles kept */
  close_handles(extra);
  /* Not atomic as on POSIX: another thread (its heap, its own mapping) may
   * take the range in between. Then there is no placeholder, and the range
   * is that thread's: never released as ours. Committed read-write memory
   * where the system allows it (commit charge, no physical memory until
   * written); else a reservation, which keeps the address from being reused
   * but faults when touched. */
  *reserved = VirtualAlloc(addr, len, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE) != NULL ||
              VirtualAlloc(addr, len, MEM_RESERVE, PAGE_NOACCESS) != NULL;
  return 0;
}

int mmio_os_release(void *addr, size_t len) {
  (void)len;
  return VirtualFree(addr, 0, MEM_RELEASE) ? 0 : last_error();
}

typedef BOOL(WINAPI *prefetch_fn)(HANDLE, ULONG_PTR, PWIN32_MEMORY_RANGE_ENTRY, ULONG);

/* PrefetchVirtualMemory is Windows 8 and later; without it, nothing. */
static int prefetch_range(void *addr, size_t len) {
  static prefetch_fn prefetch;
  static int looked;
  WIN32_MEMORY_RANGE_ENTRY range;
  if (!looked) {
    prefetch = (prefetch_fn)(void (*)(void))GetProcAddress(GetModuleHandleW(L"kernel32.dll"),
                                                           "PrefetchVirtualMemory");
    looked = 1;
  }
  if (prefetch == NULL) return 0;
  range.VirtualAddress = addr;
  range.NumberOfBytes = len;
  return prefetch(GetCurrentProcess(), 1, &range, 0) ? 0 : last_error();
}

/* Windows has no madvise. MADV_WILLNEED prefetches; the other advice has no
 * equivalent and is accepted as a no-op (documented). */
int mmio_os_advise(void *addr, size_t len, int advice) {
  return advice == MADV_WILLNEED ? prefetch_range(addr, len) : 0;
}

int mmio_os_discard(void *addr, size_t len) {
  (void)addr; /* views are never shrunk in place here (mmio_os_can_split) */
  (void)len;
  return 0;
}

int mmio_os_sync(void *addr, size_t len, int blocking, int invalidate, const os_extra_t *extra) {
  (void)invalidate; /* views of one file are always coherent on Windows */
  if (!FlushViewOfFile(addr, len)) return last_error();
  /* FlushViewOfFile only starts the write; FlushFileBuffers waits for it.
   * A handle without write access (a read-only file, whose views cannot
   * have been written) has nothing to flush. */
  if (blocking && extra->file != 0 && !FlushFileBuffers((HANDLE)extra->file) &&
      GetLastError() != ERROR_ACCESS_DENIED)
    return last_error();
  return 0;
}

int mmio_os_incore(void *addr, size_t len, unsigned char *vec) {
  size_t page = mmio_os_page_size(), pages = (len + page - 1) / page, i, done;
  PSAPI_WORKING_SET_EX_INFORMATION info[256];
  for (done = 0; done < pages; done += i) {
    size_t n = pages - done < 256 ? pages - done : 256;
    for (i = 0; i < n; i++) info[i].VirtualAddress = (char *)addr + (done + i) * page;
    if (!K32QueryWorkingSetEx(GetCurrentProcess(), info, (DWORD)(n * sizeof info[0])))
      return last_error();
    for (i = 0; i < n; i++) vec[done + i] = (unsigned char)info[i].VirtualAttributes.Valid;
  }
  return 0;
}

int mmio_os_prefetch(void *addr, size_t len) {
  size_t page = mmio_os_page_size(), i;
  unsigned char byte;
  SIZE_T got;
  int err = prefetch_range(addr, len);
  if (err != 0) return err;
  /* Read one byte per page through the kernel: a page that cannot be read
   * fails instead of raising an access violation. */
  for (i = 0; i < len; i += page) {
    if (!ReadProcessMemory(GetCurrentProcess(), (char *)addr + i, &byte, 1, &got))
      return mmio_syserr_number("EFAULT");
  }
  return 0;
}

/* Windows has no page-cache advice. */
int mmio_os_fadvise(int64_t fd, int64_t offset, int64_t len, int advice) {
  (void)fd;
  (void)offset;
  (void)len;
  (void)advice;
  return mmio_syserr_number("ENOSYS");
}

int mmio_os_lock(void *addr, size_t len) { return VirtualLock(addr, len) ? 0 : last_error(); }

int mmio_os_unlock(void *addr, size_t len) { return VirtualUnlock(addr, len) ? 0 : last_error(); }

int mmio_os_protect(void *addr, size_t len, int prot) {
  DWORD old;
  MEMORY_BASIC_INFORMATION info;
  int private_copy = 0;
  /* A copy-on-write view stays copy-on-write when made writable again. */
  if (VirtualQuery(addr, &info, sizeof info) != 0) {
    private_copy = (info.AllocationProtect & (PAGE_WRITECOPY | PAGE_EXECUTE_WRITECOPY)) != 0;
    /* Write access that the view was not mapped with: EACCES, as mprotect. */
    if ((prot & PROT_WRITE) &&
        (info.AllocationProtect & (PAGE_READONLY | PAGE_EXECUTE_READ | PAGE_EXECUTE)) != 0)
      return translate(ERROR_ACCESS_DENIED);
  }
  return VirtualProtect(addr, len, page_protection(prot, private_copy), &old) ? 0 : last_error();
}

int mmio_os_remap_supported(bool shared, const os_extra_t *extra) {
  /* A shared view of a file only: a new view of it, the old one untouched.
   * (A copy-on-write view would lose its own pages; pagefile-backed memory
   * has a fixed size.) */
  return shared && extra->file != 0 ? 0 : mmio_syserr_number("ENOSYS");
}

int mmio_os_remap(void *addr, size_t old_len, size_t new_len, bool shared, int64_t offset, int prot,
                  os_extra_t *extra, os_extra_t *new_extra, void **new_addr, os_remap_t *how) {
  HANDLE file = (HANDLE)extra->file, mapping, dup = NULL;
  LARGE_INTEGER size;
  uint64_t end = (uint64_t)offset + new_len;
  DWORD access = (prot & PROT_WRITE) ? FILE_MAP_WRITE : FILE_MAP_READ;
  void *view;
  int err = 0;
  (void)addr;
  (void)old_len;
  if (mmio_os_remap_supported(shared, extra) != 0) return mmio_syserr_number("ENOSYS");
  /* CreateFileMapping would grow the file to the new size: refuse instead,
   * as on POSIX (lib/ grows it first when asked to). */
  if (!GetFileSizeEx(file, &size)) return last_error();
  if ((uint64_t)size.QuadPart < end) return mmio_syserr_number("ERANGE");
  mapping = CreateFileMappingW(file, NULL, page_protection(prot == PROT_NONE ? PROT_READ : prot, 0),
                               0, 0, NULL);
  if (mapping == NULL) return last_error();
  if (prot & PROT_EXEC) access |= FILE_MAP_EXECUTE;
  view = MapViewOfFile(mapping, access, (DWORD)((uint64_t)offset >> 32), (DWORD)(uint64_t)offset,
                       new_len);
  if (view == NULL) err = last_error();
  CloseHandle(mapping);
  if (err != 0) return err;
  if (!DuplicateHandle(GetCurrentProcess(), file, GetCurrentProcess(), &dup, 0, FALSE,
                       DUPLICATE_SAME_ACCESS)) {
    err = last_error();
    UnmapViewOfFile(view);
    return err;
  }
  new_extra->file = (intptr_t)dup;
  *new_addr = view;
  *how = REMAP_DUPLICATE;
  return 0;
}

void mmio_os_unremap(void *addr, size_t old_len, void *new_addr, size_t new_len, os_remap_t how,
                     os_extra_t *new_extra) {
  (void)addr;
  (void)old_len;
  (void)how;
  mmio_os_unmap(new_addr, new_len, new_extra);
}

int mmio_os_fd_is_mapped_file(int64_t fd, void *addr, uint64_t *size, const os_extra_t *extra) {
  HANDLE file = handle_of(fd);
  LARGE_INTEGER bytes;
  BY_HANDLE_FILE_INFORMATION given, mapped;
  (void)addr;
  if (file == INVALID_HANDLE_VALUE) return mmio_syserr_number("EBADF");
  if (!GetFileSizeEx(file, &bytes)) return last_error();
  *size = (uint64_t)bytes.QuadPart;
  /* The view keeps a handle of the file it maps (shared views of files): the
   * same volume and file index is the same file. */
  if (extra->file == 0) return mmio_syserr_number("ENOSYS");
  if (!GetFileInformationByHandle(file, &given) ||
      !GetFileInformationByHandle((HANDLE)extra->file, &mapped))
    return last_error();
  return given.dwVolumeSerialNumber == mapped.dwVolumeSerialNumber &&
                 given.nFileIndexHigh == mapped.nFileIndexHigh &&
                 given.nFileIndexLow == mapped.nFileIndexLow
             ? 0
             : mmio_syserr_number("EINVAL");
}

int mmio_os_readable(void *addr) {
  MEMORY_BASIC_INFORMATION info;
  DWORD p;
  if (VirtualQuery(addr, &info, sizeof info) == 0) return last_error();
  p = info.Protect & 0xff;
  return p != PAGE_NOACCESS && p != 0 ? 1 : 0;
}

int mmio_os_grow_fd(int64_t fd, uint64_t size) {
  HANDLE file = handle_of(fd);
  LARGE_INTEGER bytes, to;
  if (file == INVALID_HANDLE_VALUE) return mmio_syserr_number("EBADF");
  if (!GetFileSizeEx(file, &bytes)) return last_error();
  if ((uint64_t)bytes.QuadPart >= size) return 0;
  to.QuadPart = (LONGLONG)size;
  if (!SetFilePointerEx(file, to, NULL, FILE_BEGIN) || !SetEndOfFile(file)) return last_error();
  return 0;
}

int mmio_os_pin_module(void) {
  HMODULE self;
  return GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                            (LPCWSTR)(uintptr_t)mmio_os_pin_module, &self)
             ? 0
             : last_error();
}

void *mmio_os_runtime_symbol(const char *name) {
  return (void *)(void (*)(void))GetProcAddress(GetModuleHandleW(NULL), name);
}

/* The name as Windows takes it: UTF-16, in the session's namespace. lib/
 * checks it (letters, digits, '.', '_', '-'). */
static int shm_name(const char *name, wchar_t *out, int size) {
  if (MultiByteToWideChar(CP_UTF8, 0, name, -1, out, size) == 0)
    return mmio_syserr_number("ENAMETOOLONG");
  return 0;
}

int mmio_os_shm_map(const char *name, bool create, bool exclusive, bool readonly, size_t max,
                    size_t *size, void **addr, os_extra_t *extra) {
  wchar_t wname[256];
  HANDLE mapping;
  MEMORY_BASIC_INFORMATION info;
  void *view;
  int err;
  uint64_t want = *size;
  if ((err = shm_name(name, wname, 256)) != 0) return err;
  if (create) {
    mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, (DWORD)(want >> 32),
                                 (DWORD)want, wname);
    if (mapping == NULL) return last_error();
    if (GetLastError() == ERROR_ALREADY_EXISTS && exclusive) {
      CloseHandle(mapping);
      return mmio_syserr_number("EEXIST");
    }
  } else {
    mapping = OpenFileMappingW(readonly ? FILE_MAP_READ : FILE_MAP_WRITE, FALSE, wname);
    if (mapping == NULL)
      return GetLastError() == ERROR_FILE_NOT_FOUND ? mmio_syserr_number("ENOENT") : last_error();
  }
  view = MapViewOfFile(mapping, readonly ? FILE_MAP_READ : FILE_MAP_WRITE, 0, 0, 0);
  if (view == NULL) {
    err = last_error();
    CloseHandle(mapping);
    return err;
  }
  /* Windows keeps no exact size: the view's, in whole pages. */
  if (VirtualQuery(view, &info, sizeof info) == 0) {
    err = last_error();
    UnmapViewOfFile(view);
    CloseHandle(mapping);
    return err;
  }
  *size = info.RegionSize;
  if (*size > max) {
    UnmapViewOfFile(view);
    CloseHandle(mapping);
    return mmio_syserr_number("EFBIG");
  }
  extra->file = 0;
  extra->section = (intptr_t)mapping; /* keeps the name while the view lives */
  *addr = view;
  return 0;
}

int mmio_os_shm_size(const char *name, size_t *size) {
  void *addr;
  os_extra_t extra = {0, 0};
  int err = mmio_os_shm_map(name, false, false, true, SIZE_MAX, size, &addr, &extra);
  if (err == 0) mmio_os_unmap(addr, *size, &extra);
  return err;
}

int mmio_os_shm_remove(const char *name) {
  wchar_t wname[256];
  HANDLE mapping;
  int err;
  if ((err = shm_name(name, wname, 256)) != 0) return err;
  mapping = OpenFileMappingW(FILE_MAP_READ, FALSE, wname);
  if (mapping == NULL) return mmio_syserr_number("ENOENT");
  CloseHandle(mapping);
  return 0;
}

const char *mmio_os_lock_hint(int err, size_t len) {
  (void)len;
  if (err == mmio_syserr_number("ENOMEM"))
    return "locked pages are limited by the process's minimum working set size";
  return NULL;
}

uintptr_t mmio_os_thread_self(void) { return (uintptr_t)GetCurrentThreadId(); }

uint64_t mmio_os_monotonic_ms(void) { return (uint64_t)GetTickCount64(); }

void *mmio_os_peek_pointer(void *const *p) {
  return InterlockedCompareExchangePointer((void *volatile *)p, NULL, NULL);
}

void mmio_os_spin_lock(os_spinlock_t *l) {
  while (InterlockedExchange(&l->held, 1) != 0) SwitchToThread();
}

void mmio_os_spin_unlock(os_spinlock_t *l) { InterlockedExchange(&l->held, 0); }

size_t mmio_os_features(os_feature_t *out, size_t max) {
  size_t n = 0;
#define F(feature, value)       \
  if (n < max) {                \
    out[n].name = feature;      \
    out[n].supported = (value); \
    n++;                        \
  }
  F("populateRead", 0)
  F("populateWrite", 0)
  F("anonymous", 1)
  F("residency", 1)
  F("lock", 1)
  F("protect", 1)
  F("faultZero", 0) /* no partial replacement of a view */
  F("mappingLimit", 0)
#undef F
  return n;
}
