/**
 * One vocabulary: every key the code uses exists in every locale catalog of its node (or of the
 * sidebar plugin), and every catalog key is used by some code (the help files are separate and not keyed).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { CATALOG_OWNERS, localeCatalogs, usedKeys } from '../../fixtures/catalog-keys';
import { lookup, type Catalog } from '../../fixtures/editor-bundle';

function flatKeys(catalog: Catalog, prefix = ''): string[] {
  return Object.entries(catalog).flatMap(([key, value]) => {
    const full = prefix ? `${prefix}.${key}` : key;
    return typeof value === 'string' ? [full] : flatKeys(value, full);
  });
}

describe('unit: message catalogs', function () {
  const used = usedKeys();

  it('finds the keys the code uses (the scan itself works)', function () {
    assert.ok(used.exact.size > 150, `${used.exact.size} keys found`);
    assert.ok(used.exact.has('diaspora-out.errors.queue-full'), 'a runtime key');
    assert.ok(used.exact.has('diaspora-config.picker.register'), 'an editor key');
    assert.ok(used.exact.has('diaspora-sidebar.register-failed'), 'a key of the sidebar plugin');
    assert.ok(used.exact.has('diaspora-in.errors.no-topics'), 'a schema problem code');
    assert.ok(used.prefixes.has('diaspora-config.status.reason.'), 'a key completed at run time');
  });

  for (const type of CATALOG_OWNERS) {
    it(`${type}: has catalogs in en-US and de`, function () {
      assert.deepEqual([...localeCatalogs(type).keys()].sort(), ['de', 'en-US']);
    });

    for (const [language, file] of localeCatalogs(type)) {
      const catalog = JSON.parse(fs.readFileSync(file, 'utf8')) as Catalog;

      it(`${type} ${language}: has every key the code uses`, function () {
        const missing = [...used.exact]
          .filter(([key]) => key.startsWith(`${type}.`) && typeof lookup(catalog, key) !== 'string')
          .map(([key, where]) => `${key} (${[...new Set(where)].join(', ')})`);
        assert.deepEqual(missing, []);
      });

      it(`${type} ${language}: has no key that no code uses`, function () {
        const unused = flatKeys(catalog).filter((key) => !used.exact.has(key) && ![...used.prefixes].some((prefix) => key.startsWith(prefix)));
        assert.deepEqual(unused, []);
      });
    }
  }
});
