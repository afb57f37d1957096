/**
 * 4. Memory and leaks, each in a Node-RED process of its own: RSS while a million events go out
 * through diaspora-out and come back through diaspora-in; and RSS, broker sockets and active
 * handles before and after a hundred redeploys of a flow with all four node types.
 */
import type { BenchContext } from '../context';
import { say } from '../lib/log';
import { rssOf, socketFdsOf } from '../lib/proc';
import { summarize } from '../lib/stats';
import { NodeRedHost } from '../node-red/child';
import { catcher, consumerFlow, counter, diasporaIn, diasporaTopic, doneWatch, out, source } from '../node-red/flows';
import type { ProcessStats } from '../node-red/protocol';
import type { Table } from '../report';
import { groupId } from './consumer';
import { NodeRedSession, producedPerSecond, consumedPerSecond } from './node-red-session';
import { PAYLOAD_BYTES } from './producer';

const MB = 1024 * 1024;

/** Samples a process's RSS every `everyMs` until stopped. */
function rssSampler(pid: number, everyMs = 500): { stop(): number[] } {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(rssOf(pid)), everyMs);
  return {
    stop() {
      clearInterval(timer);
      return samples.filter((s) => Number.isFinite(s));
    },
  };
}

function brokerSockets(stats: ProcessStats, brokers: string[]): number {
  return brokers.reduce((n, b) => n + (stats.sockets[b.slice(b.lastIndexOf(':') + 1)] ?? 0), 0);
}

export async function memorySection(ctx: BenchContext): Promise<Table> {
  const count = ctx.sizes.memoryMessages;
  const topic = await ctx.topic('m-1k');
  const host = await NodeRedHost.start();
  try {
    const nr = new NodeRedSession(host, ctx.fabric, ctx.identity.client);
    const producer = [
      source('src', [['out']]),
      out('out', topic, 'fire'),
      doneWatch('bench-done', ['out']),
      counter('bench-count'),
    ];
    await nr.deploy(producer);
    const warm = 2000;
    await nr.run('src', { count: warm, window: ctx.sizes.window, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false });
    const start = await host.stats(true);
    say(`memory: producing ${count.toLocaleString('en-US')} events (RSS ${(start.rss / MB).toFixed(0)} MB after warm-up)`);
    const producing = rssSampler(host.pid);
    const produced = await nr.run('src', { count, window: ctx.sizes.window, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false }, count, 1_800_000);
    const produceRss = producing.stop();
    const afterProduce = await host.stats(true);

    say(`memory: consuming them (RSS ${(afterProduce.rss / MB).toFixed(0)} MB)`);
    const consuming = rssSampler(host.pid);
    const consumed = await nr.waitFor(
      count + warm,
      () => nr.deployChanged(consumerFlow(topic, groupId('mem'), 'earliest')),
      1_800_000,
      `diaspora-in reading ${count} events`,
    );
    const consumeRss = consuming.stop();
    const afterConsume = await host.stats(true);
    await nr.deployChanged([]);
    const peak = (xs: number[]): number => summarize(xs).max / MB;
    const v = (x: number): number[] => [x];
    return {
      id: 'memory',
      title: `4a. Memory of one Node-RED process over ${count.toLocaleString('en-US')} events of ${PAYLOAD_BYTES} B out (diaspora-out, fire) and back in (diaspora-in)`,
      columns: { rss: 'RSS MB', heap: 'heap used MB', rate: 'msg/s' },
      rows: [
        { label: 'after warm-up (GC)', metrics: { rss: v(start.rss / MB), heap: v(start.heapUsed / MB) } },
        { label: 'peak while producing', metrics: { rss: v(peak(produceRss)), rate: v(producedPerSecond(produced)) } },
        { label: 'after producing (GC)', metrics: { rss: v(afterProduce.rss / MB), heap: v(afterProduce.heapUsed / MB) } },
        { label: 'peak while consuming', metrics: { rss: v(peak(consumeRss)), rate: v(consumedPerSecond(consumed)) } },
        { label: 'after consuming (GC)', metrics: { rss: v(afterConsume.rss / MB), heap: v(afterConsume.heapUsed / MB) } },
      ],
      notes: [
        'RSS sampled from /proc every 500 ms; "(GC)" rows after two forced collections (node --expose-gc).',
        `Producing keeps at most ${ctx.sizes.window.toLocaleString('en-US')} events unacknowledged (the source's window); diaspora-in reads from the earliest offset with back-pressure (one event at a time per partition).`,
      ],
    };
  } finally {
    await host.stop();
  }
}

