/**
 * Every language this package ships is complete: each message of the en-US catalogs exists in the
 * other catalogs with the same substitutions (the sidebar plugin's too), no catalog holds a message
 * en-US no longer has, and each node's help exists in each language and describes as many properties as the English help.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../fabric/contract';

const NODES_DIR = path.join(repoRoot, 'nodes');
const REFERENCE = 'en-US';
const LANGUAGES = ['de'];
/** Every node type and plugin with catalogs; the plugins have no help. */
const TYPES = fs.readdirSync(NODES_DIR).filter((name) => fs.existsSync(path.join(NODES_DIR, name, 'locales', REFERENCE)));
const PLUGINS = Object.keys((JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { 'node-red': { plugins?: object } })['node-red'].plugins ?? {});

type Catalog = { [key: string]: string | Catalog };

function flatten(catalog: Catalog, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(catalog)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(name, value);
    else for (const [k, v] of flatten(value, name)) out.set(k, v);
  }
  return out;
}

function read(type: string, language: string, extension: 'json' | 'html'): string {
  return fs.readFileSync(path.join(NODES_DIR, type, 'locales', language, `${type}.${extension}`), 'utf8');
}

/** The i18next substitutions a message uses (`__name__`). */
function substitutions(text: string): string[] {
  return [...text.matchAll(/__(\w+)__/g)].map((m) => m[1]).sort();
}

describe('locales', function () {
  it('finds the four nodes and the sidebar plugin', function () {
    assert.deepEqual([...TYPES].sort(), ['diaspora-config', 'diaspora-in', 'diaspora-out', 'diaspora-sidebar', 'diaspora-topic']);
    assert.deepEqual(PLUGINS, ['diaspora-sidebar']);
  });

  for (const language of LANGUAGES) {
    for (const type of TYPES) {
      it(`${type}: the ${language} catalog has every en-US message, with the same substitutions, and nothing else`, function () {
        const english = flatten(JSON.parse(read(type, REFERENCE, 'json')) as Catalog);
        const translated = flatten(JSON.parse(read(type, language, 'json')) as Catalog);
        const missing = [...english.keys()].filter((key) => !translated.has(key));
        assert.deepEqual(missing, [], `${language} lacks ${missing.length} message(s)`);
        const stale = [...translated.keys()].filter((key) => !english.has(key));
        assert.deepEqual(stale, [], `${language} has message(s) en-US does not`);
        for (const [key, text] of english) {
          const other = translated.get(key) ?? '';
          assert.ok(other.trim() !== '', `${language} ${key} is empty`);
          assert.deepEqual(substitutions(other), substitutions(text), `${language} ${key} uses other substitutions than en-US`);
        }
      });

      if (PLUGINS.includes(type)) continue;
      it(`${type}: the ${language} help exists and describes as many properties as the English`, function () {
        const english = read(type, REFERENCE, 'html');
        const translated = read(type, language, 'html');
        assert.ok(translated.includes(`data-help-name="${type}"`), `the ${language} help is not for ${type}`);
        const count = (html: string, tag: string): number => html.split(`<${tag}`).length - 1;
        for (const tag of ['dt', 'h3', 'li', 'p']) {
          assert.equal(count(translated, tag), count(english, tag), `<${tag}> elements: ${language} has ${count(translated, tag)}, en-US ${count(english, tag)}`);
        }
      });
    }
  }
});
