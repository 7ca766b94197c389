'use strict'
// Which prebuild lib/binding.js loads: prebuilds/<platform>-<arch>/
// mmap-io.node, or mmap-io.musl.node on a musl libc (Alpine). The install
// script (node-gyp-build) picks the same file by its libc tag.
const fs = require('fs')
const path = require('path')

// The dynamic loaders' paths, by architecture: musl's, and glibc's.
const LOADERS = {
  x64: ['/lib/ld-musl-x86_64.so.1', '/lib64/ld-linux-x86-64.so.2'],
  arm64: ['/lib/ld-musl-aarch64.so.1', '/lib/ld-linux-aarch64.so.1']
}

// /proc/self/maps, or null where it cannot be read.
function readMaps () {
  try {
    return fs.readFileSync('/proc/self/maps', 'utf8')
  } catch {
    return null
  }
}

// 'musl' or 'glibc' on Linux, null elsewhere: the libc this process runs
// on, from the dynamic loader mapped into it (musl's ld-musl-*.so.1 or
// glibc's ld-linux*.so.*), which nothing in the process can fake and which
// costs one read (process.report.getReport() would look up every open
// socket and wait for every worker). Where /proc cannot tell, which
// loaders exist on disk. Deno has no musl build.
function libc (platform = process.platform, arch = process.arch, maps = readMaps, exists = fs.existsSync,
  deno = process.versions.deno !== undefined) {
  if (platform !== 'linux') return null
  if (deno) return 'glibc'
  const text = maps()
  if (text !== null) {
    if (/\/ld-musl-[^/\s]*\.so\.1$/m.test(text)) return 'musl'
    if (/\/ld-linux[^/\s]*\.so\.\d+$/m.test(text)) return 'glibc'
  }
  const [musl, glibc] = LOADERS[arch] || []
  return musl && exists(musl) && !exists(glibc) ? 'musl' : 'glibc'
}

// The prebuild for this platform, under the package root `root`.
function prebuild (root, platform = process.platform, arch = process.arch, which = libc(platform, arch)) {
  return path.join(root, 'prebuilds', `${platform}-${arch}`, which === 'musl' ? 'mmap-io.musl.node' : 'mmap-io.node')
}

module.exports = { libc, prebuild }
