/** Catalog lookup in the editor, for one node type's catalog (keys are written in full: `<type>.label.name`). */

export type Params = Readonly<Record<string, string | number>>;
export type Translate = (key: string, params?: Params) => string;

/** Works before registerType has returned too (labels are asked for early). */
export function translator(type: string): Translate {
  return (key, params) => {
    const def = RED.nodes.getType(type);
    if (def?._) return def._(key, params);
    const set = RED.nodes.registry?.getNodeSetForType(type);
    return set ? RED._(`${set.id}:${key}`, params) : key;
  };
}

/** What Node-RED gives a plugin's definition once registered: its own catalog lookup. */
export interface TranslatingPlugin {
  _?: Translate;
}

/**
 * A plugin's texts: keys of its own catalog (`<plugin>.label`, written in full) through the
 * `_` Node-RED puts on its definition (the namespace `<module>/<plugin>`), the others
 * (`<sibling>.status.ready`) from `sibling`'s catalog, so the plugin shares the nodes' words.
 */
export function pluginTranslator(plugin: string, definition: TranslatingPlugin, sibling: string): Translate {
  const fromSibling = translator(sibling);
  return (key, params) => {
    if (!key.startsWith(`${plugin}.`)) return fromSibling(key, params);
    return definition._ ? definition._(key, params) : key;
  };
}
