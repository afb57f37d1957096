/**
 * 2. Consumer throughput: the same events read from the earliest offset by diaspora-in into a
 * counting flow, against a raw kafkajs consumer, Kafka's ConsumerPerformance, kcat -C and
 * kafka-python; each run in a fresh consumer group, interleaved per round.
 */
import * as crypto from 'node:crypto';
import { kafkajsConsume, kafkajsProduce } from '../clients/kafkajs';
import type { BenchContext } from '../context';
import { say } from '../lib/log';
import { consumerFlow, type ConsumerFlowOptions } from '../node-red/flows';
import type { Table } from '../report';
import { consumedPerSecond, type NodeRedSession } from './node-red-session';
import { interleave, PAYLOAD_BYTES, rawBatching, throughputRows, type Measurement, type Variant } from './producer';

export function groupId(label: string): string {
  return `bench-${label}-${crypto.randomBytes(4).toString('hex')}`;
}

/** diaspora-in on `topic` from the earliest offset in a new group: messages per second, first to last. */
export async function nodeRedConsume(nr: NodeRedSession, topic: string, count: number, opts: ConsumerFlowOptions = {}): Promise<Measurement> {
  const flow = consumerFlow(topic, groupId('nr'), 'earliest', 'bench-in', opts);
  const result = await nr.waitFor(count, () => nr.deployChanged(flow), 600_000, `diaspora-in reading ${count} events`);
  // Leave the group before the next run (deploying without the node stops it).
  await nr.deployChanged([]);
  return { perSecond: consumedPerSecond(result), ...(result.cpuUs !== undefined ? { cpuUs: result.cpuUs / (count - 1) } : {}) };
}

export async function consumerSection(ctx: BenchContext, nr: NodeRedSession): Promise<Table> {
  const { sizes, outside } = ctx;
  const count = sizes.messages;
  const topic = await ctx.topic('c-1k');
  say(`consumer: filling ${topic} with ${count} events (raw kafkajs)`);
  await kafkajsProduce(ctx.target, topic, count, PAYLOAD_BYTES, rawBatching(PAYLOAD_BYTES));
  await nr.deploy([]);

  const variants: Variant[] = [
    { label: 'Node-RED diaspora-in', available: true, measure: () => nodeRedConsume(nr, topic, count) },
    { label: 'Node-RED diaspora-in → function node', available: true, measure: () => nodeRedConsume(nr, topic, count, { viaFunction: true }) },
    { label: 'Node-RED diaspora-in, window 1', available: true, measure: () => nodeRedConsume(nr, topic, count, { window: 1 }) },
    {
      label: 'raw kafkajs eachMessage',
      available: true,
      measure: async () => {
        const r = await kafkajsConsume(ctx.target, topic, count, groupId('raw'));
        return { perSecond: ((r.count - 1) / (r.lastAt - r.firstAt)) * 1000, cpuUs: r.cpuUs / (r.count - 1) };
      },
    },
    {
      label: 'Kafka ConsumerPerformance (Java)',
      available: outside.has('java'),
      measure: async () => ({ perSecond: (await outside.javaConsume(topic, count, groupId('java'))).perSecond }),
    },
    {
      label: 'kcat -C (librdkafka)',
      available: outside.has('kcat'),
      measure: async () => {
        const r = await outside.kcatConsume(topic, count);
        if (r.received < count) throw new Error(`kcat -C read ${r.received} of ${count}`);
        return { perSecond: ((r.received - 1) / r.spanMs) * 1000 };
      },
    },
    {
      label: 'kafka-python',
      available: outside.has('python'),
      measure: async () => {
        const r = await outside.pythonConsume(topic, count, groupId('python'));
        if (r.count < count) throw new Error(`kafka-python read ${r.count} of ${count}`);
        return { perSecond: ((r.count - 1) / (r.lastAt - r.firstAt)) * 1000 };
      },
    },
  ];
  const values = await interleave(variants, sizes.rounds, 'consumer');
  const base = 'raw kafkajs eachMessage';
  return {
    id: 'consumer',
    title: `2. Consumer throughput: ${count.toLocaleString('en-US')} × ${PAYLOAD_BYTES} B JSON from the earliest offset, fresh group each run (${sizes.rounds} rounds)`,
    columns: { perSecond: 'msg/s median (min–max)', mbPerSecond: 'MB/s', cpuUs: 'CPU µs/msg' },
    ratioMetric: 'perSecond',
    rows: throughputRows(variants, values, base, PAYLOAD_BYTES, (label) => ctx.tools.missing[label.includes('Java') ? 'java' : label.includes('kcat') ? 'kcat' : 'python'] ?? 'unavailable'),
    notes: [
      'All: messages per second from the first event received to the last, so group join and connection set-up are left out (ConsumerPerformance: its fetch.nMsg.sec).',
      'Node-RED: diaspora-in (format auto: JSON parsed, commit auto, the default window of 256 events per partition unless the row says otherwise) wired to a counting node, or to a function node (`return msg;`) and then the counting node; deployed with a new group id each run. "window 1" has one event at a time in the flow, as diaspora-in did before the window.',
      'raw kafkajs: consumer.run({ eachMessage }) with JSON.parse of every value, default fetch sizes. kafka-python: KafkaConsumer with a JSON value_deserializer. kcat: `-C -o beginning -e`, only offsets printed.',
    ],
  };
}
