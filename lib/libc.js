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

// 'musl' or 'glibc' on Linux, null elsewhere. A glibc process's report
// names the glibc it runs on (glibcVersionRuntime), a musl one's does not;
// the report is asked only where musl's loader exists, so that a glibc
// system without musl pays one stat. Deno has no musl build.
function libc (platform = process.platform, arch = process.arch, report = process.report, exists = fs.existsSync,
  deno = process.versions.deno !== undefined) {
  if (platform !== 'linux') return null
  const [musl, glibc] = LOADERS[arch] || []
  if (deno || !musl || !exists(musl)) return 'glibc'
  if (report && typeof report.getReport === 'function') {
    const header = report.getReport().header || {}
    return header.glibcVersionRuntime ? 'glibc' : 'musl'
  }
  return exists(glibc) ? 'glibc' : 'musl'
}

// The prebuild for this platform, under the package root `root`.
function prebuild (root, platform = process.platform, arch = process.arch, which = libc(platform, arch)) {
  return path.join(root, 'prebuilds', `${platform}-${arch}`, which === 'musl' ? 'mmap-io.musl.node' : 'mmap-io.node')
}

module.exports = { libc, prebuild }
