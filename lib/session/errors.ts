/** The session's errors: what it throws, and how any failure maps to the reason shown as the state. */
import { AuthError } from '../globus/auth';
import { DiasporaServiceError } from '../diaspora-service/service';
import type { ErrorReason, SessionState } from './types';

export class SessionError extends Error {
  constructor(
    readonly reason: ErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

export function reasonOf(err: unknown): ErrorReason {
  if (err instanceof SessionError) return err.reason;
  if (err instanceof AuthError) {
    if (err.kind === 'revoked') return 'refresh-revoked';
    if (err.kind === 'unreachable') return 'service-unreachable';
    return 'auth-failed';
  }
  if (err instanceof DiasporaServiceError) {
    if (err.kind === 'unreachable' || err.kind === 'protocol') return 'service-unreachable';
    if (err.kind === 'invalid') return 'misconfigured';
    return 'auth-failed';
  }
  return 'auth-failed';
}

/** The state in a line for logs and errors, e.g. "error: the broker rejected the key". */
export function describeState(state: SessionState): string {
  return state.state === 'error' ? `${state.state}: ${state.message}` : state.state;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
