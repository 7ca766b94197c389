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

  it('lib/libc.js: musl where musl\'s loader exists and the report names no glibc', function () {
    const musl = { getReport: () => ({ header: {} }) }
    const glibc = { getReport: () => ({ header: { glibcVersionRuntime: '2.36' } }) }
    const only = (...files) => (f) => files.includes(f)
    assert.strictEqual(libc('linux', 'x64', musl, only('/lib/ld-musl-x86_64.so.1'), false), 'musl')
    assert.strictEqual(libc('linux', 'arm64', musl, only('/lib/ld-musl-aarch64.so.1'), false), 'musl')
    // Debian with the musl package: both loaders, glibc's report.
    assert.strictEqual(libc('linux', 'x64', glibc, only('/lib/ld-musl-x86_64.so.1', '/lib64/ld-linux-x86-64.so.2'), false), 'glibc')
    // No musl loader: glibc, without asking for a report.
    const never = { getReport: () => { throw new Error('asked') } }
    assert.strictEqual(libc('linux', 'x64', never, only(), false), 'glibc')
    // No report (a runtime without process.report): the loaders decide.
    assert.strictEqual(libc('linux', 'x64', null, only('/lib/ld-musl-x86_64.so.1'), false), 'musl')
    assert.strictEqual(libc('linux', 'x64', null, only('/lib/ld-musl-x86_64.so.1', '/lib64/ld-linux-x86-64.so.2'), false), 'glibc')
    assert.strictEqual(libc('win32', 'x64', musl, only('/lib/ld-musl-x86_64.so.1'), false), null)
    // Deno has no musl build: glibc's binary, whatever the loaders.
    assert.strictEqual(libc('linux', 'x64', musl, only('/lib/ld-musl-x86_64.so.1'), true), 'glibc')
  })

  it('lib/libc.js: the file lib/binding.js loads is the one node-gyp-build picks', function () {
    for (const arch of ['x64', 'arm64']) {
      for (const which of ['musl', 'glibc']) {
        const env = { npm_config_platform: 'linux', npm_config_arch: arch, LIBC: which }
        assert.strictEqual(path.relative(dir, prebuild(dir, 'linux', arch, which)), resolve(env))
      }
    }
    if (process.platform === 'linux') assert.strictEqual(libc(), 'glibc', 'this machine runs glibc')
  })
})
