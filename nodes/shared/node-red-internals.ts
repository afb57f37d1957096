/**
 * The two private fields of Node-RED this package reads, because no public API gives what they
 * hold. Nothing else reaches into Node-RED's internals; test/nodes/node-red-internals.test.ts runs
 * both against the installed runtime and fails, naming the field, when a release changes them.
 */

/** Node-RED's runtime settings, as far as they are read here. */
export interface SettingsReader {
  get(name: string): unknown;
}

/**
 * The key Node-RED encrypts `flows_cred.json` with: the user's `credentialSecret` setting, else the
 * one Node-RED generated and keeps in `.config.runtime.json` (`_credentialSecret`). `false` when the
 * user turned encryption off; undefined when neither is known (e.g. a runtime without a user dir).
 */
export function credentialKey(settings: SettingsReader): string | false | undefined {
  const configured = readSetting(settings, 'credentialSecret');
  if (configured === false) return false;
  if (typeof configured === 'string' && configured !== '') return configured;
  const generated = readSetting(settings, '_credentialSecret');
  return typeof generated === 'string' && generated !== '' ? generated : undefined;
}

/**
 * How many of a node's input handlers take `done` (Node-RED's `_expectedDoneCount`): a node with
 * none reports completion only through the `postReceive` hook. Undefined when Node-RED no longer
 * keeps the count.
 */
export function inputHandlersTakingDone(node: unknown): number | undefined {
  const expected = (node as { _expectedDoneCount?: unknown } | undefined)?._expectedDoneCount;
  return typeof expected === 'number' ? expected : undefined;
}

export function readSetting(settings: SettingsReader, name: string): unknown {
  try {
    return settings.get(name);
  } catch {
    return undefined; // settings not loaded yet (the test helper's runtime)
  }
}
