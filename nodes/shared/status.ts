/** The one status vocabulary every Diaspora node shows, from the session state. */
import type { NodeStatus } from 'node-red';
import type { SessionState } from '../../lib/session-types';

/** Translates a key of the diaspora-config message catalog. */
export type Translate = (key: string, substitutions?: Record<string, string | number>) => string;

export function statusForState(state: SessionState, t: Translate): NodeStatus {
  switch (state.state) {
    case 'starting':
      return { fill: 'yellow', shape: 'ring', text: t('status.starting') };
    case 'signin-required':
      return { fill: 'yellow', shape: 'ring', text: t('status.signin-required') };
    case 'creating-key':
      return { fill: 'yellow', shape: 'dot', text: t('status.creating-key') };
    case 'waiting-key':
      return { fill: 'yellow', shape: 'ring', text: t('status.waiting-key-seconds', { seconds: state.waitingSeconds ?? 0 }) };
    case 'ready':
      return { fill: 'green', shape: 'dot', text: t('status.ready') };
    case 'error':
      return { fill: 'red', shape: 'ring', text: t(`status.reason.${state.reason ?? 'auth-failed'}`) };
  }
}
