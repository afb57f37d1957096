/**
 * Flow pieces for the fault tests on the fault fabric: the config node (client credentials), the
 * four Diaspora nodes with defaults, status recording, and reading a topic back as the broker's
 * super user to count sequence numbers.
 */
import * as crypto from 'node:crypto';
import type { Kafka, KafkaJSError } from 'kafkajs';
import type { FabricClient, FabricDescription } from '../../../fabric/contract';
import type { DiasporaConfigNode } from '../../../nodes/shared/config-node';
import { eventually, type FlowNode, type NodeRedTestHelper } from '../../fixtures/node-red';
import { TAB } from '../../nodes/flow-support';

export type Api = 'v1' | 'v3';

export function faultTopic(label: string): string {
  return `h10-${label}-${crypto.randomBytes(3).toString('hex')}`;
}

export function faultConfig(
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
      name: `h10 ${id}`,
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

export function outNode(id: string, fabricId: string, extra: Record<string, unknown> = {}, wires: string[][] = []): FlowNode {
  return {
    id, type: 'diaspora-out', z: TAB, x: 0, y: 0, fabric: fabricId, topic: '', key: '', mode: 'ack', acks: 'all',
    compression: 'none', whenNotReady: 'queue', queueSize: 1000, wires, ...extra,
  };
}

export function inNode(id: string, fabricId: string, topics: string, extra: Record<string, unknown> = {}, wires: string[][] = []): FlowNode {
  return { id, type: 'diaspora-in', z: TAB, x: 0, y: 0, fabric: fabricId, topics, start: 'earliest', groupId: '', format: 'auto', commit: 'auto', wires, ...extra };
}

export function topicNode(id: string, fabricId: string, extra: Record<string, unknown> = {}, wires: string[][] = []): FlowNode {
  return { id, type: 'diaspora-topic', z: TAB, x: 0, y: 0, fabric: fabricId, action: 'register', topic: '', wires, ...extra };
}

export interface StatusRecord {
  at: number;
  fill?: string;
  shape?: string;
  text?: string;
}

/** Records every status the node shows (the helper spies on Node.status). */
export function recordStatuses(helper: NodeRedTestHelper, id: string): StatusRecord[] {
  const records: StatusRecord[] = [];
  const node = helper.getNode(id);
  if (!node) throw new Error(`node ${id} is not deployed`);
  node.on('call:status', (call: unknown) => {
    const status = (call as { args: [{ fill?: string; shape?: string; text?: string } | undefined] }).args[0] ?? {};
    records.push({ at: Date.now(), fill: status.fill, shape: status.shape, text: status.text });
  });
  return records;
}

/** The status sequence without repeats, as "fill:text" (counts shown as N, catalog prefixes dropped). */
export function statusSequence(records: StatusRecord[], since = 0): string[] {
  const out: string[] = [];
  for (const r of records) {
    if (r.at < since) continue;
    const text = (r.text ?? '').replace(/diaspora-config\.status\.(reason\.)?/g, '').replace(/\d+/g, 'N');
    const label = `${r.fill ?? '-'}:${text}`;
    if (out.at(-1) !== label) out.push(label);
  }
  return out;
}

export function configOf(helper: NodeRedTestHelper, id: string): DiasporaConfigNode {
  const node = helper.getNode(id);
  if (!node) throw new Error(`config node ${id} is not deployed`);
  return node as unknown as DiasporaConfigNode;
}

/** Registers the topic for the config node's identity (as diaspora-topic would) and returns its Kafka name. */
export async function registerTopic(config: DiasporaConfigNode, topic: string, timeoutMs = 30_000): Promise<string> {
  await eventually('the identity', () => config.session.subject, timeoutMs);
  const answer = await (await config.session.service()).registerTopic(topic);
  if (!['success', 'no-op'].includes(answer.status)) throw new Error(`registering ${topic}: ${answer.status}: ${answer.message}`);
  return config.kafkaTopic(topic);
}

/** Waits for ready and for the shared producer to have connected (closing it mid-connect is slow). */
export async function readyAndConnected(config: DiasporaConfigNode, timeoutMs = 30_000): Promise<void> {
  await config.session.whenReady(timeoutMs);
  await eventually(
    'the connection manager to connect',
    () => (config.session.connections?.currentStatus.state === 'connected' ? true : undefined),
    timeoutMs,
  );
}

/**
 * Each partition's end offset. A broker that was just resumed or restarted may not lead its
 * partitions yet and answers with a retriable error ("not the leader"): those are asked again
 * until the time is up, anything else is thrown at once.
 */
async function topicEnds(kafka: Kafka, topic: string, timeoutMs: number): Promise<Map<number, bigint>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A new admin each time: kafkajs asks the same stale leader again on its own retries.
    const admin = kafka.admin();
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    } catch (err) {
      if (!(err as KafkaJSError).retriable || Date.now() >= deadline) throw err;
    } finally {
      await admin.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Every record of `topic` (all partitions) from the beginning up to its current end, values as text. */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<string[]> {
  const ends = await topicEnds(kafka, topic, timeoutMs);
  const total = [...ends.values()].reduce((a, b) => a + b, 0n);
  const values: string[] = [];
  if (total === 0n) return values;
  const consumer = kafka.consumer({ groupId: `h10-reader-${crypto.randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 500 });
  const reached = new Map<number, bigint>();
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const complete = (): boolean => [...ends].every(([p, end]) => end === 0n || (reached.get(p) ?? -1n) >= end - 1n);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        values.push(message.value?.toString('utf8') ?? '');
        reached.set(partition, BigInt(message.offset));
        if (complete()) finished();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`read ${values.length} of ${total} records of ${topic} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([done, expired]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect();
  }
  return values;
}
