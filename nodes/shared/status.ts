/**
 * Every node status is built here, so a colour and shape mean the same on every Diaspora node:
 * green dot working, yellow ring waiting, yellow dot held on purpose, grey ring nothing to do,
 * red ring a problem. The texts come from the shared vocabulary (diaspora-config's `status.*`) or the
 * node's own catalog.
 */
import type { NodeStatus } from 'node-red';
import type { SessionState } from '../../lib/session/types';
import type { Translate } from './catalog';

export const working = (text: string): NodeStatus => ({ fill: 'green', shape: 'dot', text });
export const waiting = (text: string): NodeStatus => ({ fill: 'yellow', shape: 'ring', text });
export const held = (text: string): NodeStatus => ({ fill: 'yellow', shape: 'dot', text });
export const idle = (text: string): NodeStatus => ({ fill: 'grey', shape: 'ring', text });
export const problem = (text: string): NodeStatus => ({ fill: 'red', shape: 'ring', text });

/** The session's state as every node shows it; `shared` translates diaspora-config's catalog. */
export function statusForState(state: SessionState, shared: Translate): NodeStatus {
  switch (state.state) {
    case 'starting':
      return waiting(shared('status.starting'));
    case 'signin-required':
      return waiting(shared('status.signin-required'));
    case 'creating-key':
      return held(shared('status.creating-key'));
    case 'waiting-key':
      return waiting(
        state.waitingSeconds === undefined ? shared('status.waiting-key') : shared('status.waiting-key-seconds', { seconds: state.waitingSeconds }),
      );
    case 'ready':
      return working(shared('status.ready'));
    case 'error':
      return problem(shared(`status.reason.${state.reason ?? 'auth-failed'}`));
  }
}

/** A flow node without a usable diaspora-config. */
export const noConfigStatus = (shared: Translate): NodeStatus => problem(shared('status.no-config'));

/** What waits in diaspora-out (its queue or spool), with the session's reason while it is in error (e.g. "broker unreachable · queued: 12"). */
export function waitingBehind(what: string, state: SessionState, shared: Translate): NodeStatus {
  return state.state === 'error' ? problem(`${String(statusForState(state, shared).text)} · ${what}`) : waiting(what);
}

/** diaspora-out's queue length, with the session's reason while it is in error. */
export function queuedStatus(count: number, state: SessionState, shared: Translate): NodeStatus {
  return waitingBehind(shared('status.queued', { count }), state, shared);
}
