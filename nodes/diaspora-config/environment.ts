/**
 * Set-up from the environment. Node-RED replaces a property or credential that is exactly
 * `${NAME}` with the environment variable NAME when the node starts (and leaves the text as it is
 * when NAME is not set), so one flow file serves many devices. This module turns a reference left
 * unresolved into an actionable error, and keeps the reference, never the value it stood for, in
 * what the runtime writes back to Node-RED's credentials.
 */
import type { StoredSecrets } from '../../lib/session/types';

/** Node-RED's two forms, `${NAME}` and the older `$(NAME)` (its flows/util.js). */
const REFERENCE = /^\$(?:\{(\S+)\}|\((\S+)\))$/;

/** The variable a value still names when Node-RED could not resolve it; undefined otherwise. */
export function unresolvedVariable(value: string | undefined): string | undefined {
  const match = REFERENCE.exec((value ?? '').trim());
  return match ? (match[1] ?? match[2]) : undefined;
}

/** Throws a clear error when `value` names an environment variable Node-RED's process does not have. */
export function requireResolved(value: string | undefined, field: string): void {
  const name = unresolvedVariable(value);
  if (name !== undefined) {
    throw new Error(`${field} is \${${name}}, but the environment variable ${name} is not set where Node-RED runs; set it and restart Node-RED`);
  }
}

/** The credential fields the editor owns: the runtime must write back what the user typed. */
const EDITOR_FIELDS = ['clientSecret', 'ca'] as const;

/**
 * The secrets to hand to Node-RED's credential store: the runtime's fields as they are, the editor's
 * fields as the user wrote them (`stored`), so a `${NAME}` reference is kept instead of its value.
 */
export function withEditorFields(secrets: StoredSecrets, stored: StoredSecrets | undefined): StoredSecrets {
  const out: StoredSecrets = { ...secrets };
  for (const field of EDITOR_FIELDS) {
    const original = stored?.[field];
    if (original === undefined) delete out[field];
    else out[field] = original;
  }
  return out;
}
