// Loading: require, default import, dynamic import and named imports agree.
import assert from 'assert'
import { createRequire } from 'module'
import mmap, { map, sync, PAGESIZE, MAP_SHARED } from 'mmap-io'

const require = createRequire(import.meta.url)

describe('module loading', function () {
  it('require, import and dynamic import give the same API object', async function () {
    const cjs = require('mmap-io')
    assert.strictEqual(mmap, cjs)
    assert.strictEqual((await import('mmap-io')).default, cjs)
    assert.strictEqual(map, cjs.map)
    assert.strictEqual(sync, cjs.sync)
    assert.strictEqual(PAGESIZE, cjs.PAGESIZE)
    assert.strictEqual(MAP_SHARED, cjs.MAP_SHARED)
    for (const name of ['map', 'unmap', 'advise', 'sync', 'incore']) {
      assert.strictEqual(typeof cjs[name], 'function', name)
    }
  })
})
