'use strict'
// The one build description: binding.gyp (strict JSON, which gyp reads as
// well) lists the addon's sources, defines and compiler flags. node-gyp
// builds from it; the cross-compiled prebuilds (scripts/prebuilds.js), the
// test builds with Node-API hooks (test/helpers.js) and the sanitizer build
// (test/asan.sh, through node-gyp) take theirs from here, so that a source
// or a flag is added in one place.
const fs = require('fs')
const path = require('path')

const root = path.join(__dirname, '..')
const gypFile = path.join(root, 'binding.gyp')

// gyp conditions of the forms binding.gyp uses: OS=='x' and OS!='x'.
function holds (condition, os) {
  const m = /^OS\s*(==|!=)\s*'(\w+)'$/.exec(condition.trim())
  if (!m) throw new Error(`binding.gyp: a condition this script cannot evaluate: ${condition}`)
  return m[1] === '==' ? os === m[2] : os !== m[2]
}

// Merges a gyp settings object into `into`: lists append, "key!" lists
// remove, nested conditions apply.
function merge (into, settings, os) {
  for (const [key, value] of Object.entries(settings)) {
    if (key === 'conditions') {
      for (const [condition, then, otherwise] of value) {
        const chosen = holds(condition, os) ? then : otherwise
        if (chosen) merge(into, chosen, os)
      }
    } else if (key.endsWith('!')) {
      const name = key.slice(0, -1)
      into[name] = (into[name] || []).filter((x) => !value.includes(x))
    } else if (Array.isArray(value)) {
      into[key] = [...(into[key] || []), ...value]
    } else {
      into[key] = value
    }
  }
  return into
}

// { sources, defines, cflags } of the addon for `os` ('linux', 'mac',
// 'win'), as gyp would see them: sources relative to the package root.
function description (os) {
  const gyp = JSON.parse(fs.readFileSync(gypFile, 'utf8'))
  const target = gyp.targets.find((t) => t.target_name === 'mmap_io')
  const d = merge({}, target, os)
  return { sources: d.sources || [], defines: d.defines || [], cflags: d.cflags || [] }
}

// The symbols a built addon may export: the Node-API entry points.
const ENTRY_POINTS = ['napi_register_module_v1', 'node_api_module_get_api_version_v1']

module.exports = { description, ENTRY_POINTS, gypFile }
