/**
 * Summaries of V8 CPU profiles (node --cpu-prof): self and inclusive time per function, and self
 * time per component (our nodes, our lib, kafkajs, Node-RED, Node internals, GC).
 */
import * as fs from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  function: string;
  component: string;
  selfPercent: number;
  totalPercent: number;
}

export interface ProfileSummary {
  label: string;
  /** Busy milliseconds (samples that were not idle). */
  busyMs: number;
  /** Share of busy time per component. */
  components: Record<string, number>;
  /** By self time. */
  topSelf: HotSpot[];
  /** Our own functions (nodes/, lib/) by inclusive time. */
  topOurs: HotSpot[];
}

/** Which part of the stack a frame belongs to. */
export function componentOf(frame: CallFrame): string {
  const url = frame.url;
  if (frame.functionName === '(garbage collector)') return 'GC';
  if (frame.functionName === '(program)') return 'V8/native';
  if (frame.functionName === '(idle)') return 'idle';
  if (url.includes('/node_modules/kafkajs/')) return 'kafkajs';
  if (url.includes('/node_modules/@node-red/') || url.includes('/node_modules/node-red/')) return 'Node-RED runtime';
  if (url.includes('/dist/nodes/')) return 'ours: nodes/';
  if (url.includes('/dist/lib/')) return 'ours: lib/';
  if (url.includes('/dist/bench/')) return 'bench harness';
  if (url.includes('/node_modules/')) return 'other modules';
  if (url.startsWith('node:') || url === '') return 'Node.js core / builtins';
  return 'other';
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf('/node_modules/');
  if (i >= 0) return url.slice(i + '/node_modules/'.length);
  const d = url.lastIndexOf('/dist/');
  if (d >= 0) return url.slice(d + '/dist/'.length);
  return url.replace(/^file:\/\//, '');
}

function frameKey(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  return frame.url ? `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : name;
}

/** Microseconds of the monotonic clock that V8 profiles use, for performance.now() milliseconds of this process. */
export function monotonicMicros(performanceNowMs: number): number {
  return performanceNowMs * 1000 + HR_OFFSET_US;
}

const HR_OFFSET_US = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;

/** `window`: only samples within [start, end] (monotonic µs, see monotonicMicros). */
export function summarizeProfile(file: string, label: string, window?: [number, number], top = 12): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const componentOfKey = new Map<string, string>();
  const components: Record<string, number> = {};
  let busy = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window[0] || at > window[1])) continue;
    // timeDeltas[i] is the time since the previous sample; attribute the next delta to this sample.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    const component = componentOf(node.callFrame);
    if (component === 'idle') continue;
    busy += dt;
    components[component] = (components[component] ?? 0) + dt;
    const key = frameKey(node.callFrame);
    componentOfKey.set(key, component);
    self.set(key, (self.get(key) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const k = frameKey(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      componentOfKey.set(k, componentOf(frame));
      total.set(k, (total.get(k) ?? 0) + dt);
    }
  }
  const pct = (us: number): number => (busy > 0 ? (us / busy) * 100 : 0);
  const spot = (key: string): HotSpot => ({
    function: key,
    component: componentOfKey.get(key) ?? 'other',
    selfPercent: pct(self.get(key) ?? 0),
    totalPercent: pct(total.get(key) ?? 0),
  });
  const topSelf = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k]) => spot(k));
  const topOurs = [...total.entries()]
    .filter(([k]) => (componentOfKey.get(k) ?? '').startsWith('ours'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k]) => spot(k));
  return {
    label,
    busyMs: busy / 1000,
    components: Object.fromEntries(Object.entries(components).map(([k, v]): [string, number] => [k, pct(v)]).sort((a, b) => b[1] - a[1])),
    topSelf,
    topOurs,
  };
}
