'use strict'
// npm run lint: neostandard (the maintained successor of `standard`) over
// every JavaScript and TypeScript file of the package, its tests, benches
// and examples.
const neostandard = require('neostandard')
const globals = require('globals')

module.exports = [
  ...neostandard({ ts: true, ignores: ['build/**', 'prebuilds/**', 'bench/.work/**', 'bench/node_modules/**'] }),
  {
    files: ['test/**/*.js', 'test/**/*.mjs'],
    languageOptions: { globals: globals.mocha }
  }
]
