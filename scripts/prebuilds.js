// The prebuilt binaries the package ships, one per platform, so that
// `npm install --ignore-scripts` needs no compiler:
//   prebuilds/linux-x64/mmap-io.node        node-gyp here (npm run build)
//   prebuilds/linux-arm64/mmap-io.node      cross-compiled, gcc-aarch64-linux-gnu
//   prebuilds/linux-x64/mmap-io.musl.node   cross-compiled, zig cc (musl)
//   prebuilds/linux-arm64/mmap-io.musl.node cross-compiled, zig cc (musl)
//   prebuilds/win32-x64/mmap-io.node        cross-compiled, mingw-w64
// and prebuilds/MANIFEST.json: a hash of the sources they were built from,
// and of each binary. The `musl` tag is node-gyp-build's libc tag (the
// install script picks that file on musl only); lib/binding.js loads the
// same file.
//
//   node scripts/prebuilds.js           build all five (npm run prebuilds)
//   node scripts/prebuilds.js --check   fail unless all five exist and
//                                       match the sources (prepack)
//   node scripts/prebuilds.js linux-arm64 ...   build only those
//   node scripts/prebuilds.js --local   build the host's prebuild alone
//                                       and mark the set local (see below)
//
// The toolchains come from Debian (apt-get) when missing, zig from the npm
// registry; Node-API's headers and node.exe's import library from the npm
// registry, into MMAP_IO_NODE_CACHE (default ~/.cache/mmap-io).
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')
const { spawnSync } = require('child_process')
const { cache, run, has, aptInstall, unpack, zigCompiler } = require('./tools')
const { description, ENTRY_POINTS } = require('./build-description')

const root = path.join(__dirname, '..')
const prebuilds = path.join(root, 'prebuilds')
const manifestFile = path.join(prebuilds, 'MANIFEST.json')
const TARGETS = ['linux-x64', 'linux-arm64', 'linux-x64-musl', 'linux-arm64-musl', 'win32-x64']
// prebuilds/<platform>-<arch>/mmap-io[.musl].node
const dirOf = (target) => target.replace(/-musl$/, '')
const fileOf = (target) => `${dirOf(target)}/mmap-io${target.endsWith('-musl') ? '.musl' : ''}.node`
const binaryOf = (target) => path.join(prebuilds, fileOf(target))
const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex')

// What the binaries are built from: every file of src/ and binding.gyp.
function sourcesHash () {
  const hash = crypto.createHash('sha256')
  const files = fs.readdirSync(path.join(root, 'src')).sort().map((f) => path.join('src', f))
  for (const file of [...files, 'binding.gyp']) {
    hash.update(`${file}\0`)
    hash.update(fs.readFileSync(path.join(root, file)))
  }
  return hash.digest('hex')
}

// The compiler arguments binding.gyp gives for `os`: flags, defines and
// sources, as node-gyp would pass them.
function gypArgs (os) {
  const d = description(os)
  return [...d.cflags, ...d.defines.map((x) => `-D${x}`), ...d.sources]
}

// Throws unless a built binary exports only the Node-API entry points:
// `symbols` is the list its tool printed.
function onlyEntryPoints (target, symbols) {
  const extra = symbols.filter((s) => !ENTRY_POINTS.includes(s))
  if (extra.length) throw new Error(`${target} exports ${extra.length} symbols besides Node-API's entry points: ${extra.slice(0, 10).join(', ')}`)
}

// The functions a Linux binary exports (its dynamic symbol table).
const elfExports = (file) => run('nm', ['-D', '--defined-only', file]).split('\n')
  .map((line) => line.trim().split(/\s+/)).filter((f) => f.length === 3 && /[TtWi]/.test(f[1])).map((f) => f[2])

// Compiles; returns the number of warnings (0 is required).
function compile (cc, args) {
  const r = spawnSync(cc, args, { cwd: root, encoding: 'utf8' })
  process.stderr.write(r.stderr)
  if (r.status !== 0) throw new Error(`${cc} failed`)
  return (r.stderr.match(/warning:/g) || []).length
}