export async function redeploySection(ctx: BenchContext): Promise<Table> {
  const redeploys = ctx.sizes.redeploys;
  const topic = await ctx.topic('r-1k');
  const group = groupId('redeploy');
  const host = await NodeRedHost.start();
  try {
    const nr = new NodeRedSession(host, ctx.fabric, ctx.identity.client);
    const flow = [
      source('src-out', [['out']]),
      out('out', topic, 'ack', [['bench-count']]),
      diasporaIn('in', topic, 'earliest', group, [['bench-count']]),
      source('src-topic', [['topic']]),
      diasporaTopic('topic', topic, [['bench-count']]),
      counter('bench-count'),
      counter('bench-errors', 'error'),
      catcher('bench-catch', ['out', 'in', 'topic'], 'bench-errors'),
    ];
    const cycle = async (i: number): Promise<number> => {
      const t0 = Date.now();
      await nr.deploy(flow, `bench redeploy ${i}`);
      // One event out and back in, and one topic registration: every node works after the deploy.
      await host.arm(3);
      await host.startSource('src-topic', { count: 1, window: 1, rate: 0, payloadBytes: 64, latency: false });
      await host.startSource('src-out', { count: 1, window: 1, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false });
      const result = await host.result(60_000);
      if (result.errors > 0 || result.completed < 3) {
        throw new Error(`redeploy ${i}: ${result.completed}/3 outcomes, ${result.errors} errors (${result.firstError ?? ''})`);
      }
      return Date.now() - t0;
    };
    const warmup = Math.min(5, redeploys);
    const cycleMs: number[] = [];
    for (let i = 1; i <= warmup; i += 1) cycleMs.push(await cycle(i));
    const before = await host.stats(true);
    const fdsBefore = socketFdsOf(host.pid);
    say(`redeploy: ${redeploys} redeploys (RSS ${(before.rss / MB).toFixed(0)} MB, broker sockets ${brokerSockets(before, ctx.fabric.brokers)} after ${warmup})`);
    for (let i = warmup + 1; i <= redeploys; i += 1) {
      cycleMs.push(await cycle(i));
      if (i % 20 === 0) say(`redeploy ${i}/${redeploys}`);
    }
    const after = await host.stats(true);
    const fdsAfter = socketFdsOf(host.pid);
    const handleKinds = (s: ProcessStats): string =>
      Object.entries(s.resources)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
    const row = (label: string, b: number, a: number) => ({ label, metrics: { before: [b], after: [a], growth: [a - b] } });
    return {
      id: 'redeploy',
      title: `4b. ${redeploys} full redeploys of a flow with diaspora-config, -topic, -out and -in (one event out and back, one registration, each time)`,
      columns: { before: `after ${warmup} deploys`, after: `after ${redeploys}`, growth: 'growth' },
      rows: [
        row('RSS MB (after GC)', before.rss / MB, after.rss / MB),
        row('heap used MB (after GC)', before.heapUsed / MB, after.heapUsed / MB),
        row('sockets to the broker', brokerSockets(before, ctx.fabric.brokers), brokerSockets(after, ctx.fabric.brokers)),
        row('socket file descriptors', fdsBefore, fdsAfter),
        row('active handles', before.activeHandles, after.activeHandles),
        row('active resources (handles, requests, timers)', sum(before.resources), sum(after.resources)),
        { label: 'deploy → ready → event back, ms', metrics: { before: cycleMs.slice(0, warmup), after: cycleMs.slice(warmup) } },
      ],
      notes: [
        `Active resources before: ${handleKinds(before)}; after: ${handleKinds(after)}.`,
        'Sockets to the broker: open net.Socket handles whose remote port is the broker\'s; socket file descriptors include the admin HTTP connection of the benchmark.',
      ],
    };
  } finally {
    await host.stop();
  }
}

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}
