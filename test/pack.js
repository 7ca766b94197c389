'use strict'
// npm run test:pack: what users install works.
//  1. npm pack (its prepack refuses a tarball without the five prebuilds
//     made from these sources, shown on spoiled copies): the tarball holds
//     exactly linux-x64, linux-arm64, their musl twins (test:musl checks
//     those load) and win32-x64, and no tests, benchmarks or builds.
//  2. The tarball installed with scripts blocked (--ignore-scripts), and a
//     round trip (require, import, write, sync, read back) on the prebuilt
//     binary: on linux-x64 (this machine), linux-arm64 (the arm64 node and
//     npm's own JavaScript under qemu-user) and win32-x64 (node.exe and
//     npm's JavaScript under Wine).
//  3. The same tarball without prebuilds/, installed with scripts allowed:
//     it compiles from source and works.
const assert = require('assert')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync, spawnSync } = require('child_process')
const prebuilds = require('../scripts/prebuilds')
const { unpack, arm64Node, windowsNode } = require('../scripts/tools')

const root = path.join(__dirname, '..')
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-pack-'))
const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
// npm's own JavaScript, for the emulated installs (the node packages ship
// node alone).
const npmCli = () => path.join(unpack('npm@10', 'npm-10'), 'bin', 'npm-cli.js')

const roundTrip = `
  const mmap = require('mmap-io'), fs = require('fs'), path = require('path')
  const file = path.join(__dirname, 'data.bin')
  fs.writeFileSync(file, Buffer.alloc(mmap.PAGESIZE))
  const buf = mmap.open(file, { mode: 'r+' })
  buf.write('round trip')
  mmap.sync(buf, true)
  mmap.unmap(buf)
  const back = fs.readFileSync(file, 'utf8').slice(0, 10)
  const binary = Object.keys(require.cache).find((file) => file.endsWith('.node'))
  console.log(JSON.stringify({ back, binary, platform: process.platform + '-' + process.arch }))
`
const esm = `
  import mmap, { map, PAGESIZE, open } from 'mmap-io'
  import { createRequire } from 'module'
  const cjs = createRequire(import.meta.url)('mmap-io')
  if (mmap !== cjs || map !== cjs.map || open !== cjs.open || PAGESIZE !== cjs.PAGESIZE) throw new Error('ESM and CJS differ')
  console.log('esm ok')
`

// A fresh project with the tarball installed by `install(dir)`; then the
// round trip and the ESM check, run by `node(args, dir)`.
function project (name, install, node) {
  const dir = path.join(work, name)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }))
  install(dir)
  fs.writeFileSync(path.join(dir, 'check.js'), roundTrip)
  fs.writeFileSync(path.join(dir, 'check.mjs'), esm)
  const result = JSON.parse(node(['check.js'], dir))
  assert.strictEqual(result.back, 'round trip')
  assert.strictEqual(node(['check.mjs'], dir).trim(), 'esm ok')
  const pkg = path.join(dir, 'node_modules', 'mmap-io')
  // node.exe reports a Windows path (Z:\tmp\...): compare from the package.
  const binary = result.binary.replace(/\\/g, '/').split('/node_modules/mmap-io/')[1]
  return { dir, pkg, binary, platform: result.platform }
}

// One scripts-blocked install: nothing compiled, the platform's prebuild loaded.
function checkPrebuilt (label, r, target) {
  assert.ok(!fs.existsSync(path.join(r.pkg, 'build')), `${label}: nothing was compiled`)
  assert.strictEqual(r.platform, target)
  assert.strictEqual(r.binary, `prebuilds/${target}/mmap-io.node`)
  console.log(`  ${label}: installed with --ignore-scripts; require, import and a round trip work on ${r.binary}`)
}

