/**
 * The session's states and the transitions between them, written down once: DiasporaSession checks
 * every change against this table, the README's diagram is generated from it (a unit test keeps the
 * two equal), and the flow nodes ask the helpers below instead of keeping rules of their own.
 */
import type { ErrorReason, SessionState, SessionStateName } from './types';

/** For every state, the states it may move to and why. No state returns to `starting`. */
export const SESSION_TRANSITIONS: Readonly<Record<SessionStateName, Readonly<Partial<Record<SessionStateName, string>>>>> = {
  starting: {
    'signin-required': 'no sign-in stored',
    'creating-key': 'signed in, no key stored',
    'waiting-key': 'stored key not accepted yet',
    ready: 'accepted',
    error: 'start failed, or misconfigured',
  },
  'signin-required': {
    'signin-required': 'signed out again',
    'creating-key': 'signed in, no key stored',
    'waiting-key': 'signed in, stored key not accepted yet',
    ready: 'signed in, accepted',
    error: 'signed in, start failed',
  },
  'creating-key': {
    'creating-key': 'new key',
    'signin-required': 'signed out',
    'waiting-key': 'key created, not accepted yet',
    ready: 'key accepted',
    error: 'service refused or unreachable',
  },
  'waiting-key': {
    'waiting-key': 'one more second',
    'signin-required': 'signed out',
    'creating-key': 'new key',
    ready: 'key accepted',
    error: 'timed out, key rejected or broker unreachable',
  },
  ready: {
    ready: 'signed in again',
    'signin-required': 'signed out',
    'creating-key': 'new key',
    'waiting-key': 'key replaced elsewhere, adopting the current one',
    error: 'broker or service unreachable, key rejected, sign-in revoked',
  },
  error: {
    error: 'retried and failed again',
    'signin-required': 'signed out',
    'creating-key': 'retried or new key',
    'waiting-key': 'retried, key not accepted yet',
    ready: 'broker or service back, or recovered',
  },
};

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
}

/** Throws unless the table allows `from` → `to`. */
export function checkTransition(from: SessionStateName, to: SessionStateName): void {
  if (SESSION_TRANSITIONS[from][to] === undefined) {
    throw new IllegalTransitionError(`the session may not go from "${from}" to "${to}"`);
  }
}

/**
 * Errors worth holding events for although the session is not retrying: what ends them is the
 * user's "new key" (the broker refused the key, or the service could not be reached to make one),
 * not a change of the sign-in or the configuration.
 */
const ENDED_BY_NEW_KEY: ReadonlySet<ErrorReason> = new Set(['key-rejected', 'service-unreachable']);

/**
 * Whether events are worth holding (queue, spool) in this state: the session is on its way to
 * `ready`, retries by itself, or waits for a new key. Not when only a sign-in or a configuration
 * change helps, or a new key's wait timed out: holding would only keep messages indefinitely.
 */
export function isWorthWaiting(state: SessionState): boolean {
  switch (state.state) {
    case 'signin-required':
      return false;
    case 'error':
      return state.retrying || ENDED_BY_NEW_KEY.has(state.reason);
    default:
      return true;
  }
}

export function isReady(state: SessionState): boolean {
  return state.state === 'ready';
}

/** The states (the table's keys) in their order. */
export const SESSION_STATES = Object.keys(SESSION_TRANSITIONS) as SessionStateName[];

/** The table as a Mermaid `stateDiagram-v2` (the README shows it); ids without hyphens, labelled with the state names. */
export function sessionDiagram(): string {
  const id = (state: SessionStateName): string => state.replace(/-/g, '_');
  const lines = ['stateDiagram-v2'];
  for (const state of SESSION_STATES) if (id(state) !== state) lines.push(`    state "${state}" as ${id(state)}`);
  lines.push('    [*] --> starting');
  for (const from of SESSION_STATES) {
    for (const [to, why] of Object.entries(SESSION_TRANSITIONS[from]) as [SessionStateName, string][]) {
      lines.push(`    ${id(from)} --> ${id(to)}: ${why}`);
    }
  }
  lines.push('    note right of error: retrying while the broker or the service is unreachable (backoff)');
  return lines.join('\n');
}
