/**
 * 1. Producer throughput: 1 KB JSON events, acks = all, no compression, through a real Node-RED
 * (diaspora-out in ack and in fire mode, fed as fast as it accepts them) against raw kafkajs
 * (sendBatch), Kafka's ProducerPerformance, kcat -P and kafka-python, interleaved per round.
 */
import * as path from 'node:path';
import { kafkajsProduce, type ProduceSettings } from '../clients/kafkajs';
import type { BenchContext } from '../context';
import { say } from '../lib/log';
import { summarize } from '../lib/stats';
import { counter, catcher, doneWatch, out, source } from '../node-red/flows';
import { writePayloadFile } from '../payload';
import type { Row, Table } from '../report';
import { producedPerSecond, type NodeRedSession } from './node-red-session';

export const PAYLOAD_BYTES = 1024;

/** Raw kafkajs's best batching here (see docs/benchmarks.md): ~512 KiB per sendBatch, two in flight. */
export function rawBatching(payloadBytes: number): ProduceSettings {
  return { batchSize: Math.max(1, Math.min(1000, Math.floor((512 * 1024) / (payloadBytes + 60)))), concurrency: 2 };
}

export interface Measurement {
  perSecond: number;
  /** CPU time (user + system) of the client's process per message, µs, where measured. */
  cpuUs?: number;
}

export interface Variant {
  label: string;
  available: boolean;
  measure(): Promise<Measurement>;
}

/**
 * Runs every available variant once per round, in order (A B C … A B C …), or with `alternate`
 * in reverse order every other round (A B, B A, …), so that neither side always runs first.
 */
export async function interleave(variants: Variant[], rounds: number, what: string, alternate = false): Promise<Map<string, Measurement[]>> {
  const values = new Map<string, Measurement[]>(variants.map((v) => [v.label, []]));
  for (let round = 1; round <= rounds; round += 1) {
    for (const v of alternate && round % 2 === 0 ? [...variants].reverse() : variants) {
      if (!v.available) continue;
      const m = await v.measure();
      values.get(v.label)!.push(m);
      say(`${what} round ${round}/${rounds}: ${v.label}: ${Math.round(m.perSecond)} msg/s${m.cpuUs !== undefined ? `, ${m.cpuUs.toFixed(1)} µs CPU/msg` : ''}`);
    }
  }
  return values;
}

/** Table rows: msg/s, MB/s and CPU per message, with the ratio to `base`. */
export function throughputRows(variants: Variant[], values: Map<string, Measurement[]>, base: string, payloadBytes: number, missing: (label: string) => string): Row[] {
  return variants.map((v) => {
    const ms = values.get(v.label) ?? [];
    const metrics: Record<string, number[]> = v.available
      ? {
          perSecond: ms.map((m) => m.perSecond),
          mbPerSecond: ms.map((m) => (m.perSecond * payloadBytes) / 1e6),
          ...(ms.some((m) => m.cpuUs !== undefined) ? { cpuUs: ms.map((m) => m.cpuUs ?? NaN) } : {}),
        }
      : {};
    return {
      label: v.label,
      metrics,
      ...(v.label !== base && v.available ? { vs: base } : {}),
      ...(!v.available ? { note: `not run: ${missing(v.label)}` } : {}),
    };
  });
}

/** The producer flows: two sources, one diaspora-out in ack mode and one in fire mode, one counter. */
export function producerNodes(ackTopic: string, fireTopic: string): ReturnType<typeof source>[] {
  return [
    source('src-ack', [['out-ack']]),
    out('out-ack', ackTopic, 'ack', [['bench-count']]),
    source('src-fire', [['out-fire']]),
    out('out-fire', fireTopic, 'fire'),
    // Fire mode has no output: its done() calls are counted (errors included) through Node-RED's onComplete hook.
    doneWatch('bench-done', ['out-fire']),
    counter('bench-count'),
    counter('bench-errors', 'error'),
    catcher('bench-catch', ['out-ack'], 'bench-errors'),
  ];
}