let passed = 0
try {
  // 1. The tarball.
  const found = prebuilds.problems()
  if (found.length) {
    console.log(`building the prebuilds (${found.join('; ')})`)
    prebuilds.build(prebuilds.TARGETS)
  }
  const tarball = path.join(work, npm(['pack', '--pack-destination', work], root).trim().split('\n').pop())
  const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort()
  console.log(`tarball ${path.basename(tarball)}: ${fs.statSync(tarball).size} bytes, ${listing.length} files`)
  for (const f of listing) console.log(`  ${f}`)
  assert.deepStrictEqual(listing.filter((f) => f.startsWith('package/prebuilds/')), [
    'package/prebuilds/MANIFEST.json',
    ...prebuilds.TARGETS.map((t) => `package/prebuilds/${prebuilds.fileOf(t)}`)
  ].sort(), 'exactly the five prebuilds')
  assert.ok(!listing.some((f) => /^package\/(test|bench|build|examples|node_modules|scripts)\//.test(f)), 'no tests, benchmarks or builds')
  console.log(`1. the tarball holds exactly the five prebuilds (${prebuilds.TARGETS.join(', ')})`)
  passed++

  // 1b. npm pack refuses (prepack) a copy whose prebuilds are incomplete or
  // were built from other sources.
  const refusals = []
  for (const [what, spoil] of [
    ['without the linux-arm64 prebuild', (dir) => fs.rmSync(path.join(dir, 'prebuilds', 'linux-arm64', 'mmap-io.node'))],
    ['without the linux-x64 musl prebuild', (dir) => fs.rmSync(path.join(dir, 'prebuilds', 'linux-x64', 'mmap-io.musl.node'))],
    ['with a source changed since the build', (dir) => fs.appendFileSync(path.join(dir, 'src', 'calls.c'), '\n')],
    ['with a prebuild that is not the one built', (dir) => fs.appendFileSync(path.join(dir, 'prebuilds', 'win32-x64', 'mmap-io.node'), '\0')]
  ]) {
    const copy = path.join(work, 'spoiled')
    fs.rmSync(copy, { recursive: true, force: true })
    fs.mkdirSync(copy)
    execFileSync('tar', ['xzf', tarball, '-C', copy, '--strip-components=1'])
    fs.cpSync(path.join(root, 'scripts'), path.join(copy, 'scripts'), { recursive: true })
    spoil(copy)
    const r = spawnSync('npm', ['pack', '--dry-run'], { cwd: copy, encoding: 'utf8' })
    assert.notStrictEqual(r.status, 0, `npm pack ${what} must fail`)
    assert.match(r.stderr, /refusing to pack/)
    refusals.push(`${what}: ${r.stderr.split('\n').find((l) => /^\s+prebuilds\//.test(l)).trim()}`)
  }
  console.log(`   npm pack refuses a copy\n     ${refusals.join('\n     ')}`)
  passed++

  // 2. Installed with scripts blocked, on each platform. The emulated npm
  // installs offline, from a cache that this machine's npm fills with the
  // package's one dependency (Wine has no route to the registry).
  console.log('2. installed with scripts blocked:')
  const npmCache = path.join(work, 'npm-cache')
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'))
  npm(['cache', 'add', `node-gyp-build@${lock.packages['node_modules/node-gyp-build'].version}`, '--cache', npmCache], work)
  const offline = ['--ignore-scripts', '--no-audit', '--no-fund', '--offline', '--cache', npmCache]
  const native = project('linux-x64', (dir) => npm(['install', tarball, '--ignore-scripts'], dir),
    (args, cwd) => execFileSync(process.execPath, args, { cwd, encoding: 'utf8' }))
  checkPrebuilt('linux-x64 (native)', native, 'linux-x64')
  passed++

  const arm = arm64Node(22)
  const armRun = (args, cwd) => execFileSync(arm.node, args, { cwd, env: arm.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  const arm64 = project('linux-arm64', (dir) => armRun([npmCli(), 'install', tarball, ...offline], dir), armRun)
  checkPrebuilt(`linux-arm64 (node ${armRun(['--version'], work).trim()} under qemu-user)`, arm64, 'linux-arm64')
  passed++

  const win = windowsNode(20)
  // node.exe's output must go to a file under Wine, not to a pipe.
  const winRun = (args, cwd) => {
    const out = path.join(work, 'wine.out')
    const fd = fs.openSync(out, 'w')
    const r = spawnSync(win.wine, [win.nodeExe, ...args], { cwd, env: win.env, stdio: ['ignore', fd, fd], timeout: 10 * 60 * 1000 })
    fs.closeSync(fd)
    const text = fs.readFileSync(out, 'utf8')
    if (r.status !== 0) throw new Error(`node.exe ${args.join(' ')} exited ${r.status}:\n${text}`)
    return text
  }
  try {
    const windows = project('win32-x64', (dir) => winRun([npmCli(), 'install', tarball, ...offline], dir), winRun)
    checkPrebuilt(`win32-x64 (node.exe ${winRun(['--version'], work).trim()} under Wine)`, windows, 'win32-x64')
    passed++
  } finally {
    spawnSync(win.wineserver, ['-k'], { env: win.env })
  }

  // 3. The same package without prebuilds/, repacked (without the prepack
  // check, which is for the real package).
  const unpacked = path.join(work, 'unpacked')
  fs.mkdirSync(unpacked)
  execFileSync('tar', ['xzf', tarball, '-C', unpacked])
  fs.rmSync(path.join(unpacked, 'package', 'prebuilds'), { recursive: true })
  const source = path.join(work, 'source-only')
  fs.mkdirSync(source)
  const sourceTarball = path.join(source, npm(['pack', '--ignore-scripts', '--pack-destination', source], path.join(unpacked, 'package')).trim().split('\n').pop())
  const built = project('from-source', (dir) => npm(['install', sourceTarball], dir),
    (args, cwd) => execFileSync(process.execPath, args, { cwd, encoding: 'utf8' }))
  assert.strictEqual(built.binary, 'build/Release/mmap_io.node')
  console.log(`3. without prebuilds, scripts allowed: compiled from source to ${built.binary}; require, import and a round trip work`)
  passed++
  console.log(`test:pack: ${passed} passed, 0 failed`)
} catch (err) {
  console.log(`test:pack: ${passed} passed, 1 failed`)
  throw err
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
