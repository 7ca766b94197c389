'use strict'
// Which prebuild an install picks: the musl one on musl only. node-gyp-build
// (the install script) is asked in a child process, its libc given by the
// LIBC variable it reads; lib/libc.js (what lib/binding.js loads) with a
// faked report and loader paths.
const assert = require('assert')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync } = require('child_process')
const { libc, prebuild } = require('../lib/libc')
const { TARGETS, fileOf } = require('../scripts/prebuilds')

describe('install selection (musl or glibc)', function () {
  let dir
  before(function () {
    // A package with the five prebuilds' names (empty files: only the
    // choice is tested) and no build/.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-select-'))
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'mmap-io' }))
    for (const t of TARGETS) {
      fs.mkdirSync(path.join(dir, 'prebuilds', path.dirname(fileOf(t))), { recursive: true })
      fs.writeFileSync(path.join(dir, 'prebuilds', fileOf(t)), '')
    }
  })
  after(function () { fs.rmSync(dir, { recursive: true, force: true }) })

  const resolve = (env) => path.relative(dir, execFileSync(process.execPath,
    ['-e', `process.stdout.write(require('node-gyp-build').resolve(${JSON.stringify(dir)}))`],
    { encoding: 'utf8', env: { ...process.env, ...env } })).replace(/\\/g, '/')

  for (const arch of ['x64', 'arm64']) {
    it(`node-gyp-build picks mmap-io.musl.node on linux-${arch} musl, mmap-io.node on glibc`, function () {
      const env = { npm_config_platform: 'linux', npm_config_arch: arch }
      assert.strictEqual(resolve({ ...env, LIBC: 'musl' }), `prebuilds/linux-${arch}/mmap-io.musl.node`)
      assert.strictEqual(resolve({ ...env, LIBC: 'glibc' }), `prebuilds/linux-${arch}/mmap-io.node`)
    })
  }

  it('node-gyp-build picks the one Windows prebuild whatever LIBC says', function () {
    assert.strictEqual(resolve({ npm_config_platform: 'win32', npm_config_arch: 'x64', LIBC: 'musl' }), 'prebuilds/win32-x64/mmap-io.node')
  })

  it('node-gyp-build on this machine (glibc, no LIBC) picks the glibc prebuild', function () {
    if (process.platform !== 'linux') this.skip()
    const env = { ...process.env }
    delete env.LIBC
    assert.strictEqual(path.relative(dir, execFileSync(process.execPath,
      ['-e', `process.stdout.write(require('node-gyp-build').resolve(${JSON.stringify(dir)}))`], { encoding: 'utf8', env })),
    `prebuilds/linux-${process.arch}/mmap-io.node`)
  })

  it('lib/libc.js: musl where the process runs musl\'s loader, glibc where glibc\'s; the loaders on disk where /proc cannot tell', function () {
    const maps = (loader) => () => `7f0000000000-7f0000001000 r--p 00000000 08:01 123   /usr/lib/libfoo.so
7f0000001000-7f0000002000 r-xp 00001000 08:01 124                    ${loader}
`
    const none = () => null
    const only = (...files) => (f) => files.includes(f)
    const all = only('/lib/ld-musl-x86_64.so.1', '/lib64/ld-linux-x86-64.so.2', '/lib/ld-musl-aarch64.so.1', '/lib/ld-linux-aarch64.so.1')
    assert.strictEqual(libc('linux', 'x64', maps('/lib/ld-musl-x86_64.so.1'), all, false), 'musl')
    assert.strictEqual(libc('linux', 'arm64', maps('/lib/ld-musl-aarch64.so.1'), all, false), 'musl')
    // Debian with the musl package, or Alpine with gcompat: both loaders on
    // disk; the one the process runs decides.
    assert.strictEqual(libc('linux', 'x64', maps('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'), all, false), 'glibc')
    assert.strictEqual(libc('linux', 'arm64', maps('/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1'), all, false), 'glibc')
    // No /proc (or a static binary): the loaders on disk.
    assert.strictEqual(libc('linux', 'x64', none, only('/lib/ld-musl-x86_64.so.1'), false), 'musl')
    assert.strictEqual(libc('linux', 'x64', none, all, false), 'glibc')
    assert.strictEqual(libc('linux', 'x64', maps('/usr/lib/libc.so'), only(), false), 'glibc')
    assert.strictEqual(libc('win32', 'x64', maps('/lib/ld-musl-x86_64.so.1'), all, false), null)
    // Deno has no musl build: glibc's binary, whatever the loaders.
    assert.strictEqual(libc('linux', 'x64', maps('/lib/ld-musl-x86_64.so.1'), all, true), 'glibc')
  })

  it('lib/libc.js: the file lib/binding.js loads is the one node-gyp-build picks', function () {
    for (const arch of ['x64', 'arm64']) {
      for (const which of ['musl', 'glibc']) {
        const env = { npm_config_platform: 'linux', npm_config_arch: arch, LIBC: which }
        assert.strictEqual(path.relative(dir, prebuild(dir, 'linux', arch, which)).split(path.sep).join('/'), resolve(env))
      }
    }
    if (process.platform === 'linux') assert.strictEqual(libc(), 'glibc', 'this machine runs glibc')
  })
})
