/**
 * Message-catalog lookup for the runtime. Node-RED's `RED._` translates from the node's locale
 * catalogs; where it has no text (a key missing from the user's language, or the test helper, whose
 * `RED._` returns the key unchanged) the English catalog file itself is the fallback, so each text is
 * written once, in locales/en-US/<type>.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NodeAPI } from 'node-red';

export type Substitutions = Record<string, string | number>;
export type Translate = (key: string, substitutions?: Substitutions) => string;

type Catalog = { [key: string]: string | Catalog };

/** Node-RED's i18n interpolation syntax: `__name__`. */
export function interpolate(template: string, subs: Substitutions = {}): string {
  return template.replace(/__(\w+)__/g, (whole, name: string) => (name in subs ? String(subs[name]) : whole));
}

/** The English catalog of a node type, as shipped beside its compiled .js. */
export function englishCatalog(type: string): Catalog {
  const file = path.join(__dirname, '..', type, 'locales', 'en-US', `${type}.json`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Catalog;
}

/** The text at a dotted key, or undefined. */
export function lookup(catalog: Catalog, key: string): string | undefined {
  let here: string | Catalog | undefined = catalog;
  for (const part of key.split('.')) {
    if (here === undefined || typeof here === 'string') return undefined;
    here = here[part];
  }
  return typeof here === 'string' ? here : undefined;
}

/** A translator for one node type: a key such as `errors.no-topic` is looked up as `<type>.errors.no-topic`. */
export function catalog(RED: NodeAPI, type: string): Translate {
  let english: Catalog | undefined;
  return (key, subs) => {
    const full = `${type}.${key}`;
    const translated = RED._(full, subs);
    if (typeof translated === 'string' && translated !== full && translated !== '') return translated;
    english ??= englishCatalog(type);
    return interpolate(lookup(english, full) ?? key, subs);
  };
}
