'use strict'
// Shared by the tests: scratch files on the real disk, child processes, and
// an LD_PRELOAD shim that makes chosen system calls fail.

const assert = require('assert')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync, execFileSync } = require('child_process')
const { description } = require('../scripts/build-description')

const root = path.join(__dirname, '..')
// The C compiler for test-only builds (the LD_PRELOAD shim, the hooked
// addon): the system's, or the cross compiler that test:arm64 names.
const cc = process.env.MMAP_IO_CC || 'cc'
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-test-'))
process.on('exit', () => {
  // Windows deletes no file that is still mapped (collected later, or never).
  try { fs.rmSync(scratch, { recursive: true, force: true }) } catch {}
})

let counter = 0
// A new file in the scratch folder; `content` is a Buffer, a string, or a size
// to fill with a repeating byte pattern.
function tmpFile (content = '') {
  const file = path.join(scratch, `f${counter++}`)
  if (typeof content === 'number') {
    const buf = Buffer.alloc(content)
    for (let i = 0; i < content; i++) buf[i] = i % 251
    content = buf
  }
  fs.writeFileSync(file, content)
  return file
}

// Open `file` and close the fd after the test.
const fds = []
function openFd (file, flags = 'r+') {
  const fd = fs.openSync(file, flags)
  fds.push(fd)
  return fd
}
function closeFds () {
  while (fds.length) {
    try { fs.closeSync(fds.pop()) } catch {}
  }
}

// The runtime running the tests: node, bun or deno (test:bun, test:deno).
const runtime = process.versions.bun ? 'bun' : process.versions.deno ? 'deno' : 'node'

// Node's flags as this runtime takes them: Deno passes V8's own through
// --v8-flags.
const runtimeFlags = (flags) => runtime === 'deno'
  ? flags.map((f) => f === '--expose-gc' ? '--v8-flags=--expose-gc' : f)
  : flags

// The arguments that run the script `file` with this runtime (process.execPath).
function scriptArgs (file, args = [], flags = []) {
  return runtime === 'deno'
    ? ['run', '-A', ...runtimeFlags(flags), file, ...args]
    : [...flags, file, ...args]
}

// The arguments that evaluate `code` (CommonJS) with this runtime.
function evalArgs (code, flags = []) {
  return runtime === 'deno'
    ? ['eval', '--ext=cjs', ...runtimeFlags(flags), code]
    : [...flags, '-e', code]
}

// This runtime with `args`, from the package's root; returns { status,
// signal, stdout, stderr }. A child that could not be started (r.error)
// throws the reason rather than giving a status of null.
function spawnRuntime (args, opts = {}) {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, ...opts })
  if (r.error) throw r.error
  return r
}

// The environment of a child: this process's, with `env` over it. What is
// preloaded already (the sanitizer runtimes under test:asan) is kept, after
// the caller's library so that its wrappers see the addon's calls.
function childEnv (env = {}) {
  if (env.LD_PRELOAD && process.env.LD_PRELOAD) {
    env = { ...env, LD_PRELOAD: `${env.LD_PRELOAD}:${process.env.LD_PRELOAD}` }
  }
  return { ...process.env, ...env }
}

// Run `code` in a child process of this runtime with mmap-io resolvable.
function runChild (code, { env = {}, args = [], input, cwd = root, timeout = 300000 } = {}) {
  return spawnRuntime(evalArgs(code, args), { cwd, env: childEnv(env), input, timeout })
}

// Run the script `file` with `args` (and the runtime's `flags`) in a child
// process of this runtime; `opts.env` is added to this process's.
const runScript = (file, args = [], opts = {}, flags = []) =>
  spawnRuntime(scriptArgs(file, args, flags), { ...opts, env: childEnv(opts.env) })

function assertChildOk (r) {
  assert.strictEqual(r.signal, null, `child killed by ${r.signal}: ${r.stderr}`)
  assert.strictEqual(r.status, 0, `child exited ${r.status}: ${r.stderr}`)
  return r.stdout
}

// Lines of /proc/self/maps: the process's mapping count (Linux; 0 elsewhere).
function mappingCount () {
  if (process.platform !== 'linux') return 0
  const text = fs.readFileSync('/proc/self/maps')
  let n = 0
  for (let i = 0; i < text.length; i++) if (text[i] === 10) n++
  return n
}

