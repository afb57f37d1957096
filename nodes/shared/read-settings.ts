/** Reading a node's properties through its schema at run time: the flow's value, or the schema's default. */
import { valueOf, type NodeValues, type Schema } from './schema';

/** The property as text, trimmed; the default when the flow has none. */
export function readText(schema: Schema, def: NodeValues, name: string): string {
  return String(valueOf(schema, def, name)).trim();
}

/** One of the schema's options; empty means the default. Throws naming the property and the allowed values. */
export function readOption<T extends string>(schema: Schema, def: NodeValues, name: string, allowed: readonly T[]): T {
  const text = readText(schema, def, name) || String(schema[name]?.value);
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new Error(`${name} must be one of ${allowed.join(', ')}, not "${text.slice(0, 40)}"`);
}
