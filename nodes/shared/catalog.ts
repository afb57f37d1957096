/**
 * Message-catalog lookup with an English fallback: a node's texts stay readable when its locale
 * file lacks a key (or in the test helper, whose `RED._` returns the key unchanged).
 */
import type { NodeAPI } from 'node-red';

export type Substitutions = Record<string, string | number>;

/** Node-RED's i18n interpolation syntax: `__name__`. */
export function interpolate(template: string, subs: Substitutions = {}): string {
  return template.replace(/__(\w+)__/g, (whole, name: string) => (name in subs ? String(subs[name]) : whole));
}

/**
 * Returns a translator for one node type: `t('errors.no-topic')` looks up `<type>.errors.no-topic`
 * and falls back to `defaults['errors.no-topic']`.
 */
export function catalog(RED: NodeAPI, type: string, defaults: Readonly<Record<string, string>>) {
  return (key: string, subs?: Substitutions): string => {
    const full = `${type}.${key}`;
    const translated = RED._(full, subs);
    if (typeof translated === 'string' && translated !== full && translated !== '') return translated;
    return interpolate(defaults[key] ?? key, subs);
  };
}
