/**
 * 3. End-to-end latency inside one process: diaspora-out → broker → diaspora-in in one Node-RED,
 * against a raw kafkajs producer.send per event and a kafkajs consumer in one process, at 100 and
 * 1,000 events per second; p50, p99 and max per run, interleaved per round.
 */
import { KafkajsLatencyWorker, type LatencyRun } from '../clients/kafkajs';
import type { BenchContext } from '../context';
import { say } from '../lib/log';
import { sleep } from '../lib/proc';
import { latencyFlow } from '../node-red/flows';
import type { LatencySummary } from '../lib/stats';
import type { Row, Table } from '../report';
import { groupId } from './consumer';
import { checkRun, type NodeRedSession } from './node-red-session';
import { PAYLOAD_BYTES } from './producer';

export const RATES = [100, 1000];

/** Sends single events until one comes out of diaspora-in ("latest" starts once the group has joined). */
async function warmUp(nr: NodeRedSession, sourceId: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await nr.host.arm(1);
    await nr.host.startSource(sourceId, { count: 1, window: 1, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false });
    const result = await nr.host.result(1000);
    if (result.completed >= 1) break;
    if (Date.now() > deadline) throw new Error('diaspora-in did not receive the warm-up event within 60 s');
  }
  await sleep(1000);
}

export async function latencySection(ctx: BenchContext, nr: NodeRedSession): Promise<Table> {
  const { sizes } = ctx;
  const nrTopic = await ctx.topic('l-nr');
  const rawTopic = await ctx.topic('l-raw');
  const flow = latencyFlow(nrTopic, groupId('lat-nr'));
  await nr.deploy(flow.nodes);
  await warmUp(nr, flow.sourceId);
  const worker = await KafkajsLatencyWorker.start(ctx.target, rawTopic, groupId('lat-raw'), PAYLOAD_BYTES);
  const samples = new Map<string, LatencySummary[]>();
  const loopDelays = new Map<string, number[]>();
  const keep = (label: string, summary: LatencySummary, loopDelayMax: number): void => {
    samples.set(label, [...(samples.get(label) ?? []), summary]);
    loopDelays.set(label, [...(loopDelays.get(label) ?? []), loopDelayMax]);
  };
  try {
    for (let round = 1; round <= sizes.rounds; round += 1) {
      for (const rate of RATES) {
        const count = rate * sizes.latencySeconds;
        const nrRun = await nr.run(flow.sourceId, { count, window: count, rate, payloadBytes: PAYLOAD_BYTES, latency: true }, count, 120_000);
        checkRun(nrRun, 'latency run');
        keep(`Node-RED @ ${rate}/s`, nrRun.latency!, nrRun.eventLoopDelayMs?.max ?? NaN);
        const raw: LatencyRun = await worker.measure(rate, count);
        if (raw.received < count || raw.failures > 0) throw new Error(`raw kafkajs latency run: ${raw.received}/${count} received, ${raw.failures} failed sends`);
        keep(`raw kafkajs @ ${rate}/s`, raw.latency, raw.eventLoopDelayMs.max);
        say(`latency round ${round}/${sizes.rounds} @ ${rate}/s: Node-RED p50 ${nrRun.latency!.p50.toFixed(1)} p99 ${nrRun.latency!.p99.toFixed(1)} ms; raw kafkajs p50 ${raw.latency.p50.toFixed(1)} p99 ${raw.latency.p99.toFixed(1)} ms`);
      }
    }
  } finally {
    await worker.stop();
  }
  await nr.deploy([]);
  const rows: Row[] = [];
  for (const rate of RATES) {
    for (const who of ['Node-RED', 'raw kafkajs']) {
      const label = `${who} @ ${rate}/s`;
      const runs = samples.get(label) ?? [];
      rows.push({
        label,
        metrics: { p50: runs.map((r) => r.p50), p99: runs.map((r) => r.p99), max: runs.map((r) => r.max), loopDelay: loopDelays.get(label) ?? [] },
        ...(who === 'Node-RED' ? { vs: `raw kafkajs @ ${rate}/s` } : {}),
      });
    }
  }
  return {
    id: 'latency',
    title: `3. End-to-end latency, producer → broker → consumer in one process, ${PAYLOAD_BYTES} B JSON, ${sizes.latencySeconds} s per run (${sizes.rounds} rounds)`,
    columns: { p50: 'p50 ms', p99: 'p99 ms', max: 'max ms', loopDelay: 'event-loop delay max, ms' },
    ratioMetric: 'p99',
    rows,
    notes: [
      'Node-RED: bench-source (fixed rate, payload stamped with performance.now()) → diaspora-out (fire, acks all) and diaspora-in ("latest", format auto) → a node that takes the difference; one Node-RED process.',
      'raw kafkajs: producer.send of one event per call (acks all) and consumer.run({ eachMessage }) with JSON.parse, in one process, connected once for all rounds.',
      'Each cell: the median over rounds of that round\'s percentile (min–max across rounds). The ratio compares p99.',
      'Event-loop delay: the longest time the process could not run a callback during the run (perf_hooks.monitorEventLoopDelay): a stall there delays every event in flight.',
    ],
  };
}
