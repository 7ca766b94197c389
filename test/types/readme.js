'use strict'
// Part of npm run test:types: every JavaScript and TypeScript code block of
// the README type-checks with tsc --strict, as a user would compile it:
// with TypeScript 5 and TypeScript 7, each with `module: commonjs` (no
// esModuleInterop) and with `module: nodenext`. The package is installed in
// a scratch project as a user would have it (node_modules/mmap-io, with
// @types/node). A ```js block is checked as JavaScript (checkJs); a ```ts
// block as a CommonJS .ts file and as an ES module .mts file.
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')

const root = path.join(__dirname, '..', '..')
const compilers = {
  'TypeScript 5': path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
  'TypeScript 7': path.join(root, 'node_modules', 'typescript-7', 'bin', 'tsc')
}
// TypeScript 7 has no node10 resolution (commonjs resolves as node16 does).
const modes = {
  commonjs: (compiler) => compiler === 'TypeScript 5' ? { module: 'commonjs', moduleResolution: 'node10' } : { module: 'commonjs' },
  nodenext: () => ({ module: 'nodenext', moduleResolution: 'nodenext' })
}

// The README's blocks, with the heading they are under.
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
const blocks = []
const fence = /^```(\w*)\n([\s\S]*?)^```/gm
for (let m; (m = fence.exec(readme)) !== null;) {
  const lang = m[1]
  if (lang !== 'js' && lang !== 'ts') continue
  const before = readme.slice(0, m.index).split('\n').filter((l) => l.startsWith('#')).pop()
  blocks.push({ lang, code: m[2], heading: before, line: readme.slice(0, m.index).split('\n').length + 1 })
}
if (blocks.length === 0) throw new Error('no code blocks found in README.md')

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-readme-types-'))
let failed = 0
try {
  // A user's project: mmap-io and @types/node in node_modules.
  fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'readme-blocks', private: true }))
  fs.mkdirSync(path.join(work, 'node_modules', '@types'), { recursive: true })
  fs.symlinkSync(root, path.join(work, 'node_modules', 'mmap-io'), 'dir')
  fs.symlinkSync(path.join(root, 'node_modules', '@types', 'node'), path.join(work, 'node_modules', '@types', 'node'), 'dir')
  const files = []
  blocks.forEach((b, i) => {
    // Each block is a module of its own (its names do not clash).
    const names = b.lang === 'js' ? [`block${i}.js`] : [`block${i}.ts`, `block${i}.mts`]
    for (const name of names) {
      fs.writeFileSync(path.join(work, name), b.code + (name.endsWith('.js') ? 'module.exports = {}\n' : 'export {}\n'))
      files.push({ name, block: b })
    }
  })
  const rows = []
  for (const [compiler, tsc] of Object.entries(compilers)) {
    const version = spawnSync(process.execPath, [tsc, '--version'], { encoding: 'utf8' }).stdout.trim()
    for (const [mode, options] of Object.entries(modes)) {
      const config = {
        compilerOptions: {
          strict: true,
          noEmit: true,
          allowJs: true,
          checkJs: true,
          target: 'es2022',
          types: ['node'],
          skipLibCheck: false,
          ...options(compiler)
        },
        files: files.map((f) => f.name)
      }
      fs.writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify(config, null, 2))
      const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: work, encoding: 'utf8' })
      const errors = (r.stdout + r.stderr).split('\n').filter((l) => /error TS\d+/.test(l))
      // Errors point at README lines.
      for (const e of errors) {
        const m = /^(block\d+\.m?[jt]s)\((\d+),(\d+)\)/.exec(e)
        const f = m && files.find((x) => x.name === m[1])
        console.log(`  ${compiler} ${mode}: ${f ? `README.md:${f.block.line + Number(m[2]) - 1} (${f.block.heading})` : ''} ${e}`)
      }
      if (r.status !== 0 && errors.length === 0) console.log(r.stdout, r.stderr)
      const ok = r.status === 0
      if (!ok) failed++
      rows.push(`${compiler} (${version}), module ${mode}: ${ok ? 'ok' : `${errors.length} errors`}`)
    }
  }
  const js = blocks.filter((b) => b.lang === 'js').length
  console.log(`README: ${blocks.length} code blocks (${js} JavaScript, ${blocks.length - js} TypeScript), tsc --strict:`)
  for (const row of rows) console.log(`  ${row}`)
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
process.exitCode = failed === 0 ? 0 : 1
