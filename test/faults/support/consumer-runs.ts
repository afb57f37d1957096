/**
 * diaspora-in in a Node-RED process of its own, for the tests that stop, kill and fail over
 * runtimes mid-stream: the flow (diaspora-in with a group id → a core `file` node writing one JSON
 * line per event, optionally a slow function node beside it that keeps the window full), the
 * sequence numbers in that file, a producer of sequence numbers at a steady rate, and the group's
 * committed offsets and members as the broker's super user sees them.
 */
import * as fs from 'node:fs';
import type { Admin, Kafka, KafkaJSError, Producer } from 'kafkajs';
import { eventually, sleep, type FlowNode } from '../../fixtures/node-red';
import type { FaultFabric } from './fault-fabric';
import { faultConfig } from './flows';

/** Finishes 1 event per `msPerEvent`, one at a time: slower than they come, so the window stays full. */
function slowFunction(msPerEvent: number): string {
  return [
    'const now = Date.now();',
    `const at = Math.max(now, context.get('busyUntil') || 0) + ${msPerEvent};`,
    "context.set('busyUntil', at);",
    'setTimeout(() => node.done(), at - now);',
    'return null;',
  ].join('\n');
}

export interface ConsumerFlowOptions {
  topic: string;
  groupId: string;
  /** The file the `file` node appends each event to (one JSON line). */
  outFile: string;
  /** diaspora-in's window; undefined = its default. */
  window?: number;
  /** A function node wired beside the file node that finishes one event per this many ms. */
  slowMsPerEvent?: number;
}

export function consumerFlow(fabric: FaultFabric, o: ConsumerFlowOptions): FlowNode[] {
  const config = faultConfig('cfg', fabric.description, 'v3', fabric.description.clients[0]);
  const slow = o.slowMsPerEvent !== undefined;
  const nodes: FlowNode[] = [
    {
      id: 'sub', type: 'diaspora-in', z: 'tab', fabric: 'cfg', topics: o.topic, start: 'earliest', groupId: o.groupId, format: 'auto', commit: 'auto',
      ...(o.window !== undefined ? { window: String(o.window) } : {}),
      wires: [slow ? ['write', 'slow'] : ['write']],
    },
    ...(slow ? [{ id: 'slow', type: 'function', z: 'tab', func: slowFunction(o.slowMsPerEvent ?? 0), outputs: 0, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [] }] : []),
    { id: 'write', type: 'file', z: 'tab', filename: o.outFile, filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [] },
  ];
  return [{ id: 'tab', type: 'tab', label: 'h10 consumer' }, { ...config.node, credentials: config.credentials.cfg }, ...nodes.map((n) => ({ x: 0, y: 0, ...n }))];
}

/** The sequence numbers the file node wrote, in file order (a line torn by a kill is left out). */
export function writtenSeqs(file: string): number[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{') && line.endsWith('}'))
    .map((line) => (JSON.parse(line) as { seq: number }).seq);
}

/** Sends `{"seq": n}` for n = 0, 1, ... at `ratePerS` for `durationMs` (or until stopped), in order (acks all). */
export class SequenceProducer {
  sent = 0;
  private readonly producer: Producer;
  private stopped = false;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly ratePerS: number,
  ) {
    // One request at a time and idempotent: offset n holds seq n on a fresh single-partition topic.
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async run(durationMs: number): Promise<number> {
    const started = Date.now();
    while (!this.stopped && Date.now() - started < durationMs) {
      const due = Math.floor(((Date.now() - started) * this.ratePerS) / 1000);
      const batch: Array<{ value: string }> = [];
      for (let seq = this.sent; seq < due; seq++) batch.push({ value: JSON.stringify({ seq }) });
      if (batch.length > 0) {
        await this.producer.send({ topic: this.topic, acks: -1, messages: batch });
        this.sent += batch.length;
      }
      await sleep(20);
    }
    return this.sent;
  }

  stop(): void {
    this.stopped = true;
  }

  async disconnect(): Promise<void> {
    this.stopped = true;
    await this.producer.disconnect();
  }
}

/** Asks again on Kafka's retriable answers (a coordinator moving, a group loading) until the deadline. */
async function askAgain<T>(what: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await what();
    } catch (err) {
      if (!(err as KafkaJSError).retriable || Date.now() >= deadline) throw err;
    }
    await sleep(250);
  }
}

/** A consumer group as the broker's super user sees it. */
export class GroupWatch {
  private readonly admin: Admin;

  constructor(
    kafka: Kafka,
    private readonly groupId: string,
    private readonly topic: string,
  ) {
    this.admin = kafka.admin();
  }

  connect(): Promise<void> {
    return this.admin.connect();
  }

  disconnect(): Promise<void> {
    return this.admin.disconnect();
  }

  /** The group's members and state (Stable, PreparingRebalance, ...). */
  async describe(): Promise<{ state: string; members: number }> {
    const { groups } = await askAgain(() => this.admin.describeGroups([this.groupId]));
    const group = groups[0];
    return { state: group?.state ?? 'Dead', members: group?.members.length ?? 0 };
  }

  /** Resolves once the group is Stable with `members` members (joined, partitions assigned). */
  stableWith(members: number, timeoutMs = 60_000): Promise<true> {
    return eventually(`the group stable with ${members} member(s)`, async () => {
      const now = await this.describe();
      return now.state === 'Stable' && now.members === members ? true : undefined;
    }, timeoutMs, 250);
  }

  /** Where a member resumes partition 0: the committed offset (the next event to read), 0 before the first commit (start "earliest"). */
  async committed(): Promise<number> {
    const answer = await askAgain(() => this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] }));
    const partition = answer.flatMap((t) => t.partitions).find((p) => p.partition === 0);
    return Math.max(0, Number(partition?.offset ?? -1));
  }

  /**
   * The committed offset once two reads half a second apart agree: a commit the killed runtime had
   * already sent is applied by the broker after the kill, so the first read may come before it.
   */
  async settledCommitted(): Promise<number> {
    let previous = await this.committed();
    for (;;) {
      await sleep(500);
      const now = await this.committed();
      if (now === previous) return now;
      previous = now;
    }
  }
}
