'use strict'
// npm run test:macos: the POSIX source compiles for macOS, where nothing
// here can run it (no macOS binary is shipped: it builds from source there).
//
//  1. Every source binding.gyp gives macOS, with its flags and defines, is
//     compiled by zig cc against macOS's libc headers for x86_64-macos and
//     aarch64-macos with -Werror, and linked as a bundle with
//     `-undefined dynamic_lookup` (Node-API comes from the host). A Linux-only
//     function or constant used outside an `#if defined(__linux__)` guard
//     fails here when macOS's headers lack it (mremap, MAP_POPULATE,
//     posix_fadvise, process_vm_readv, ...).
//  2. Names that macOS's headers might declare too (or that a fallback
//     could define) but that are Linux's: the preprocessed macOS source,
//     the lines that come from src/ only, must contain none of them. That
//     proves each is behind a guard, not merely declared somewhere.
const assert = require('assert')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { description } = require('../scripts/build-description')
const { unpack, zigCompiler } = require('../scripts/tools')

const root = path.join(__dirname, '..')
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-macos-'))
const LINUX_ONLY = ['mremap', 'MREMAP_MAYMOVE', 'MREMAP_FIXED', 'MAP_POPULATE', 'MAP_FIXED_NOREPLACE',
  'posix_fadvise', 'POSIX_FADV_WILLNEED', 'MADV_HUGEPAGE', 'MADV_NOHUGEPAGE', 'MADV_DONTDUMP', 'MADV_DODUMP',
  'MADV_REMOVE', 'MADV_POPULATE_READ', 'MADV_POPULATE_WRITE', 'MADV_COLD', 'MADV_PAGEOUT', 'process_vm_readv',
  'PROCMAP_QUERY_IOCTL', 'memfd_create', 'fallocate', 'sysinfo', 'O_TMPFILE', 'REG_ERR', 'gregs', '/proc/']

let passed = 0
try {
  const { zig, env } = zigCompiler()
  const headers = path.join(unpack('node-api-headers@1', 'node-api-headers'), 'include')
  const d = description('mac')
  const flags = [...d.cflags, ...d.defines.map((x) => `-D${x}`), '-I', headers]
  for (const triple of ['x86_64-macos', 'aarch64-macos']) {
    const out = path.join(work, `${triple}.node`)
    const r = spawnSync(zig, ['cc', '-target', triple, '-Werror', '-O2', '-shared', '-undefined', 'dynamic_lookup',
      ...flags, '-o', out, ...d.sources], { cwd: root, env, encoding: 'utf8' })
    process.stderr.write(r.stderr)
    assert.strictEqual(r.status, 0, `${triple}: the build failed`)
    const magic = fs.readFileSync(out).readUInt32LE(0)
    assert.strictEqual(magic, 0xfeedfacf, `${triple}: not a 64-bit Mach-O file`)
    console.log(`1. ${triple}: ${d.sources.length} sources compiled with -Werror ${d.cflags.join(' ')}, linked (-undefined dynamic_lookup): ${fs.statSync(out).size} bytes`)
    passed++

    const found = []
    for (const source of d.sources) {
      const pre = spawnSync(zig, ['cc', '-target', triple, '-E', ...flags, source], { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 })
      assert.strictEqual(pre.status, 0, pre.stderr)
      let file = ''
      for (const line of pre.stdout.split('\n')) {
        const marker = /^# \d+ "([^"]+)"/.exec(line)
        if (marker) { file = marker[1]; continue }
        if (!file.startsWith('src/')) continue
        // Names in code, not in strings (an error message may name
        // "mremap"); a path is looked for in strings.
        const code = line.replace(/"(?:[^"\\]|\\.)*"/g, '""')
        for (const name of LINUX_ONLY) {
          const text = name.startsWith('/') ? line : code
          if (new RegExp(`(^|[^\\w])${name.replace(/\//g, '\\/')}($|[^\\w])`).test(text)) found.push(`${file}: ${name}`)
        }
      }
    }
    assert.deepStrictEqual([...new Set(found)], [], `${triple}: Linux-only names outside a guard`)
    console.log(`2. ${triple}: none of ${LINUX_ONLY.length} Linux-only names in the preprocessed macOS source`)
    passed++
  }
  console.log(`test:macos: ${passed} passed, 0 failed`)
} catch (err) {
  console.log(`test:macos: ${passed} passed, 1 failed`)
  throw err
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
