/** Builds registerType's `defaults`, `credentials` and validators from a node's schema (nodes/shared/schema.ts). */
import { problemOf, type CredentialSchema, type NodeValues, type Schema } from '../schema';
import type { Translate } from './i18n';

/** A node as the editor holds it: its properties and Node-RED's own fields. */
export type EditorNode = Record<string, unknown> & { id: string; changed?: boolean };

export interface PropertyDef {
  value: unknown;
  required?: boolean;
  type?: string;
  validate?: (this: NodeValues, value: unknown, opt?: unknown) => true | string;
}

export interface TypeDef {
  category: string;
  color: string;
  defaults: Record<string, PropertyDef>;
  credentials?: Record<string, { type: 'text' | 'password' }>;
  inputs?: number;
  outputs?: number;
  icon?: string;
  align?: 'left' | 'right';
  label(this: EditorNode): string;
  paletteLabel(this: TypeDef): string;
  labelStyle?(this: EditorNode): string;
  inputLabels?(this: EditorNode, index: number): string;
  outputLabels?(this: EditorNode, index: number): string;
  oneditprepare?(this: EditorNode): void;
  oneditsave?(this: EditorNode): void;
  oneditcancel?(this: EditorNode): void;
  oneditdelete?(this: EditorNode): void;
}

/** The id prefix of a type's dialog fields: config nodes use `node-config-input-`, flow nodes `node-input-`. */
export function fieldPrefix(isConfig: boolean): string {
  return isConfig ? 'node-config-input-' : 'node-input-';
}

/** `defaults` for registerType: each property's default, `required`, config type, and a validator returning a translated reason. */
export function editorDefaults(type: string, schema: Schema, t: Translate, prefix: string): Record<string, PropertyDef> {
  const defaults: Record<string, PropertyDef> = {};
  for (const [name, spec] of Object.entries(schema)) {
    const def: PropertyDef = { value: spec.value };
    if (spec.required) def.required = true;
    if (spec.configType) def.type = spec.configType;
    if (spec.options || spec.check) {
      def.validate = function (value) {
        const problem = problemOf(schema, name, value, dialogValues(this, schema, prefix));
        return problem ? t(`${type}.errors.${problem.code}`, problem.params) : true;
      };
    }
    defaults[name] = def;
  }
  return defaults;
}

export function editorCredentials(credentials: CredentialSchema): Record<string, { type: 'text' | 'password' }> {
  const declared: Record<string, { type: 'text' | 'password' }> = {};
  for (const [name, spec] of Object.entries(credentials)) declared[name] = { type: spec.type };
  return declared;
}

/** The node's values, with those of its open dialog where a field shows one (a check may depend on another field). */
function dialogValues(node: NodeValues, schema: Schema, prefix: string): NodeValues {
  const values: Record<string, unknown> = { ...node };
  for (const name of Object.keys(schema)) {
    const field = $(`#${prefix}${name}`);
    if (field.length) values[name] = field.is(':checkbox') ? field.prop('checked') : field.val();
  }
  return values;
}

/**
 * Node-RED leaves a field empty for a property the node lacks (a flow deployed from a file written
 * by hand or by an older version): show the schema's default, the value the runtime uses.
 */
export function showDefaultsForMissing(node: EditorNode, schema: Schema, prefix: string): void {
  for (const [name, spec] of Object.entries(schema)) {
    if (spec.configType || (node[name] !== undefined && node[name] !== null)) continue;
    const field = $(`#${prefix}${name}`);
    if (field.is(':checkbox')) field.prop('checked', !!spec.value);
    else field.val(String(spec.value));
  }
}
