/**
 * 6. Scaling: producer and consumer throughput against payload size (Node-RED against raw kafkajs,
 * the same bytes per run), and producer throughput against the number of diaspora-out nodes that
 * share one config node (one shared producer). Interleaved per round.
 */
import { kafkajsConsume, kafkajsProduce } from '../clients/kafkajs';
import type { BenchContext } from '../context';
import { say } from '../lib/log';
import { counter, catcher, out, source } from '../node-red/flows';
import type { Row, Table } from '../report';
import { groupId, nodeRedConsume } from './consumer';
import { producedPerSecond, type NodeRedSession } from './node-red-session';
import { rawBatching } from './producer';

export const PAYLOAD_SIZES = [100, 1024, 10 * 1024, 100 * 1024];
export const FANOUT = [1, 4, 16];

function sizeLabel(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KB` : `${bytes} B`;
}

export async function scalingSection(ctx: BenchContext, nr: NodeRedSession): Promise<Table[]> {
  return [await payloadScaling(ctx, nr), await fanoutScaling(ctx, nr)];
}

async function payloadScaling(ctx: BenchContext, nr: NodeRedSession): Promise<Table> {
  const { sizes } = ctx;
  const counts = new Map(PAYLOAD_SIZES.map((b) => [b, Math.max(100, Math.min(sizes.scalingMaxMessages, Math.floor(sizes.scalingBytes / b)))]));
  const nrTopics = new Map<number, string>();
  const rawTopics = new Map<number, string>();
  for (const b of PAYLOAD_SIZES) {
    nrTopics.set(b, await ctx.topic(`s-nr-${b}`));
    rawTopics.set(b, await ctx.topic(`s-raw-${b}`));
  }
  // One diaspora-out without a topic of its own: the source names the topic per run (msg.topic).
  await nr.deploy([
    source('src', [['out']]),
    out('out', '', 'ack', [['bench-count']]),
    counter('bench-count'),
    counter('bench-errors', 'error'),
    catcher('bench-catch', ['out'], 'bench-errors'),
  ]);
  for (const b of PAYLOAD_SIZES) {
    await nr.run('src', { count: 200, window: sizes.window, rate: 0, payloadBytes: b, latency: false, topic: nrTopics.get(b)! });
  }
  const values = new Map<string, number[]>();
  const push = (label: string, v: number): void => {
    values.set(label, [...(values.get(label) ?? []), v]);
  };
  for (let round = 1; round <= sizes.rounds; round += 1) {
    for (const b of PAYLOAD_SIZES) {
      const count = counts.get(b)!;
      const nrRun = await nr.run('src', { count, window: sizes.window, rate: 0, payloadBytes: b, latency: false, topic: nrTopics.get(b)! });
      push(`produce ${b} Node-RED`, producedPerSecond(nrRun));
      const raw = await kafkajsProduce(ctx.target, rawTopics.get(b)!, count, b, rawBatching(b));
      push(`produce ${b} raw`, (count / raw.elapsedMs) * 1000);
    }
    say(`scaling round ${round}/${sizes.rounds}: producers done`);
  }
  // Consumers read what raw kafkajs wrote in the first round (the first `count` events of its topic).
  await nr.deploy([]);
  for (let round = 1; round <= sizes.rounds; round += 1) {
    for (const b of PAYLOAD_SIZES) {
      const count = counts.get(b)!;
      push(`consume ${b} Node-RED`, (await nodeRedConsume(nr, rawTopics.get(b)!, count)).perSecond);
      const r = await kafkajsConsume(ctx.target, rawTopics.get(b)!, count, groupId('scale'));
      push(`consume ${b} raw`, ((r.count - 1) / (r.lastAt - r.firstAt)) * 1000);
    }
    say(`scaling round ${round}/${sizes.rounds}: consumers done`);
  }
  const rows: Row[] = [];
  for (const phase of ['produce', 'consume']) {
    for (const b of PAYLOAD_SIZES) {
      const nrValues = values.get(`${phase} ${b} Node-RED`) ?? [];
      const rawValues = values.get(`${phase} ${b} raw`) ?? [];
      const rawLabel = `${phase} ${sizeLabel(b)}, raw kafkajs`;
      rows.push({ label: rawLabel, metrics: { perSecond: rawValues, mbPerSecond: rawValues.map((x) => (x * b) / 1e6) } });
      rows.push({
        label: `${phase} ${sizeLabel(b)}, Node-RED`,
        metrics: { perSecond: nrValues, mbPerSecond: nrValues.map((x) => (x * b) / 1e6) },
        vs: rawLabel,
      });
    }
  }
  return {
    id: 'scaling-payload',
    title: `6a. Throughput against payload size (${sizes.rounds} rounds; events per run: ${PAYLOAD_SIZES.map((b) => `${sizeLabel(b)} × ${counts.get(b)!.toLocaleString('en-US')}`).join(', ')})`,
    columns: { perSecond: 'msg/s median (min–max)', mbPerSecond: 'MB/s' },
    ratioMetric: 'perSecond',
    rows,
    notes: [
      'Producer: diaspora-out in ack mode (timed as in table 1) against raw kafkajs sendBatch with ≈512 KiB batches, two in flight.',
      'Consumer: diaspora-in (format auto) against raw kafkajs eachMessage with JSON.parse, both from the earliest offset of the topic raw kafkajs wrote, fresh group each run.',
    ],
  };
}

async function fanoutScaling(ctx: BenchContext, nr: NodeRedSession): Promise<Table> {
  const { sizes } = ctx;
  const count = sizes.fanoutMessages;
  const topic = await ctx.topic('s-fanout');
  const flowFor = (n: number) => {
    const outs = Array.from({ length: n }, (_, i) => `out-${n}-${i}`);
    return [
      source(`src-${n}`, outs.map((id) => [id])),
      ...outs.map((id) => out(id, topic, 'ack', [['bench-count']])),
    ];
  };
  // Every fan-out in one flow: the same config node and shared producer for all of them.
  const all = FANOUT.flatMap((n) => flowFor(n));
  const outIds = all.filter((node) => node.type === 'diaspora-out').map((node) => node.id);
  await nr.deploy([...all, counter('bench-count'), counter('bench-errors', 'error'), catcher('bench-catch', outIds, 'bench-errors')]);
  for (const n of FANOUT) await nr.run(`src-${n}`, { count: 1000, window: sizes.window, rate: 0, payloadBytes: 1024, latency: false });
  const values = new Map<number, number[]>(FANOUT.map((n) => [n, []]));
  for (let round = 1; round <= sizes.rounds; round += 1) {
    for (const n of FANOUT) {
      const result = await nr.run(`src-${n}`, { count, window: sizes.window, rate: 0, payloadBytes: 1024, latency: false });
      values.get(n)!.push(producedPerSecond(result));
    }
    say(`fan-out round ${round}/${sizes.rounds}: ${FANOUT.map((n) => `${n} nodes ${Math.round(values.get(n)!.at(-1)!)} msg/s`).join(', ')}`);
  }
  await nr.deploy([]);
  return {
    id: 'scaling-fanout',
    title: `6b. Producer throughput against the number of diaspora-out nodes sharing one config node (${count.toLocaleString('en-US')} × 1 KB, ack mode, ${sizes.rounds} rounds)`,
    columns: { perSecond: 'msg/s median (min–max)' },
    ratioMetric: 'perSecond',
    rows: FANOUT.map((n) => ({
      label: `${n} diaspora-out node${n > 1 ? 's' : ''}`,
      metrics: { perSecond: values.get(n)! },
      ...(n > 1 ? { vs: '1 diaspora-out node' } : {}),
    })),
    notes: ['The source spreads events round-robin over the nodes; all nodes write to one topic through the config node\'s one shared producer, so their events share batches.'],
  };
}
