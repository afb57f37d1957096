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
