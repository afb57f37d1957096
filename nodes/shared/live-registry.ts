/**
 * What the editor's Diaspora sidebar shows, gathered in the runtime: each config node (identity,
 * key age, readiness and its history of the last hour) and each flow node's live figures (events
 * per second, and for consumers the lag). Nothing secret: the same state the config dialog shows.
 */
import type { DiasporaSession } from '../../lib/session/session';
import type { LagPoller } from '../../lib/kafka/consumer-lag';
import type { RateMeter } from '../../lib/rate-meter';
import type { SessionStateFields } from '../../lib/session/types';
import type { LiveSnapshot, StateChange } from './live-snapshot';

export type { LiveSnapshot };

const HISTORY_MS = 60 * 60 * 1000;

export interface LiveNode {
  id: string;
  type: string;
  name: string;
  fabric: string;
  meter: RateMeter;
  lag?: LagPoller;
}

interface LiveConfig {
  id: string;
  name: string;
  session: DiasporaSession;
  history: StateChange[];
}

const nodes = new Map<string, LiveNode>();
const configs = new Map<string, LiveConfig>();

/** Lists a flow node; returns the function that removes it. */
export function listNode(node: LiveNode): () => void {
  nodes.set(node.id, node);
  return () => {
    if (nodes.get(node.id) === node) nodes.delete(node.id);
  };
}

/** Lists a config node and keeps its readiness history; returns the function that removes it. */
export function listConfig(id: string, name: string, session: DiasporaSession): () => void {
  const entry: LiveConfig = { id, name, session, history: [] };
  const record = (state: SessionStateFields): void => {
    const at = Date.now();
    if (entry.history.at(-1)?.state === state.state && entry.history.at(-1)?.reason === state.reason) return;
    entry.history.push({ at, state: state.state, ...(state.reason ? { reason: state.reason } : {}) });
    // Keep the last hour, and always the entry that was current an hour ago.
    while (entry.history.length > 1 && entry.history[1].at < at - HISTORY_MS) entry.history.shift();
  };
  record(session.state);
  session.on('state', record);
  configs.set(id, entry);
  return () => {
    session.off('state', record);
    if (configs.get(id) === entry) configs.delete(id);
  };
}

export function liveSnapshot(liveStatus: boolean): LiveSnapshot {
  return {
    at: Date.now(),
    liveStatus,
    configs: [...configs.values()].map(({ id, name, session, history }) => {
      const { state, reason, message, sub, username, keyCreatedAt }: SessionStateFields = session.state;
      return { id, name, state, reason, message, sub, username, keyCreatedAt, history: [...history] };
    }),
    nodes: [...nodes.values()].map(({ id, type, name, fabric, meter, lag }) => ({
      id,
      type,
      name,
      fabric,
      rate: meter.history().map((s) => Math.round(s.rate * 10) / 10),
      ...(lag ? { lag: lag.history().map((s) => s.lag) } : {}),
    })),
  };
}

export function hasLiveSources(): boolean {
  return nodes.size > 0 || configs.size > 0;
}
