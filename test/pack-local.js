'use strict'
// npm run test:pack-local: `npm run pack:local` packs the host's prebuild
// alone, the tarball installs and works with scripts blocked, and npm
// publish refuses it: from its unpacked directory, `npm publish --dry-run`
// fails in prepublishOnly; its package.json is private (npm's EPRIVATE on
// a real `npm publish <tarball>`, which runs no script; npm 10's dry run
// does not check it, so that part is shown on the manifest).
const assert = require('assert')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync, spawnSync } = require('child_process')
const { packLocal } = require('../scripts/pack-local')

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-pack-local-'))
let passed = 0
let tarball
try {
  tarball = packLocal()
  const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n')
  const target = `${process.platform}-${process.arch}`
  assert.deepStrictEqual(listing.filter((f) => f.startsWith('package/prebuilds/')).sort(),
    ['package/prebuilds/MANIFEST.json', `package/prebuilds/${target}/mmap-io.node`])
  console.log(`1. ${path.basename(tarball)} (${fs.statSync(tarball).size} bytes): prebuilds/${target}/mmap-io.node only`)
  passed++

  const dir = path.join(work, 'project')
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"p","version":"1.0.0","private":true}')
  execFileSync('npm', ['install', tarball, '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'ignore' })
  const out = execFileSync(process.execPath, ['-e', 'const m = require(\'mmap-io\'); const b = m.map(m.PAGESIZE, m.PROT_READ | m.PROT_WRITE, m.MAP_SHARED | m.MAP_ANONYMOUS, -1); b[0] = 7; console.log(require(\'mmap-io/package.json\').private, b[0], Object.keys(require.cache).find((f) => f.endsWith(\'.node\')))'], { cwd: dir, encoding: 'utf8' })
  assert.match(out, new RegExp(`^true 7 .*prebuilds/${target}/mmap-io\\.node\\n$`))
  console.log('2. installed with --ignore-scripts: the prebuild loads and maps; package.json says private')
  passed++

  const unpacked = path.join(work, 'unpacked')
  fs.mkdirSync(unpacked)
  execFileSync('tar', ['xzf', tarball, '-C', unpacked])
  const r = spawnSync('npm', ['publish', '--dry-run'], { cwd: path.join(unpacked, 'package'), encoding: 'utf8' })
  assert.notStrictEqual(r.status, 0, 'npm publish --dry-run must fail')
  assert.match(r.stderr, /refusing to publish a tarball of npm run pack:local/)
  console.log('3. npm publish --dry-run from its contents is refused: mmap-io: refusing to publish a tarball of npm run pack:local')
  passed++
  console.log(`test:pack-local: ${passed} passed, 0 failed`)
} catch (err) {
  console.log(`test:pack-local: ${passed} passed, 1 failed`)
  throw err
} finally {
  fs.rmSync(work, { recursive: true, force: true })
  if (tarball) fs.rmSync(tarball, { force: true })
}
