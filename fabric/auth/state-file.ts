/** The emulator's persisted state (signing key and issued tokens), so a fabric restart keeps sessions. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JWK } from 'jose';
import type { TokenRecord } from './token-store';

export interface PersistedAuthState {
  version: 1;
  signingKey: JWK;
  tokens: TokenRecord[];
}

export function readState(file: string): PersistedAuthState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`Auth emulator state file ${file} is not valid JSON; delete it to start afresh.`);
  }
  const state = parsed as Partial<PersistedAuthState>;
  if (state.version !== 1 || typeof state.signingKey !== 'object' || !Array.isArray(state.tokens)) {
    throw new Error(`Auth emulator state file ${file} has an unknown format; delete it to start afresh.`);
  }
  return state as PersistedAuthState;
}

/** Atomic write (temp file + rename), readable only by the owner since it holds live tokens. */
export function writeState(file: string, state: PersistedAuthState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(state), { mode: 0o600 });
  fs.renameSync(temp, file);
}
