/**
 * A node's property schema: the one place a property's name, default, allowed values and check are
 * written. The runtime's settings readers (nodes/<type>/settings.ts) read a flow through it, and the
 * editor's registerType `defaults`/`credentials`/validators are built from it (nodes/shared/editor/),
 * so a property missing from an imported flow gets the same value in the dialog and at run time.
 * Imports nothing from Node-RED or Node.js: it is bundled into the editor too.
 */
import { isTopicName } from '../../lib/kafka/names';

/** What is wrong with a value: a code (a key under `<type>.errors.` in the node's catalog) and its parameters. */
export interface Problem {
  readonly code: string;
  readonly params?: Readonly<Record<string, string | number>>;
}

/** The node's properties as a flow (or the open dialog) has them. */
export type NodeValues = Readonly<Record<string, unknown>>;

export interface PropertySpec {
  /** What a node without this property gets, in the dialog and at run time. */
  readonly value: string | number | boolean;
  /** Node-RED's `required`: the editor flags an empty value. */
  readonly required?: boolean;
  /** The only values allowed (a select in the dialog). */
  readonly options?: readonly string[];
  /** Checks a value the node has; `node` gives the other properties (e.g. clientId depends on authMode). */
  readonly check?: (value: unknown, node: NodeValues) => Problem | undefined;
  /** The config node type this property refers to (Node-RED checks those itself). */
  readonly configType?: string;
}

export type Schema = Readonly<Record<string, PropertySpec>>;

export interface CredentialSpec {
  readonly type: 'text' | 'password';
  /** Typed by the user in the dialog; the others are written by the runtime only (no input, so a save never clobbers them). */
  readonly userInput?: boolean;
}

export type CredentialSchema = Readonly<Record<string, CredentialSpec>>;

/** The value a flow gives a property, or the schema's default when it gives none. */
export function valueOf(schema: Schema, def: NodeValues, name: string): unknown {
  const spec = specOf(schema, name);
  const value = def[name];
  return value === undefined || value === null ? spec.value : value;
}

/** What is wrong with `value` for `name`, or undefined when it is allowed. */
export function problemOf(schema: Schema, name: string, value: unknown, node: NodeValues): Problem | undefined {
  const spec = specOf(schema, name);
  if (spec.options && !spec.options.includes(String(value))) {
    return { code: 'invalid-option', params: { options: spec.options.join(', ') } };
  }
  return spec.check?.(value, node);
}

function specOf(schema: Schema, name: string): PropertySpec {
  const spec = schema[name];
  if (!spec) throw new Error(`no property "${name}" in the schema`);
  return spec;
}

// ---- checks shared by several nodes ------------------------------------------------------------

/** A whole number, 0 or more. */
export function isWholeNumber(value: unknown): boolean {
  return /^\d+$/.test(String(value).trim());
}

/** A number greater than 0. */
export function isPositiveNumber(value: unknown): boolean {
  const text = String(value).trim();
  return /^\d+(\.\d+)?$/.test(text) && Number(text) > 0;
}

/** An http:// or https:// URL with a host. */
export function isHttpUrl(value: unknown): boolean {
  return /^https?:\/\/[^\s/?#]+[^\s]*$/i.test(String(value ?? '').trim());
}

/** Empty (= msg.topic) or a Kafka topic name. */
export function optionalTopic(value: unknown): Problem | undefined {
  const topic = String(value ?? '').trim();
  return topic === '' || isTopicName(topic) ? undefined : { code: 'invalid-topic' };
}
