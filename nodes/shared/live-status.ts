/**
 * A node's status with live figures: while the node's own status is green (consuming, ready),
 * its text is replaced by live figures (`lag 12 · 840/s`, `840/s · 3 ⏳`), worked out about
 * once a second and sent to the editor only when they changed. Every other status (yellow, red)
 * shows as it is. It takes over `node.status`, so the config node's fan-out goes through it too.
 * The hot path costs one counter increment per event. The texts are the shared vocabulary
 * (diaspora-config's `status.live-*`), so `shared` translates diaspora-config's catalog.
 * `diaspora: { liveStatus: false }` in Node-RED's settings.js turns the figures off: the nodes
 * then show their plain status, run no timers and are not listed in the sidebar.
 */
import type { Node, NodeAPI, NodeStatus } from 'node-red';
import type { Connections } from '../../lib/session/connection-types';
import { LagPoller } from '../../lib/kafka/consumer-lag';
import { formatRate, RateMeter } from '../../lib/rate-meter';
import { listNode } from './live-registry';
import type { Translate } from './catalog';

export const LIVE_INTERVAL_MS = 1_000;

/** This package's entry in Node-RED's settings.js. */
export interface DiasporaRuntimeSettings {
  /** false turns the live figures (statuses and sidebar sparklines) off; on by default. */
  liveStatus?: boolean;
}

let warnedAboutSetting = false;

/**
 * Whether `diaspora.liveStatus` in settings.js leaves the live figures on. A value other than
 * true or false is a mistake in settings.js: warned about once, and the default (on) is kept.
 */
export function liveStatusEnabled(RED: Pick<NodeAPI, 'settings' | 'log'>): boolean {
  let entry: unknown;
  try {
    entry = (RED.settings as unknown as { diaspora?: unknown }).diaspora;
  } catch {
    return true; // settings not loaded (test runtimes)
  }
  if (entry === undefined || entry === null) return true;
  const value = typeof entry === 'object' ? (entry as DiasporaRuntimeSettings).liveStatus : undefined;
  if (value === false) return false;
  if (typeof entry === 'object' && (value === undefined || value === true)) return true;
  const found = typeof entry === 'object' ? `liveStatus: ${JSON.stringify(value)}` : `diaspora: ${JSON.stringify(entry)}`;
  if (!warnedAboutSetting) RED.log.warn(`diaspora: settings.js needs "diaspora: { liveStatus: false }" (or true) to switch the live figures, not ${found}; they stay on`);
  warnedAboutSetting = true;
  return true;
}

export interface LiveFigures {
  /** Runs once per interval, before the status is rendered (take samples here). */
  tick(): void;
  /** The text to show while the node's status is green; undefined keeps the node's own text. */
  detail(): string | undefined;
}

/** Puts `figures` on the node's green status; returns the function that stops it. */
export function attachLiveStatus(node: Node, figures: LiveFigures, intervalMs = LIVE_INTERVAL_MS): () => void {
  const apply = node.status.bind(node);
  let base: NodeStatus = {};
  let shown: string | undefined;
  const render = (): void => {
    const text = base.fill === 'green' ? (figures.detail() ?? base.text) : base.text;
    const status = { ...base, text };
    const key = JSON.stringify(status);
    if (key === shown) return;
    shown = key;
    apply(status);
  };
  node.status = (status: string | NodeStatus) => {
    base = typeof status === 'string' ? { text: status } : (status ?? {});
    render();
  };
  const timer = setInterval(() => {
    figures.tick();
    render();
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    node.status = apply;
  };
}

/** What a diaspora-in node consumes right now, for the lag; undefined while not consuming. */
export interface ConsumedPosition {
  manager: Connections;
  groupId: string;
  topics: string[];
}

export interface ConsumerLive {
  /** Call for every event sent on. */
  mark(): void;
  close(): void;
}

/** With the live figures off: nothing counted, no timer, nothing listed. */
const NO_LIVE = { mark: () => undefined, started: () => undefined, finished: () => undefined, close: () => undefined };

/** diaspora-in: `lag 12 · 840/s` (the rate alone while the lag is not known yet). */
export function consumerLiveStatus(node: Node, shared: Translate, fabric: string, position: () => ConsumedPosition | undefined, enabled = true): ConsumerLive {
  if (!enabled) return NO_LIVE;
  const meter = new RateMeter();
  const lag = new LagPoller({
    read: () => {
      const at = position();
      return at?.manager.consumerOffsets?.(at.groupId, at.topics);
    },
  });
  let rate: number | undefined;
  const stop = attachLiveStatus(node, {
    tick: () => {
      rate = meter.sample().rate;
    },
    detail: () => {
      if (rate === undefined) return undefined;
      const events = formatRate(rate);
      const behind = lag.lag;
      return behind === undefined ? shared('status.live-consuming', { rate: events }) : shared('status.live-lag', { lag: behind, rate: events });
    },
  });
  lag.start();
  const unlist = listNode({ id: node.id, type: node.type, name: node.name ?? '', fabric, meter, lag });
  return {
    mark: () => meter.mark(),
    close: () => {
      unlist();
      lag.stop();
      stop();
    },
  };
}

export interface ProducerLive {
  /** Call when an event is handed to the producer… */
  started(): void;
  /** …and when the broker answered (or the send failed). */
  finished(ok: boolean): void;
  close(): void;
}

/** diaspora-out: `840/s`, with `· 3 ⏳` while events wait for the broker's answer. */
export function producerLiveStatus(node: Node, shared: Translate, fabric: string, enabled = true): ProducerLive {
  if (!enabled) return NO_LIVE;
  const meter = new RateMeter();
  let pending = 0;
  let rate: number | undefined;
  const stop = attachLiveStatus(node, {
    tick: () => {
      rate = meter.sample().rate;
    },
    detail: () => {
      if (rate === undefined || (meter.total === 0 && pending === 0)) return undefined;
      const events = formatRate(rate);
      return pending > 0 ? shared('status.live-pending', { rate: events, count: pending }) : shared('status.live-rate', { rate: events });
    },
  });
  const unlist = listNode({ id: node.id, type: node.type, name: node.name ?? '', fabric, meter });
  return {
    started: () => {
      pending++;
    },
    finished: (ok) => {
      pending--;
      if (ok) meter.mark();
    },
    close: () => {
      unlist();
      stop();
    },
  };
}
