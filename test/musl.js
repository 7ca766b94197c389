'use strict'
// npm run test:musl: the musl prebuilds load and register, where no musl
// Node can run (Node's and Bun's musl builds need musl's libstdc++).
//
// For linux-x64-musl and linux-arm64-musl: test/native/musl-load.c, linked
// against musl by zig cc, is started by musl's own dynamic loader (Debian's
// package `musl`; the arm64 one under qemu-user). It dlopen()s the prebuild
// with RTLD_NOW, so every symbol the addon needs must resolve from musl or
// from the harness's Node-API stand-ins (nothing glibc-only: a glibc
// symbol, or __*_chk, would fail here), and calls napi_register_module_v1,
// which must register every export that lib/index.js reads from the
// binding. The prebuilds themselves are built (warning-free, exporting the
// entry points alone, no glibc symbol version) by scripts/prebuilds.js.
const assert = require('assert')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const prebuilds = require('../scripts/prebuilds')
const { unpack, zigCompiler, muslLoader, has, aptInstall } = require('../scripts/tools')

const root = path.join(__dirname, '..')
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-musl-'))
const TARGETS = [
  { target: 'linux-x64-musl', triple: 'x86_64-linux-musl', deb: 'amd64', emulator: [] },
  { target: 'linux-arm64-musl', triple: 'aarch64-linux-musl', deb: 'arm64', emulator: ['qemu-aarch64'] }
]

// What the glibc build registers, for comparison: the real addon's exports,
// read by this Node.
const expected = Object.keys(require('../lib/binding')).filter((k) => k !== 'file').sort()

let passed = 0
try {
  const stale = prebuilds.problems().filter((p) => /\.musl\.node|MANIFEST/.test(p))
  if (stale.length) {
    console.log(`building the musl prebuilds (${stale.join('; ')})`)
    prebuilds.build(TARGETS.map((t) => t.target))
  }
  const { zig, env } = zigCompiler()
  const headers = path.join(unpack('node-api-headers@1', 'node-api-headers'), 'include')
  if (!has('qemu-aarch64')) aptInstall(['qemu-user'])

  // Every Node-API function the harness does not define: a stub that
  // reports the call (and fails the run).
  const harness = path.join(root, 'test', 'native', 'musl-load.c')
  const defined = new Set([...fs.readFileSync(harness, 'utf8').matchAll(/^napi_status (\w+)\(/gm)].map((m) => m[1]))
  const defs = path.join(headers, '..', 'def')
  const all = fs.readdirSync(defs).flatMap((f) => fs.readFileSync(path.join(defs, f), 'utf8').split(/\r?\n/))
    .map((l) => l.trim()).filter((l) => /^(napi|node_api)_\w+$/.test(l))
  const stubs = [...new Set(all)].filter((n) => !defined.has(n))
  const stubFile = path.join(work, 'stubs.c')
  fs.writeFileSync(stubFile, 'int musl_load_unexpected(const char *name);\n' +
    stubs.map((n) => `int ${n}(void) { return musl_load_unexpected("${n}"); }\n`).join(''))
  console.log(`harness: ${defined.size} Node-API functions with behaviour, ${stubs.length} stubs`)

  for (const { target, triple, deb, emulator } of TARGETS) {
    const exe = path.join(work, `musl-load-${target}`)
    // zig links a musl program statically (which cannot dlopen) unless it
    // links a shared library: an empty one makes it dynamic.
    const empty = path.join(work, `libempty-${target}.so`)
    fs.writeFileSync(path.join(work, 'empty.c'), 'int musl_load_empty;\n')
    const so = spawnSync(zig, ['cc', '-target', triple, '-shared', '-fPIC', '-o', empty, path.join(work, 'empty.c')], { env, encoding: 'utf8' })
    if (so.status !== 0) throw new Error(`${target}: ${so.stderr}`)
    const cc = spawnSync(zig, ['cc', '-target', triple, '-std=c11', '-Wall', '-Wextra', '-Werror', '-O1',
      '-rdynamic', '-I', headers, '-o', exe, harness, stubFile, empty], { env, encoding: 'utf8' })
    if (cc.status !== 0) throw new Error(`${target}: building the harness failed:\n${cc.stderr}`)
    // A dynamically linked musl program: its interpreter is musl's loader.
    const interp = spawnSync('readelf', ['-l', exe], { encoding: 'utf8' }).stdout.match(/interpreter: ([^\]]+)\]/)
    assert.ok(interp && /ld-musl-/.test(interp[1]), `${target}: the harness is not a dynamic musl program`)

    const loader = muslLoader(deb)
    const addon = prebuilds.binaryOf(target)
    const [cmd, ...args] = [...emulator, loader, exe, addon]
    const r = spawnSync(cmd, args, { encoding: 'utf8' })
    console.log(`${target}: ${[...emulator, path.basename(loader)].join(' ')} musl-load prebuilds/${prebuilds.fileOf(target)}`)
    process.stdout.write(r.stdout.replace(/^/gm, '  '))
    process.stderr.write(r.stderr)
    assert.strictEqual(r.status, 0, `${target}: the harness exited ${r.status}`)
    const registered = [...r.stdout.matchAll(/^ {2}(\w+): \w+$/gm)].map((m) => m[1]).sort()
    assert.deepStrictEqual(registered, expected, `${target}: registers what the glibc build does`)
    assert.match(r.stdout, /node_api_module_get_api_version_v1\(\) = 8$/m)
    console.log(`  ${target}: loaded by musl with RTLD_NOW, registered the ${registered.length} exports of the glibc build`)
    passed++
  }

  // The harness can fail: an addon that needs a glibc-only function is
  // refused by musl's loader.
  const bad = path.join(work, 'glibc-only.node')
  const src = path.join(work, 'glibc-only.c')
  fs.writeFileSync(src, 'extern int gnu_get_libc_version_x(void);\nint napi_register_module_v1(void) { return gnu_get_libc_version_x(); }\n')
  const cc = spawnSync(zig, ['cc', '-target', 'x86_64-linux-musl', '-shared', '-fPIC', '-o', bad, src], { env, encoding: 'utf8' })
  assert.strictEqual(cc.status, 0, cc.stderr)
  const r = spawnSync(muslLoader('amd64'), [path.join(work, 'musl-load-linux-x64-musl'), bad], { encoding: 'utf8' })
  assert.notStrictEqual(r.status, 0)
  assert.match(r.stderr, /symbol not found/)
  console.log(`  an addon with an unresolved symbol is refused: ${r.stderr.trim().split('\n')[0]}`)
  passed++
  console.log(`test:musl: ${passed} passed, 0 failed`)
} catch (err) {
  console.log(`test:musl: ${passed} passed, 1 failed`)
  throw err
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