// A musl build with zig cc: the same arguments as the glibc builds.
function zigBuild (target, triple) {
  const { zig, env } = zigCompiler()
  const headers = unpack('node-api-headers@1', 'node-api-headers')
  const out = binaryOf(target)
  fs.mkdirSync(path.dirname(out), { recursive: true })
  // zig links musl's crti.o, whose _init and _fini would be exported: a
  // version script keeps the entry points alone global, as
  // -fvisibility=hidden does for the glibc builds.
  const exportsMap = path.join(cache, 'zig-0.11.0', 'entry-points.map')
  fs.writeFileSync(exportsMap, `{ global: ${ENTRY_POINTS.join('; ')}; local: *; };\n`)
  const r = spawnSync(zig, ['cc', '-target', triple, '-O2', '-fPIC', '-shared', '-s',
    `-Wl,--version-script=${exportsMap}`, '-I', path.join(headers, 'include'), '-o', out, ...gypArgs('linux')],
  { cwd: root, env, encoding: 'utf8' })
  process.stderr.write(r.stderr)
  if (r.status !== 0) throw new Error(`zig cc -target ${triple} failed`)
  onlyEntryPoints(target, elfExports(out))
  // Ours only: with a cold cache, zig first builds musl's start files from
  // its own copy of musl, which warns about musl's code.
  return r.stderr.split('\n').filter((l) => /warning:/.test(l) && !l.startsWith(path.dirname(zig))).length
}

const builders = {
  'linux-x64' () {
    if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('linux-x64 is built on linux-x64')
    // node-gyp, as `npm run build` (npm's nodedir setting applies); the
    // compiler's output is counted like the others'.
    const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`node-gyp failed:\n${r.stdout}${r.stderr}`)
    const out = binaryOf('linux-x64')
    fs.mkdirSync(path.dirname(out), { recursive: true })
    fs.copyFileSync(path.join(root, 'build', 'Release', 'mmap_io.node'), out)
    run('strip', ['--strip-all', out])
    onlyEntryPoints('linux-x64', elfExports(out))
    return (`${r.stdout}${r.stderr}`.match(/warning:/g) || []).length
  },

  'linux-arm64' () {
    if (!has('aarch64-linux-gnu-gcc')) aptInstall(['gcc-aarch64-linux-gnu'])
    const headers = unpack('node-api-headers@1', 'node-api-headers')
    const out = binaryOf('linux-arm64')
    fs.mkdirSync(path.dirname(out), { recursive: true })
    const warnings = compile('aarch64-linux-gnu-gcc', ['-O2', '-fPIC', '-shared', '-s',
      '-I', path.join(headers, 'include'), '-o', out, ...gypArgs('linux')])
    onlyEntryPoints('linux-arm64', elfExports(out))
    return warnings
  },

  'linux-x64-musl' () {
    return zigBuild('linux-x64-musl', 'x86_64-linux-musl')
  },

  'linux-arm64-musl' () {
    return zigBuild('linux-arm64-musl', 'aarch64-linux-musl')
  },

  'win32-x64' () {
    const gcc = 'x86_64-w64-mingw32-gcc'
    if (!has(gcc)) aptInstall(['gcc-mingw-w64-x86-64'])
    const headers = unpack('node-api-headers@1', 'node-api-headers')
    // An import library for node.exe, from Node-API's .def: the addon
    // imports Node-API and nothing else.
    const lib = path.join(cache, 'win', 'lib')
    fs.mkdirSync(lib, { recursive: true })
    run('x86_64-w64-mingw32-dlltool', ['-d', path.join(headers, 'def', 'node_api.def'), '-D', 'node.exe', '-l', path.join(lib, 'libnode_api.a')])
    const out = binaryOf('win32-x64')
    fs.mkdirSync(path.dirname(out), { recursive: true })
    const warnings = compile(gcc, ['-O2', '-shared', '-s', '-I', path.join(headers, 'include'), '-o', out,
      ...gypArgs('win'), '-L', lib, '-lnode_api', '-lpsapi'])
    const imports = run('x86_64-w64-mingw32-objdump', ['-p', out])
    // The export table: mingw exports every function unless one is marked
    // for export, and Node-API's macros mark the entry points.
    const table = (imports.split(/\[Ordinal\/Name Pointer\] Table\n/)[1] || '').split(/\n\s*\n/)[0]
    onlyEntryPoints('win32-x64', [...table.matchAll(/^\s*\[\s*\d+\]\s+(\w+)/gm)].map((m) => m[1]))
    const fromNode = imports.split(/DLL Name: /).find((part) => /^node\.exe/i.test(part)) || ''
    const uv = fromNode.match(/\buv_\w+/g) || []
    console.log(`win32-x64 imports from node.exe: ${(fromNode.match(/\bnapi_\w+/g) || []).length} napi_* functions, ${uv.length} uv_* functions`)
    if (uv.length) throw new Error(`the addon imports libuv: ${uv.join(', ')}`)
    return warnings
  }
}

