/** What the runtime pushes to the editor's Diaspora sidebar (live-registry.ts builds it; the sidebar draws it). */
import type { SessionStateFields } from '../../lib/session/types';

/** A readiness state and when it began. */
export interface StateChange {
  at: number;
  state: string;
  reason?: string;
}

export interface LiveSnapshot {
  at: number;
  /** false when settings.js turned the live figures off (no node is listed then). */
  liveStatus: boolean;
  configs: {
    id: string;
    name: string;
    state: SessionStateFields['state'];
    reason?: string;
    message?: string;
    sub?: string;
    username?: string;
    keyCreatedAt?: string;
    history: StateChange[];
  }[];
  nodes: { id: string; type: string; name: string; fabric: string; rate: number[]; lag?: number[] }[];
}

