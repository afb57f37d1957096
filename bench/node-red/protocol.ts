/** What the bench nodes' admin routes take and answer (bench-nodes.ts runs in Node-RED, child.ts calls them). */
import type { LatencySummary } from '../lib/stats';

export interface SourceParams {
  count: number;
  /** Most messages sent and not yet counted; ignored when `rate` is set. */
  window: number;
  /** Messages per second; 0 = as fast as the flow accepts them (windowed). */
  rate: number;
  payloadBytes: number;
  /** Stamp payload.sentAt for latency. */
  latency: boolean;
  /** Send msg.payload as a JSON string (for producer nodes that only take strings or Buffers). */
  serialized?: boolean;
  /** msg.topic, for a diaspora-out without a topic of its own. */
  topic?: string;
}

export interface RunResult {
  expected: number;
  completed: number;
  errors: number;
  firstError?: string;
  /** performance.now() in the Node-RED process. */
  startedAt?: number;
  firstAt?: number;
  lastAt?: number;
  latency?: LatencySummary;
  /** Event-loop delay of the Node-RED process since the run was armed (ms). */
  eventLoopDelayMs?: { p50: number; p99: number; max: number };
  /** CPU time (user + system) of the Node-RED process from the start (or first message) to the last, µs. */
  cpuUs?: number;
  /** [start or first, last] on the monotonic clock V8 profiles use, in µs. */
  windowUs?: [number, number];
}

export interface ProcessStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** process.getActiveResourcesInfo(): handles, requests and timers, by kind. */
  resources: Record<string, number>;
  activeHandles: number;
  /** Open TCP sockets by remote port (0 = not connected / server side). */
  sockets: Record<string, number>;
}