// The newest glibc symbol version a Linux binary needs: at most 2.28, the
// floor of Node 18's own binaries (src/glibc_compat.h).
const GLIBC_FLOOR = [2, 28]
function checkGlibc (target, file) {
  const objdump = target === 'linux-arm64' ? 'aarch64-linux-gnu-objdump' : 'objdump'
  const versions = [...new Set(run(objdump, ['-T', file]).match(/GLIBC_[0-9.]+/g) || [])]
    .map((v) => v.slice(6).split('.').map(Number))
    .sort((a, b) => a[0] - b[0] || a[1] - b[1] || (a[2] || 0) - (b[2] || 0))
  const newest = versions.pop() || [0, 0]
  console.log(`${target} needs glibc ${newest.join('.')} or later`)
  if (newest[0] > GLIBC_FLOOR[0] || (newest[0] === GLIBC_FLOOR[0] && newest[1] > GLIBC_FLOOR[1])) {
    throw new Error(`${target} needs glibc ${newest.join('.')}, newer than ${GLIBC_FLOOR.join('.')}: see src/glibc_compat.h`)
  }
}

// A musl binary needs musl's libc and nothing of glibc: its one needed
// library is libc (musl's loader answers any libc.* name with itself), and
// it asks for no symbol version (glibc's GLIBC_*; musl has none).
function checkMusl (target, file) {
  const needed = [...run('readelf', ['-d', file]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1])
  if (needed.some((lib) => !/^libc\./.test(lib))) throw new Error(`${target} needs ${needed.join(', ')}: only musl's libc is allowed`)
  const versions = run('readelf', ['-V', file]).match(/GLIBC_[0-9.]+/g)
  if (versions) throw new Error(`${target} asks for glibc symbol versions: ${[...new Set(versions)].join(', ')}`)
  console.log(`${target} needs ${needed.join(', ')} and no symbol version`)
}

function readManifest () {
  try {
    return JSON.parse(fs.readFileSync(manifestFile, 'utf8'))
  } catch {
    return { sources: null, files: {} }
  }
}

function build (targets) {
  const manifest = readManifest()
  const current = sourcesHash()
  // Binaries of other sources than these are not kept in the manifest.
  if (manifest.sources !== current) manifest.files = {}
  manifest.sources = current
  for (const target of targets) {
    const warnings = builders[target]()
    if (warnings !== 0) throw new Error(`${target}: ${warnings} compiler warnings`)
    if (target.endsWith('-musl')) checkMusl(target, binaryOf(target))
    else if (target.startsWith('linux-')) checkGlibc(target, binaryOf(target))
    const binary = fs.readFileSync(binaryOf(target))
    manifest.files[target] = sha256(binary)
    console.log(`built prebuilds/${fileOf(target)}: ${binary.length} bytes, sha256 ${manifest.files[target].slice(0, 16)}…`)
  }
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n')
}

// The reasons the prebuilds cannot be packed, or [].
function problems () {
  const manifest = readManifest()
  const found = []
  if (manifest.sources !== sourcesHash()) found.push('prebuilds/MANIFEST.json was not made from the current sources')
  for (const target of TARGETS) {
    const file = binaryOf(target)
    if (!fs.existsSync(file)) found.push(`prebuilds/${fileOf(target)} is missing`)
    else if (manifest.files[target] !== sha256(fs.readFileSync(file))) found.push(`prebuilds/${fileOf(target)} is not the one built from the current sources`)
  }
  // Nothing else: a file there would be packed, and node-gyp-build might
  // pick it.
  const expected = new Set(['MANIFEST.json', ...TARGETS.map(dirOf), ...TARGETS.map(fileOf)])
  const walk = (rel) => fs.readdirSync(path.join(prebuilds, rel), { withFileTypes: true })
    .flatMap((e) => { const f = rel ? `${rel}/${e.name}` : e.name; return e.isDirectory() ? [f, ...walk(f)] : [f] })
  const extra = fs.existsSync(prebuilds) ? walk('').filter((f) => !expected.has(f)) : []
  for (const f of extra) found.push(`prebuilds/${f} is not one of the prebuilds (${TARGETS.map(fileOf).join(', ')})`)
  return found
}

module.exports = { TARGETS, build, problems, binaryOf, fileOf, sourcesHash }

if (require.main === module) {
  const args = process.argv.slice(2)
  if (args[0] === '--check') {
    const found = problems()
    if (found.length) {
      console.error(`mmap-io: refusing to pack:\n  ${found.join('\n  ')}\nRun \`npm run prebuilds\` to build all five (\`npm run pack:local\` packs the host's alone, for a local test: npm publish refuses that tarball).`)
      process.exitCode = 1
    } else {
      console.log(`prebuilds: ${TARGETS.join(', ')} match the sources`)
    }
  } else {
    const targets = args.length ? args : TARGETS
    for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t}`)
    build(targets)
  }
}