export async function producerSection(ctx: BenchContext, nr: NodeRedSession): Promise<Table> {
  const { sizes, outside } = ctx;
  const count = sizes.messages;
  const topics = {
    ack: await ctx.topic('p-nr-ack'),
    fire: await ctx.topic('p-nr-fire'),
    raw: await ctx.topic('p-kafkajs'),
    java: await ctx.topic('p-java'),
    kcat: await ctx.topic('p-kcat'),
    python: await ctx.topic('p-python'),
  };
  const kcatFile = path.join(ctx.workDir, `payload-${PAYLOAD_BYTES}-${count}.jsonl`);
  writePayloadFile(kcatFile, PAYLOAD_BYTES, count);
  const kcatOne = path.join(ctx.workDir, `payload-${PAYLOAD_BYTES}-1.jsonl`);
  writePayloadFile(kcatOne, PAYLOAD_BYTES, 1);
  const javaFile = path.join(ctx.workDir, `payload-${PAYLOAD_BYTES}-1000.jsonl`);
  writePayloadFile(javaFile, PAYLOAD_BYTES, 1000);

  await nr.deploy(producerNodes(topics.ack, topics.fire));
  for (const id of ['src-ack', 'src-fire']) {
    await nr.run(id, { count: 2000, window: sizes.window, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false });
  }

  const nodeRed = (sourceId: string) => async (): Promise<Measurement> => {
    const result = await nr.run(sourceId, { count, window: sizes.window, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false });
    return { perSecond: producedPerSecond(result), ...(result.cpuUs !== undefined ? { cpuUs: result.cpuUs / count } : {}) };
  };
  const kcatStartup: number[] = [];
  const variants: Variant[] = [
    { label: 'Node-RED diaspora-out, ack mode', available: true, measure: nodeRed('src-ack') },
    { label: 'Node-RED diaspora-out, fire mode', available: true, measure: nodeRed('src-fire') },
    {
      label: 'raw kafkajs sendBatch',
      available: true,
      measure: async () => {
        const r = await kafkajsProduce(ctx.target, topics.raw, count, PAYLOAD_BYTES, rawBatching(PAYLOAD_BYTES));
        return { perSecond: (count / r.elapsedMs) * 1000, cpuUs: r.cpuUs / count };
      },
    },
    {
      label: 'Kafka ProducerPerformance (Java)',
      available: outside.has('java'),
      measure: async () => ({ perSecond: (await outside.javaProduce(topics.java, count, javaFile)).perSecond }),
    },
    {
      label: 'kcat -P (librdkafka)',
      available: outside.has('kcat'),
      measure: async () => {
        // kcat's own start, SASL handshake and final flush, measured with one message, is taken off.
        const startup = (await outside.kcatProduce(topics.kcat, kcatOne)).wallMs;
        kcatStartup.push(startup);
        const { wallMs } = await outside.kcatProduce(topics.kcat, kcatFile);
        return { perSecond: (count / Math.max(1, wallMs - startup)) * 1000 };
      },
    },
    {
      label: 'kafka-python',
      available: outside.has('python'),
      measure: async () => ({ perSecond: (count / (await outside.pythonProduce(topics.python, count, PAYLOAD_BYTES)).elapsedMs) * 1000 }),
    },
  ];

  const values = await interleave(variants, sizes.rounds, 'producer');
  const base = 'raw kafkajs sendBatch';
  const raw = rawBatching(PAYLOAD_BYTES);
  return {
    id: 'producer',
    title: `1. Producer throughput: ${count.toLocaleString('en-US')} × ${PAYLOAD_BYTES} B JSON, acks = all, no compression, 1 partition (${sizes.rounds} rounds)`,
    columns: { perSecond: 'msg/s median (min–max)', mbPerSecond: 'MB/s', cpuUs: 'CPU µs/msg' },
    ratioMetric: 'perSecond',
    rows: throughputRows(variants, values, base, PAYLOAD_BYTES, (label) => ctx.tools.missing[label.includes('Java') ? 'java' : label.includes('kcat') ? 'kcat' : 'python'] ?? 'unavailable'),
    notes: [
      'Node-RED: a bench-source node feeds diaspora-out as fast as it accepts, with at most ' +
        `${sizes.window.toLocaleString('en-US')} messages unfinished; timed from the first message to the last broker acknowledgement (ack mode: the output message; fire mode: its done(), seen through Node-RED's onComplete hook). The shared producer was connected and warmed up before.`,
      `raw kafkajs: sendBatch of ${raw.batchSize} records (≈512 KiB), ${raw.concurrency} batches in flight, non-idempotent (kafkajs's default), JSON.stringify per event; timed after 2,000 warm-up events (its process is new each run).`,
      'ProducerPerformance: the same 1 KB JSON lines (--payload-file), idempotent (the Java default), linger.ms=0 and batch.size=262144 as diaspora-out batches; its own records/sec.',
      `kcat: \`-P -l file\` with acks=all; wall time minus a one-message run of kcat in the same round (start, SASL, flush: median ${Math.round(summarize(kcatStartup).median)} ms).`,
      'kafka-python: KafkaProducer(acks="all") with the SDK\'s JSON value serializer, send() then flush(); timed after a warm-up send.',
    ],
  };
}
