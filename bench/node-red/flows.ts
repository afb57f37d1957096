/** The flows the benchmark deploys into its Node-RED, as the editor would deploy them. */
import type { FabricClient, FabricDescription } from '../../fabric/contract';
import type { FlowNode } from './child';

export const TAB = 'bench-tab';
export type Transport = 'kafka' | 'https';
export const CONFIG = 'bench-cfg';

export function tab(): FlowNode {
  return { id: TAB, type: 'tab', label: 'benchmark' };
}

/**
 * A v3 config node in client-credentials mode. `withSecret` includes the client secret (the first
 * deploy); later deploys leave it out and Node-RED keeps the stored credentials (and the key).
 */
export function configNode(fabric: FabricDescription, client: FabricClient, withSecret: boolean, id = CONFIG, name = 'bench', transport: Transport = 'kafka'): FlowNode {
  return {
    id,
    type: 'diaspora-config',
    name,
    api: 'v3',
    transport,
    serviceUrl: fabric.serviceUrl,
    authUrl: fabric.authUrl,
    clientId: client.clientId,
    authMode: 'client',
    brokers: fabric.brokers.join(','),
    kafkaAuth: 'scram-sha-512',
    tls: false,
    readyTimeout: 60,
    ...(withSecret ? { credentials: { clientSecret: client.clientSecret } } : {}),
  };
}

function at(node: FlowNode): FlowNode {
  return { z: TAB, x: 100, y: 100, ...node };
}

export function source(id: string, wires: string[][]): FlowNode {
  return at({ id, type: 'bench-source', outputs: wires.length, wires });
}

export function counter(id: string, role: 'ok' | 'error' = 'ok'): FlowNode {
  return at({ id, type: 'bench-counter', role, wires: [] });
}

export function out(id: string, topic: string, mode: 'ack' | 'fire', wires: string[][] = [[]], config = CONFIG): FlowNode {
  return at({
    id,
    type: 'diaspora-out',
    fabric: config,
    topic,
    key: '',
    mode,
    acks: 'all',
    compression: 'none',
    whenNotReady: 'queue',
    queueSize: 100_000,
    wires,
  });
}

export function diasporaIn(id: string, topic: string, start: 'earliest' | 'latest', groupId: string, wires: string[][], config = CONFIG, window?: number): FlowNode {
  return at({ id, type: 'diaspora-in', fabric: config, topics: topic, start, groupId, format: 'auto', commit: 'auto', ...(window !== undefined ? { window: String(window) } : {}), wires });
}

/** A core function node passing the message on, as users wire one behind a consumer. */
export function passOn(id: string, wires: string[][]): FlowNode {
  return at({ id, type: 'function', func: 'return msg;', outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires });
}

/** A core change node setting msg.seen: the cheapest real node of a flow that is not about Diaspora. */
export function mark(id: string, wires: string[][]): FlowNode {
  return at({ id, type: 'change', rules: [{ t: 'set', p: 'seen', pt: 'msg', to: 'true', tot: 'bool' }], wires });
}

export function diasporaTopic(id: string, topic: string, wires: string[][] = [[]], config = CONFIG): FlowNode {
  return at({ id, type: 'diaspora-topic', fabric: config, action: 'register', topic, wires });
}

/** Counts the done() of the nodes in `scope` (bench-nodes' onComplete hook). */
export function doneWatch(id: string, scope: string[]): FlowNode {
  return at({ id, type: 'bench-done-watch', scope, wires: [] });
}

/** A Catch node for `scope`. */
export function catcher(id: string, scope: string[], target: string): FlowNode {
  return at({ id, type: 'catch', scope, uncaught: false, wires: [[target]] });
}

export interface ConsumerFlowOptions {
  /** diaspora-in's window; undefined = its default. */
  window?: number;
  /** A function node between diaspora-in and the counter. */
  viaFunction?: boolean;
}

/** diaspora-in → [function node →] counter (and a Catch to the error counter). */
export function consumerFlow(topic: string, groupId: string, start: 'earliest' | 'latest', inId = 'bench-in', opts: ConsumerFlowOptions = {}): FlowNode[] {
  const first = opts.viaFunction ? 'bench-fn' : 'bench-count';
  return [
    diasporaIn(inId, topic, start, groupId, [[first]], CONFIG, opts.window),
    ...(opts.viaFunction ? [passOn('bench-fn', [['bench-count']])] : []),
    counter('bench-count'),
    counter('bench-errors', 'error'),
    catcher('bench-catch', [inId], 'bench-errors'),
  ];
}

/** source → diaspora-out (fire) → broker → diaspora-in (latest) → counter, in one Node-RED. */
export function latencyFlow(topic: string, groupId: string): { nodes: FlowNode[]; sourceId: string } {
  return {
    nodes: [
      source('bench-src', [['bench-out-0']]),
      out('bench-out-0', topic, 'fire'),
      diasporaIn('bench-in', topic, 'latest', groupId, [['bench-count']]),
      counter('bench-count'),
      counter('bench-errors', 'error'),
      catcher('bench-catch', ['bench-out-0', 'bench-in'], 'bench-errors'),
    ],
    sourceId: 'bench-src',
  };
}
