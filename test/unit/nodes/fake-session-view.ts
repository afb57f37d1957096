/** A session as the flow nodes see it (state, connections, state events), moved by hand in unit tests. */
import { EventEmitter } from 'node:events';
import type { Connections } from '../../../lib/session/connection-types';
import type { ErrorReason, SessionState } from '../../../lib/session/types';

export class FakeSessionView extends EventEmitter {
  connections: Connections | undefined;
  subject: string | undefined = 'user-1';

  constructor(public state: SessionState = { state: 'starting' }) {
    super();
  }

  /** Moves to `state` (with new connections, if given) and tells the listeners, as the session does. */
  moveTo(state: SessionState, connections?: Connections): void {
    if (connections) this.connections = connections;
    this.state = state;
    this.emit('state', state);
  }
}

export const errorState = (reason: ErrorReason, retrying: boolean): SessionState => ({ state: 'error', reason, message: `${reason} detail`, retrying });

/** A translation that shows the key and its substitutions, so tests can tell which text was chosen. */
export const keyText = (key: string, subs?: Record<string, unknown>): string => (subs ? `${key} ${JSON.stringify(subs)}` : key);
