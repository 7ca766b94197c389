'use strict'
// The build: binding.gyp is the one description of the addon's sources and
// flags, and the built addon exports Node-API's entry points and nothing
// else (its internal functions are hidden, so no other library's symbol of
// the same name can take their place, and the loader has less to resolve).
const assert = require('assert')
const fs = require('fs')
const path = require('path')
const { execFileSync } = require('child_process')
const { description, ENTRY_POINTS } = require('../scripts/build-description')
const { isLinux, sanitized, skip } = require('./helpers')

const root = path.join(__dirname, '..')

describe('build', function () {
  it('binding.gyp lists every C file of src/ for the OSes it belongs to, and no other', function () {
    const all = fs.readdirSync(path.join(root, 'src')).filter((f) => f.endsWith('.c')).map((f) => `src/${f}`)
    for (const os of ['linux', 'mac', 'win']) {
      const { sources } = description(os)
      const foreign = os === 'win' ? /_posix\.c$/ : /_win\.c$/
      assert.deepStrictEqual([...sources].sort(), all.filter((f) => !foreign.test(f)).sort(), os)
      for (const f of sources) assert.ok(fs.existsSync(path.join(root, f)), f)
    }
    assert.ok(description('linux').cflags.includes('-fvisibility=hidden'))
  })

  it('the addon exports only the Node-API entry points', function () {
    if (!isLinux) skip(this, 'reads the ELF dynamic symbol table with nm')
    const file = require('../lib/binding').file
    const out = execFileSync('nm', ['-D', '--defined-only', file], { encoding: 'utf8' })
    let names = out.split('\n').map((line) => line.trim().split(/\s+/)).filter((f) => f.length === 3).map((f) => f[2])
    // A sanitized build (test:asan) also carries the sanitizers' hooks.
    if (sanitized) names = names.filter((name) => !name.startsWith('__'))
    assert.deepStrictEqual(names.sort(), [...ENTRY_POINTS].sort())
  })
})
