'use strict'
// npm run test:pack: what users install works.
//  1. npm pack (with the prebuild), install the tarball into a fresh project
//     with --ignore-scripts: require and import work and a round trip passes
//     on the prebuilt binary.
//  2. The same tarball without prebuilds/, installed with scripts allowed:
//     it compiles from source and works.
const assert = require('assert')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync } = require('child_process')

const root = path.join(__dirname, '..')
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-pack-'))
const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
const node = (args, cwd) => execFileSync(process.execPath, args, { cwd, encoding: 'utf8' })

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
  console.log(JSON.stringify({ back, binary }))
`
const esm = `
  import mmap, { map, PAGESIZE, open } from 'mmap-io'
  import { createRequire } from 'module'
  const cjs = createRequire(import.meta.url)('mmap-io')
  if (mmap !== cjs || map !== cjs.map || open !== cjs.open || PAGESIZE !== cjs.PAGESIZE) throw new Error('ESM and CJS differ')
  console.log('esm ok')
`

function project (name, tarball, installArgs) {
  const dir = path.join(work, name)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }))
  npm(['install', tarball, ...installArgs], dir)
  fs.writeFileSync(path.join(dir, 'check.js'), roundTrip)
  fs.writeFileSync(path.join(dir, 'check.mjs'), esm)
  const result = JSON.parse(node(['check.js'], dir))
  assert.strictEqual(result.back, 'round trip')
  assert.strictEqual(node(['check.mjs'], dir).trim(), 'esm ok')
  return { dir, binary: path.relative(path.join(dir, 'node_modules', 'mmap-io'), result.binary) }
}

try {
  if (!fs.existsSync(path.join(root, 'prebuilds'))) npm(['run', 'prebuild'], root)
  const tarball = path.join(work, npm(['pack', '--pack-destination', work], root).trim().split('\n').pop())
  const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort()
  console.log(`tarball ${path.basename(tarball)}: ${fs.statSync(tarball).size} bytes, ${listing.length} files`)
  for (const f of listing) console.log(`  ${f}`)
  assert.ok(listing.some((f) => f.startsWith('package/prebuilds/')), 'the tarball has the prebuild')
  assert.ok(!listing.some((f) => /^package\/(test|bench|build|examples|node_modules)\//.test(f)), 'no tests, benchmarks or builds')

  const prebuilt = project('with-prebuild', tarball, ['--ignore-scripts'])
  assert.ok(!fs.existsSync(path.join(prebuilt.dir, 'node_modules', 'mmap-io', 'build')), 'nothing was compiled')
  assert.match(prebuilt.binary, /^prebuilds\//)
  console.log(`1. --ignore-scripts: require, import and a round trip work on ${prebuilt.binary}`)

  // The same package without prebuilds/, repacked.
  const unpacked = path.join(work, 'unpacked')
  fs.mkdirSync(unpacked)
  execFileSync('tar', ['xzf', tarball, '-C', unpacked])
  fs.rmSync(path.join(unpacked, 'package', 'prebuilds'), { recursive: true })
  const source = path.join(work, 'source-only')
  fs.mkdirSync(source)
  const sourceTarball = path.join(source, npm(['pack', '--pack-destination', source], path.join(unpacked, 'package')).trim().split('\n').pop())
  const built = project('from-source', sourceTarball, [])
  assert.match(built.binary, /^build\/Release\//)
  console.log(`2. without prebuilds, scripts allowed: compiled from source to ${built.binary}; require, import and a round trip work`)
  console.log('test:pack: 2 passed, 0 failed')
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
