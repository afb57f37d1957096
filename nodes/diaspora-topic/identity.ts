/** Waiting for a session's Globus identity: topic calls need the subject, not a usable Kafka key. */
import type { DiasporaSession } from '../../lib/session/session';
import type { SessionState } from '../../lib/session/types';

export class IdentityError extends Error {
  override name = 'IdentityError';
}

/** Resolves once the session knows its subject; rejects when it cannot get one, or after `timeoutMs`. */
export function whenIdentified(session: DiasporaSession, timeoutMs: number): Promise<void> {
  if (session.subject) return Promise.resolve();
  const now = refusal(session.state);
  if (now) return Promise.reject(now);
  return new Promise((resolve, reject) => {
    const onState = (state: SessionState): void => {
      if (session.subject) {
        cleanup();
        resolve();
        return;
      }
      const err = refusal(state);
      if (err) {
        cleanup();
        reject(err);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new IdentityError(`no Globus identity after ${Math.round(timeoutMs / 1000)} s (${describe(session.state)}): check the configuration node`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      session.off('state', onState);
    };
    session.on('state', onState);
  });
}

function refusal(state: SessionState): IdentityError | undefined {
  if (state.state === 'signin-required') {
    return new IdentityError('not signed in: sign in with Globus in the diaspora-config node');
  }
  if (state.state === 'error') {
    return new IdentityError(`the diaspora-config node has no identity: ${describe(state)}`);
  }
  return undefined;
}

function describe(state: SessionState): string {
  if (state.state === 'error') return state.message ?? state.reason ?? 'error';
  return state.state;
}
