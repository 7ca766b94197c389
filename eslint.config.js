'use strict'
// npm run lint: neostandard (the maintained successor of `standard`) over
// every JavaScript and TypeScript file of the package, its tests, benches
// and examples.
const neostandard = require('neostandard')
const globals = require('globals')

module.exports = [
  // test/fixtures/using.mjs is in `using` syntax, which this parser does not
  // read yet; Node 24 and 26 run it in the test suite.
  ...neostandard({ ts: true, ignores: ['build/**', 'prebuilds/**', 'bench/.work/**', 'bench/node_modules/**', 'test/fixtures/using.mjs'] }),
  {
    files: ['test/**/*.js', 'test/**/*.mjs'],
    languageOptions: { globals: globals.mocha }
  }
]