// A shared object that makes the system calls named in MMAP_IO_FAIL (comma
// separated) fail with errno MMAP_IO_FAIL_ERRNO (default EIO) when the addon
// makes them (while the file MMAP_IO_FAIL_WHILE exists, if set); V8's own
// calls go through. MMAP_IO_FAIL_ADVICE limits madvise
// failures to one advice value. MMAP_IO_COUNT_FILE names a file where it
// keeps how many times the addon has read /proc/self/maps.
let shim
function failShim () {
  if (shim) return shim
  const src = path.join(scratch, 'fail.c')
  shim = path.join(scratch, 'fail.so')
  fs.writeFileSync(src, `
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stdarg.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>
static int fail(const char *name, void *caller) {
  Dl_info info;
  const char *list = getenv("MMAP_IO_FAIL"), *while_file = getenv("MMAP_IO_FAIL_WHILE");
  if (while_file && access(while_file, F_OK) != 0) return 0;
  if (!dladdr(caller, &info) || !info.dli_fname || (!strstr(info.dli_fname, "mmap_io") && !strstr(info.dli_fname, "mmap-io.node"))) return 0;
  size_t n = strlen(name);
  const char *p = list;
  while (p && (p = strstr(p, name)) != NULL) {
    if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) {
      /* MMAP_IO_FAIL_ERRNO_<name>, else MMAP_IO_FAIL_ERRNO, else EIO. */
      char var[64];
      snprintf(var, sizeof var, "MMAP_IO_FAIL_ERRNO_%s", name);
      const char *e = getenv(var);
      if (!e) e = getenv("MMAP_IO_FAIL_ERRNO");
      errno = e ? atoi(e) : EIO;
      return 1;
    }
    p += n;
  }
  return 0;
}
#define WRAP(ret, name, params, args) \\
  ret name params { \\
    static ret (*real) params; \\
    if (fail(#name, __builtin_return_address(0))) return (ret)-1; \\
    if (!real) real = (ret (*) params)dlsym(RTLD_NEXT, #name); \\
    return real args; \\
  }
/* MMAP_IO_FAIL_ADVICE: fail madvise only for that advice value. */
int madvise(void *a, size_t l, int v) {
  static int (*real)(void *, size_t, int);
  const char *only = getenv("MMAP_IO_FAIL_ADVICE");
  if ((!only || atoi(only) == v) && fail("madvise", __builtin_return_address(0))) return -1;
  if (!real) real = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "madvise");
  return real(a, l, v);
}
WRAP(int, msync, (void *a, size_t l, int f), (a, l, f))
WRAP(int, munmap, (void *a, size_t l), (a, l))
/* ioctl (PROCMAP_QUERY) can fail like the others. */
int ioctl(int fd, unsigned long request, ...) {
  static int (*real)(int, unsigned long, ...);
  va_list ap;
  void *arg;
  va_start(ap, request);
  arg = va_arg(ap, void *);
  va_end(ap);
  if (fail("ioctl", __builtin_return_address(0))) return -1;
  if (!real) real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
  return real(fd, request, arg);
}
/* MMAP_IO_COUNT_FILE: how many times the addon has read /proc/self/maps
 * (a scan: open() then read(), or fopen()), written to that file as it
 * changes. */
static int maps_fd = -1, maps_scans;
static void counted(void) {
  const char *file = getenv("MMAP_IO_COUNT_FILE");
  char text[32];
  int fd, n;
  maps_scans++;
  if (!file) return;
  n = snprintf(text, sizeof text, "%d\\n", maps_scans);
  fd = ((int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open"))(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    ((ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write"))(fd, text, (size_t)n);
    close(fd);
  }
}
static int ours(void *caller) {
  Dl_info info;
  return dladdr(caller, &info) && info.dli_fname && (strstr(info.dli_fname, "mmap_io") || strstr(info.dli_fname, "mmap-io.node"));
}
int open(const char *path, int flags, ...) {
  static int (*real)(const char *, int, ...);
  va_list ap;
  int mode, fd;
  va_start(ap, flags);
  mode = va_arg(ap, int);
  va_end(ap);
  if (!real) real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
  fd = real(path, flags, mode);
  if (fd >= 0 && strcmp(path, "/proc/self/maps") == 0 && ours(__builtin_return_address(0))) maps_fd = fd;
  return fd;
}
ssize_t read(int fd, void *buf, size_t n) {
  static ssize_t (*real)(int, void *, size_t);
  if (!real) real = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
  if (fd == maps_fd && fd >= 0) {
    maps_fd = -1;
    counted();
  }
  return real(fd, buf, n);
}
FILE *fopen(const char *path, const char *mode) {
  static FILE *(*real)(const char *, const char *);
  if (!real) real = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT, "fopen");
  if (strcmp(path, "/proc/self/maps") == 0 && ours(__builtin_return_address(0))) counted();
  return real(path, mode);
}
/* The addon is built with _FILE_OFFSET_BITS=64: the same calls by their
 * other names. */
int open64(const char *path, int flags, ...) {
  static int (*real)(const char *, int, ...);
  va_list ap;
  int mode, fd;
  va_start(ap, flags);
  mode = va_arg(ap, int);
  va_end(ap);
  if (!real) real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
  fd = real(path, flags, mode);
  if (fd >= 0 && strcmp(path, "/proc/self/maps") == 0 && ours(__builtin_return_address(0))) maps_fd = fd;
  return fd;
}
FILE *fopen64(const char *path, const char *mode) {
  static FILE *(*real)(const char *, const char *);
  if (!real) real = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT, "fopen64");
  if (strcmp(path, "/proc/self/maps") == 0 && ours(__builtin_return_address(0))) counted();
  return real(path, mode);
}
WRAP(int, mincore, (void *a, size_t l, unsigned char *v), (a, l, v))
/* MMAP_IO_REMAP_FIXED=before|hole|taken: the addon's move into a
 * reservation (mremap() with MREMAP_FIXED and MREMAP_DONTUNMAP) fails with
 * ENOMEM before the kernel unmapped the target (before), after it (hole),
 * or after it with another mapping put in the hole at once, as another
 * thread could (taken). Each such failure appends a line to
 * MMAP_IO_REMAP_LOG: the mode and the address of the hole. */
void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...) {
  static void *(*real)(void *, size_t, size_t, int, ...);
  const char *mode = getenv("MMAP_IO_REMAP_FIXED"), *log = getenv("MMAP_IO_REMAP_LOG");
  void *target = NULL;
  if (flags & MREMAP_FIXED) {
    va_list ap;
    va_start(ap, flags);
    target = va_arg(ap, void *);
    va_end(ap);
  }
  if (!real) real = (void *(*)(void *, size_t, size_t, int, ...))dlsym(RTLD_NEXT, "mremap");
  if (mode && (flags & MREMAP_FIXED) && (flags & 4) && ours(__builtin_return_address(0))) {
    if (strcmp(mode, "before") != 0) munmap(target, new_len);
    if (strcmp(mode, "taken") == 0)
      mmap(target, new_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    if (log) {
      char line[64];
      int fd = ((int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open"))(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
      int n = snprintf(line, sizeof line, "%s %lx\\n", mode, (unsigned long)target);
      if (fd >= 0) {
        ((ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write"))(fd, line, (size_t)n);
        close(fd);
      }
    }
    errno = ENOMEM;
    return MAP_FAILED;
  }
  return real(old, old_len, new_len, flags, target);
}
WRAP(ssize_t, process_vm_readv, (pid_t p, const struct iovec *l, unsigned long ln, const struct iovec *r, unsigned long rn, unsigned long f), (p, l, ln, r, rn, f))
`)
  execFileSync(cc, ['-shared', '-fPIC', '-O2', '-o', shim, src, '-ldl'])
  return shim
}

