'use strict'
// npm run test:bun / npm run test:deno: the default mocha suite (npm test's) under Bun or
// Deno, with the addon built by this machine's Node. The runtimes come from
// the npm registry (@oven/bun-linux-x64, @deno/linux-x64-glibc), unpacked
// into MMAP_IO_NODE_CACHE (default ~/.cache/mmap-io) like test:matrix's
// Node versions. Prints passed / failed / skipped and the share of the
// suite that ran; fails under 90% passing.
const fs = require('fs')
const path = require('path')
const { execFileSync, spawnSync } = require('child_process')
const { unpack, defaultSuite, mochaCounts } = require('../scripts/tools')

const root = path.join(__dirname, '..')
const which = process.argv[2]
const runtimes = {
  bun: { spec: '@oven/bun-linux-x64@1', dir: 'bun', bin: ['bin', 'bun'], args: [] },
  deno: { spec: '@deno/linux-x64-glibc@2', dir: 'deno', bin: ['deno'], args: ['run', '-A'] }
}
const runtime = runtimes[which]
if (!runtime) throw new Error('usage: node test/runtimes.js bun|deno')
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`test:${which}: the runtime is fetched for linux-x64 only; skipped on ${process.platform}-${process.arch}`)
  process.exit(0)
}

// The runtime's package, unpacked once.
const bin = path.join(unpack(runtime.spec, runtime.dir), ...runtime.bin)
fs.chmodSync(bin, 0o755)
const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim().split('\n')[0]

if (!fs.existsSync(path.join(root, 'build', 'Release', 'mmap_io.node'))) {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
}

const r = spawnSync(bin, [...runtime.args, path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'), ...defaultSuite, '--reporter', 'spec'],
  { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 40 * 60 * 1000 })
const text = (r.stdout || '').replace(/\x1b\[[0-9;]*m/g, '') // eslint-disable-line no-control-regex
process.stdout.write(text)
if (r.status !== 0) process.stdout.write((r.stderr || '').split('\n').slice(-40).join('\n'))

const { passed, failed, skipped } = mochaCounts(text)
const total = passed + failed + skipped
const share = total === 0 ? 0 : (100 * passed) / total
console.log(`\n${version.startsWith(which) ? '' : `${which} `}${version}: ${passed} passed, ${failed} failed, ${skipped} skipped`)
console.log(`${share.toFixed(1)}% of the suite's ${total} tests ran and passed under ${which}`)
process.exitCode = r.status === 0 && failed === 0 && share >= 90 ? 0 : 1
