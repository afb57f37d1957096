/**
 * Flow building blocks for the flow-node tests (diaspora-topic, diaspora-out): a config node in
 * client-credentials mode against the local fabric, sinks for outputs, Catch and Complete nodes,
 * and a way to wait for what a tagged message became.
 */
import * as crypto from 'node:crypto';
import type { FabricClient, FabricDescription } from '../../fabric/contract';
import { eventually, type FlowNode, type NodeRedTestHelper, type RuntimeNode } from '../fixtures/node-red';

export type Api = 'v1' | 'v3';
export const TAB = 'h5-tab';

export interface Msg {
  tag?: string;
  payload?: unknown;
  topic?: string;
  error?: { message: string; source?: { id: string; type: string } };
  [key: string]: unknown;
}

export function uniqueTopic(label: string): string {
  return `h5-${label}-${crypto.randomBytes(3).toString('hex')}`;
}

export function configNode(
  id: string,
  fabric: FabricDescription,
  api: Api,
  client: FabricClient,
  extra: Record<string, unknown> = {},
): { node: FlowNode; credentials: Record<string, object> } {
  return {
    node: {
      id,
      type: 'diaspora-config',
      name: `h5 ${id}`,
      api,
      serviceUrl: fabric.serviceUrl,
      authUrl: fabric.authUrl,
      clientId: client.clientId,
      authMode: 'client',
      brokers: fabric.brokers.join(','),
      kafkaAuth: 'scram-sha-512',
      tls: false,
      readyTimeout: 60,
      ...extra,
    },
    credentials: { [id]: { clientSecret: client.clientSecret } },
  };
}

export function tab(): FlowNode {
  return { id: TAB, type: 'tab', label: 'h5 tests' };
}

export function sinkNode(id: string): FlowNode {
  return { id, type: 'helper', z: TAB, x: 0, y: 0 };
}

/** A Catch node for `scope` (node ids), wired to a sink. */
export function catchNode(id: string, sinkId: string, scope: string[] | null = null): FlowNode {
  return { id, type: 'catch', z: TAB, x: 0, y: 0, scope, uncaught: false, wires: [[sinkId]] };
}

/** A Complete node for `scope`, wired to a sink: it fires when a node calls done() without error. */
export function completeNode(id: string, sinkId: string, scope: string[]): FlowNode {
  return { id, type: 'complete', z: TAB, x: 0, y: 0, scope, uncaught: false, wires: [[sinkId]] };
}

/** Every message a sink node received, in order. */
export class Sink {
  readonly messages: Msg[] = [];

  constructor(helper: NodeRedTestHelper, id: string) {
    const node = helper.getNode(id);
    if (!node) throw new Error(`sink ${id} is not deployed`);
    node.on('input', (msg: unknown) => {
      this.messages.push(msg as Msg);
    });
  }

  tagged(tag: string): Msg | undefined {
    return this.messages.find((m) => m.tag === tag);
  }

  async next(tag: string, timeoutMs = 20_000): Promise<Msg> {
    return eventually(`a message tagged ${tag}`, () => this.tagged(tag), timeoutMs, 20);
  }
}

export type Outcome = { ok: Msg; error?: undefined } | { ok?: undefined; error: Msg };

/** Waits for the tagged message to come out of the node (`ok`) or to reach the Catch sink (`error`). */
export function outcome(out: Sink, caught: Sink, tag: string, timeoutMs = 20_000): Promise<Outcome> {
  return eventually<Outcome>(
    `${tag} to be sent on or caught`,
    () => {
      const ok = out.tagged(tag);
      if (ok) return { ok };
      const error = caught.tagged(tag);
      if (error) return { error };
      return undefined;
    },
    timeoutMs,
    20,
  );
}

/** Sends a message into a node, as a wire would. */
export function inject(helper: NodeRedTestHelper, id: string, msg: Msg): void {
  const node = helper.getNode(id) as (RuntimeNode & { receive(msg: Msg): void }) | null;
  if (!node) throw new Error(`node ${id} is not deployed`);
  node.receive(msg);
}

export function describeOutcome(result: Outcome): string {
  return result.ok ? `sent on: ${JSON.stringify(result.ok.payload)}` : `caught: ${result.error.error?.message}`;
}
