'use strict'
// Every code block of the README runs as written. Each ```js block runs in a
// child process, in a scratch project of its own where `require('mmap-io')`
// is this package (node_modules/mmap-io links to the repository) and the data
// files the block names exist (every quoted `*.bin`, `*.log` or `*.dat` name
// that the block does not create itself with mode 'w+': 64 KiB of zeros,
// made before the block runs). Each ```ts block is compiled
// to CommonJS with TypeScript's transpileModule (its types are checked by
// test/types/readme.js) and runs the same way. A block must exit 0, and a
// block that prints says so in `expected` below, which the test compares.
//
// Two first-line comments mark blocks that are not run on their own:
//   // file: NAME       a file another block uses (a worker script): it is
//                       written as NAME next to every block, and some other
//                       block must name it;
//   // fragment: WHY    a piece of a program that cannot run alone; the
//                       fragments are listed in `fragments` below, so that a
//                       new one is a deliberate change.
const assert = require('assert')
const fs = require('fs')
const os = require('os')
const path = require('path')
const mmap = require('..')
const { root, runChild, assertChildOk, isWindows, skip } = require('./helpers')

// The blocks that are fragments, by the heading they are under. None: every
// block is a program.
const fragments = []

// What a block prints, by the heading it is under: its stdout's lines.
const expected = {
  'mmap-io': ['0'], // the example under the title; data.bin holds zeros
  'Quick start': isWindows
    ? (lines) => assert.strictEqual(lines[0], 'hello, mapped world') // incore() counts the working set on Windows
    : ['hello, mapped world', '[ 0, 4 ]'],
  'Sharing a mapping with worker threads': ['2'],
  'Buffers larger than 4 GiB': ['0'],
  '`using` and `await using`': ['0'],
  TypeScript: []
}

// The README's ```js and ```ts blocks, with the heading each is under and its
// line in README.md.
function readmeBlocks (text) {
  const blocks = []
  const fence = /^```(\w*)\n([\s\S]*?)^```/gm
  for (let m; (m = fence.exec(text)) !== null;) {
    const lang = m[1]
    if (lang !== 'js' && lang !== 'ts') continue
    const before = text.slice(0, m.index).split('\n')
    const heading = before.filter((l) => l.startsWith('#')).pop().replace(/^#+\s*/, '')
    const first = m[2].split('\n')[0]
    const file = /^\/\/ file: (\S+)$/.exec(first)
    const fragment = /^\/\/ fragment: (.+)$/.exec(first)
    blocks.push({
      lang,
      code: m[2],
      heading,
      line: before.length + 1,
      file: file && file[1],
      fragment: fragment && fragment[1]
    })
  }
  return blocks
}

// A heading such as "`open(path[, options])` → `Buffer`" as its first words.
const named = (block, name) => block.heading === name || block.heading.startsWith(`${name}:`)

// The data files a block names: quoted names with a data file's extension,
// but those it creates itself (`open(name, { mode: 'w+', ... })`).
function inputsOf (code) {
  const names = new Set()
  for (const m of code.matchAll(/['"`]([\w.-]+\.(?:bin|log|dat))['"`]/g)) names.add(m[1])
  for (const m of code.matchAll(/['"`]([\w.-]+\.(?:bin|log|dat))['"`],\s*\{\s*mode:\s*'w\+'/g)) names.delete(m[1])
  return [...names]
}

// TypeScript to CommonJS JavaScript, types stripped.
function transpile (code) {
  const ts = require('typescript')
  return ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 }
  }).outputText
}

// A scratch project for one block: mmap-io in node_modules, the README's
// files, and the block's inputs.
function project (block, files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmap-io-readme-'))
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(root, path.join(dir, 'node_modules', 'mmap-io'), isWindows ? 'junction' : 'dir')
  for (const f of files) fs.writeFileSync(path.join(dir, f.file), f.code)
  for (const name of inputsOf(block.code)) fs.writeFileSync(path.join(dir, name), Buffer.alloc(64 * 1024))
  return dir
}

function runBlock (block, files) {
  const dir = project(block, files)
  try {
    const code = block.lang === 'ts' ? transpile(block.code) : block.code
    return runChild(code, { cwd: dir, timeout: 60000 })
  } finally {
    try { fs.rmSync(dir, { recursive: true, force: true }) } catch {} // Windows keeps a mapped file
  }
}

const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
const blocks = readmeBlocks(readme)
const files = blocks.filter((b) => b.file)
const programs = blocks.filter((b) => !b.file && !b.fragment)

describe('README code blocks run as written', function () {
  this.timeout(120000)

  it('the README has code blocks, and every block is a program, a file or a listed fragment', function () {
    assert.ok(programs.length >= 5, `only ${programs.length} runnable blocks found`)
    assert.deepStrictEqual(blocks.filter((b) => b.fragment).map((b) => b.heading), fragments)
  })

  it('every file block is used by another block', function () {
    for (const f of files) {
      assert.ok(programs.some((b) => b.code.includes(f.file)), `README.md:${f.line}: no block uses ${f.file}`)
    }
  })

  it('every block with expected output is in the README', function () {
    for (const heading of Object.keys(expected)) {
      assert.ok(programs.some((b) => named(b, heading)), `no block under "${heading}"`)
    }
  })

  for (const block of programs) {
    it(`README.md:${block.line} (${block.lang}, ${block.heading})`, function () {
      if (isWindows) skip(this, 'each block runs in a scratch project linked to the package (a junction), which Wine refuses; Linux, Bun and Deno run them')
      const r = runBlock(block, files)
      const where = `README.md:${block.line} (${block.heading})`
      if (/sharedArrayBuffer: true/.test(block.code) && !mmap.features.sharedArrayBuffer) {
        // As the README says: without the runtime's support the option throws.
        assert.notStrictEqual(r.status, 0, `${where} ran without SharedArrayBuffer support`)
        // (Deno prints the message without the code.)
        assert.match(r.stderr, /ERR_MMAP_IO_SHARED_ARRAYBUFFER_UNAVAILABLE|SharedArrayBuffer mappings need node_api_create_external_sharedarraybuffer/, where)
        return
      }
      let out
      try {
        out = assertChildOk(r)
      } catch (err) {
        err.message = `${where}: ${err.message}`
        throw err
      }
      const heading = Object.keys(expected).find((h) => named(block, h))
      if (heading === undefined) return
      const lines = out.split('\n').filter((l) => l !== '')
      if (typeof expected[heading] === 'function') expected[heading](lines)
      else assert.deepStrictEqual(lines, expected[heading], where)
    })
  }
})
