'use strict'
// Loads the addon: the local build if there is one (npm install compiled it
// from source), else the prebuilt binary for this platform and libc
// (lib/libc.js). It lists no directory and reads no environment variable,
// so Deno needs only --allow-ffi to load it. (node-gyp-build, the install
// script, does both.)
const path = require('path')
const { prebuild } = require('./libc')

const root = path.join(__dirname, '..')
// Functions, so that the libc is looked into only when there is no local
// build.
const candidates = [
  () => path.join(root, 'build', 'Release', 'mmap_io.node'),
  () => prebuild(root)
]

function load () {
  const errors = []
  for (const candidate of candidates) {
    const file = candidate()
    try {
      return Object.assign(require(file), { file })
    } catch (err) {
      if (err.code !== 'MODULE_NOT_FOUND' && err.code !== 'ERR_DLOPEN_FAILED' && !/cannot open shared object|No such file|not find/i.test(err.message)) throw err
      // A local build of another platform or architecture (a checkout shared
      // with Wine, qemu or a container) is passed over for the prebuilt
      // binary, silently: that is the normal case there.
      errors.push(`  ${path.relative(root, file)}: ${err.message.split('\n')[0]}`)
    }
  }
  const err = new Error(`No native build was found for ${process.platform}-${process.arch} ` +
    `(${process.versions.bun ? 'Bun' : process.versions.deno ? 'Deno' : 'Node'} ${process.version}). Tried:\n` +
    `${errors.join('\n')}\nInstall with scripts allowed (npm rebuild mmap-io) to compile it from source.`)
  err.code = 'ERR_MMAP_IO_NO_BINARY'
  throw err
}

module.exports = load()
