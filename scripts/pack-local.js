'use strict'
// npm run pack:local: a tarball for trying the package out locally, with the
// host's prebuild alone (built by node-gyp, `npm run build`), where the
// release tarball (npm pack) needs all five prebuilds and their cross
// toolchains. It is written as mmap-io-<version>-local.tgz, and npm publish
// refuses it: its package.json says "private": true (npm's own refusal,
// EPRIVATE, also for `npm publish <tarball>`, which runs no script), its
// prepublishOnly refuses, and prebuilds/MANIFEST.json says "local": true
// (the release guard, scripts/prebuilds.js --check, refuses that set).
const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync } = require('child_process')
const { libc } = require('../lib/libc')

const root = path.join(__dirname, '..')
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })

function packLocal () {
  npm(['run', 'build', '--silent'], root)
  const binary = path.join(root, 'build', 'Release', 'mmap_io.node')
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-local-'))
  try {
    // The files npm would pack, without prebuilds/.
    const files = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], root))[0].files.map((f) => f.path)
    for (const f of files.filter((f) => !f.startsWith('prebuilds/'))) {
      fs.mkdirSync(path.dirname(path.join(stage, f)), { recursive: true })
      fs.copyFileSync(path.join(root, f), path.join(stage, f))
    }
    const target = `${process.platform}-${process.arch}`
    const name = `mmap-io${libc() === 'musl' ? '.musl' : ''}.node`
    fs.mkdirSync(path.join(stage, 'prebuilds', target), { recursive: true })
    fs.copyFileSync(binary, path.join(stage, 'prebuilds', target, name))
    fs.writeFileSync(path.join(stage, 'prebuilds', 'MANIFEST.json'),
      JSON.stringify({ local: true, sources: null, files: { [target]: name } }, null, 2) + '\n')
    const pkg = JSON.parse(fs.readFileSync(path.join(stage, 'package.json'), 'utf8'))
    pkg.private = true
    pkg.scripts.prepublishOnly = 'node -e "console.error(\'mmap-io: refusing to publish a tarball of npm run pack:local (one prebuild)\'); process.exit(1)"'
    fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
    const packed = npm(['pack', '--ignore-scripts', '--pack-destination', stage], stage).trim().split('\n').pop()
    const out = path.join(root, packed.replace(/\.tgz$/, '-local.tgz'))
    fs.renameSync(path.join(stage, packed), out)
    console.log(`${path.relative(process.cwd(), out) || out}: prebuilds/${target}/${name} only; npm publish refuses it (private)`)
    return out
  } finally {
    fs.rmSync(stage, { recursive: true, force: true })
  }
}

module.exports = { packLocal }

if (require.main === module) packLocal()
