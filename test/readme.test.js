'use strict'
// The README's quick start runs exactly as written and prints what it says.
const assert = require('assert')
const fs = require('fs')
const path = require('path')
const { runChild, assertChildOk, skip } = require('./helpers')

describe('README', function () {
  it('quick start runs as written', function () {
    if (process.platform === 'win32') skip(this, 'incore() counts the working set on Windows, so the quick start prints other numbers')
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## Quick start'))
    const code = /```js\n([\s\S]*?)```/.exec(section)[1]
    const out = assertChildOk(runChild(code))
    assert.deepStrictEqual(out.trim().split('\n'), ['hello, mapped world', '[ 0, 4 ]'])
  })
})