// A program that prints the page cache's counts for a file, "cached dirty
// writeback" in pages (the cachestat() system call, Linux 6.5), or null
// where it cannot be built or the kernel lacks the call.
let cachestat
function cachestatTool () {
  if (cachestat !== undefined) return cachestat
  cachestat = null
  if (!isLinux || emulated) return null
  const src = path.join(scratch, 'cachestat.c')
  const bin = path.join(scratch, 'cachestat')
  fs.writeFileSync(src, `
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
struct range { uint64_t off, len; };
struct counts { uint64_t cache, dirty, writeback, evicted, recently_evicted; };
int main(int argc, char **argv) {
  struct range r = {0, 0};
  struct counts c;
  int fd = argc > 1 ? open(argv[1], O_RDONLY) : -1;
  if (fd < 0 || syscall(451, fd, &r, &c, 0) != 0) { perror("cachestat"); return 1; }
  printf("%llu %llu %llu\\n", (unsigned long long)c.cache, (unsigned long long)c.dirty, (unsigned long long)c.writeback);
  return 0;
}
`)
  if (spawnSync(cc, ['-O2', '-o', bin, src]).status !== 0) return null
  if (spawnSync(bin, [src]).status !== 0) return null // no cachestat() in this kernel
  cachestat = bin
  return bin
}

// The package's JavaScript, copied to scratch/`name`, with an empty
// build/Release for its addon: the caller puts one there.
function packageCopy (name) {
  const dir = path.join(scratch, name)
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true })
  fs.cpSync(path.join(root, 'lib'), path.join(dir, 'lib'), { recursive: true })
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'))
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'))
  return dir
}

// A second copy of the package, as npm trees hold them: another path and
// another binary (the one loaded here, copied), so another copy of the addon's
// static state in the same process. Returns its directory, for require().
let copyDir
function secondCopy () {
  if (copyDir) return copyDir
  copyDir = packageCopy('second-copy')
  fs.copyFileSync(require('../lib/binding').file, path.join(copyDir, 'build', 'Release', 'mmap_io.node'))
  return copyDir
}

// A copy of the package whose addon is built with test/native/napi-hooks.h
// force-included: MMAP_IO_NAPI_HOOK then makes Node-API behave as Bun, Deno
// or Electron do (see that file). Returns the copy's directory, for
// require() in a child. Under test:asan the copy is sanitized too.
let hookedDir
function hookedPackage () {
  if (hookedDir) return hookedDir
  hookedDir = packageCopy('hooked')
  // Node-API's headers: the running Node's, or the system Node's under Bun
  // and Deno.
  let include = path.join(path.dirname(process.execPath), '..', 'include', 'node')
  if (!fs.existsSync(path.join(include, 'node_api.h'))) include = '/usr/include/node'
  const san = sanitized ? ['-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-g'] : []
  const objects = []
  // Sources, defines and flags as binding.gyp gives them.
  const build = description('linux')
  for (const source of build.sources) {
    const f = path.basename(source)
    // The OS layer makes no Node-API calls, and sets its own feature macros.
    const hooks = f.startsWith('os_') ? [] : ['-include', path.join(root, 'test', 'native', 'napi-hooks.h')]
    const object = path.join(hookedDir, `${f}.o`)
    const r = spawnSync(cc, [...build.cflags, '-O1', '-fPIC', ...san, ...build.defines.map((x) => `-D${x}`),
      '-I', include, ...hooks, '-c', '-o', object, path.join(root, source)], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`compiling ${f} with the test hooks failed:\n${r.stderr.slice(0, 2000)}`)
    objects.push(object)
  }
  execFileSync(cc, ['-shared', ...san, '-o', path.join(hookedDir, 'build', 'Release', 'mmap_io.node'), ...objects])
  return hookedDir
}

// test/native/jump.c built as an addon (POSIX): its path, for require().
let jumpAddon
function jumper () {
  if (jumpAddon) return jumpAddon
  let include = path.join(path.dirname(process.execPath), '..', 'include', 'node')
  if (!fs.existsSync(path.join(include, 'node_api.h'))) include = '/usr/include/node'
  jumpAddon = path.join(scratch, 'jump.node')
  execFileSync(cc, ['-std=c11', '-O1', '-fPIC', '-shared', '-DNAPI_VERSION=8', '-I', include, '-o', jumpAddon,
    path.join(root, 'test', 'native', 'jump.c')])
  return jumpAddon
}

// Set by test:arm64 (qemu-aarch64): another architecture, emulated.
const emulated = process.env.MMAP_IO_EMULATOR || null
// What qemu-user (7.2) does not emulate, as skip reasons.
const qemuGaps = {
  madvise: `${emulated} accepts madvise() and does nothing (no MADV_POPULATE_READ, MADV_WILLNEED or MADV_REMOVE effect)`,
  mremap: `${emulated} refuses mremap() with old_size 0 (ENOMEM), which remap() of a shared mapping uses to keep the old range mapped`,
  dontunmap: `${emulated} has no working MREMAP_DONTUNMAP, which remap() of a private mapping needs to move it without leaving its range free (ENOTSUP)`,
  sharedValidate: `${emulated} refuses MAP_SHARED_VALIDATE (EINVAL), which Linux takes`,
  faultInfo: `${emulated} gives a signal handler no record of the access (ESR: 'unknown' here), and refuses process_vm_readv (a private copy of a page past the end of the file reads it, and records that SIGBUS too)`
}

const isWindows = process.platform === 'win32'
const isLinux = process.platform === 'linux'

// The child crashed the way `signal` crashes it on POSIX: Windows has no
// signals, an access violation ends the process with 0xC0000005.
function assertCrashed (r, signal) {
  if (isWindows) assert.strictEqual(r.status >>> 0, 0xC0000005, `exit ${r.status}: ${r.stderr}`)
  else assert.strictEqual(r.signal, signal, `exit ${r.status}, signal ${r.signal}: ${r.stderr}`)
}

// Skip the running test, saying why in the output.
function skip (ctx, reason) {
  process.stdout.write(`      (skipped: ${reason})\n`)
  ctx.skip()
}

// Set by test/asan.sh: the sanitizer runtime's own allocator changes RSS and
// the mapping count, so only those figures are not asserted there.
const sanitized = process.env.MMAP_IO_SANITIZED === '1'

module.exports = {
  jumper,
  runtime,
  scriptArgs,
  evalArgs,
  skip,
  isWindows,
  isLinux,
  assertCrashed,
  sanitized,
  emulated,
  qemuGaps,
  root,
  scratch,
  tmpFile,
  openFd,
  closeFds,
  runChild,
  runScript,
  assertChildOk,
  mappingCount,
  failShim,
  cachestatTool,
  runtimeFlags,
  secondCopy,
  hookedPackage
}
