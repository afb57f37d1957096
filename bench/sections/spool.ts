/**
 * 7. diaspora-out's spool on disk against the in-memory queue, through the node's own send path
 * (Publisher) with a session that is first not ready (the outage) and then ready on the bench
 * fabric's broker. Interleaved per round:
 * a. cost per event while not ready: the in-memory queue (queue mode) and the spool under each fsync
 *    policy, for a burst and at 1,000 events/s (time until the message's done() may run);
 * b. the drain after an outage: N events spooled (or queued), then the session turns ready and
 *    everything is sent, acknowledged by the broker and (spool) removed from the disk.
 * The spool folder is in the system's temporary directory (the same disk as a user directory here).
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConnectionManager } from '../../lib/kafka/connection-manager';
import type { Connections } from '../../lib/session/connection-types';
import type { SessionState } from '../../lib/session/types';
import { FSYNC_POLICIES, Spool, type FsyncPolicy } from '../../lib/spool/spool';
import { Publisher, type SessionView } from '../../nodes/diaspora-out/publisher';
import type { OutgoingEvent } from '../../nodes/diaspora-out/record';
import type { BenchContext } from '../context';
import { percentileOfSorted } from '../lib/stats';
import { say } from '../lib/log';
import type { Row, Table } from '../report';

const PAYLOAD_BYTES = 100;
const PACED_RATE_PER_S = 1_000;
const PACED_MS = 3_000;
/** One sync per event tops out near 1,000 events/s on this disk: a smaller burst keeps its run short. */
const PER_EVENT_BURST = 2_000;
const MIB = 1024 * 1024;
const QUEUE = 'in-memory queue (queue mode)';

/** A session whose state the benchmark sets: not ready (the outage), then ready on a real broker. */
class BenchSession extends EventEmitter implements SessionView {
  state: SessionState = { state: 'error', reason: 'broker-unreachable', message: 'the benchmark\'s outage', retrying: true };
  connections: Connections | undefined;

  ready(connections: Connections): void {
    this.connections = connections;
    this.state = { state: 'ready' };
    this.emit('state', this.state);
  }
}

interface Path {
  label: string;
  /** undefined: queue mode. */
  fsync?: FsyncPolicy;
}

interface Run {
  publisher: Publisher;
  session: BenchSession;
  spool?: Spool;
  /** Resolves when the event's message could end (spool: durable; queue: sent and acknowledged). */
  publish(e: OutgoingEvent): Promise<void>;
  close(): Promise<void>;
}

function event(topic: string, seq: number): OutgoingEvent {
  const value = Buffer.alloc(PAYLOAD_BYTES, 'x');
  value.write(JSON.stringify({ seq }));
  return { topic, key: null, value };
}

function openRun(mode: Path, queueSize: number): Run {
  const session = new BenchSession();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-spool-'));
  const spool = mode.fsync ? new Spool({ dir, maxBytes: 1024 * MIB, fsync: mode.fsync }) : undefined;
  const publisher = new Publisher({
    session,
    kafkaTopic: (topic) => topic,
    userId: 'bench-spool',
    settings: { acks: -1, compression: 'none', whenNotReady: spool ? 'spool' : 'queue', queueSize, spoolSizeMB: 1024 },
    onQueue: () => undefined,
    spool,
    onSpool: () => undefined,
    t: (key) => key,
  });
  return {
    publisher,
    session,
    spool,
    publish: (e) => new Promise<void>((resolve, reject) => publisher.publish(e, (err) => (err ? reject(err) : resolve()))),
    close: async () => {
      await publisher.close(10_000);
      if (spool) await spool.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A burst while not ready: µs of CPU per event, and events/s until every spooled one is durable (queue mode: held). */
async function burst(run: Run, topic: string, count: number): Promise<{ perSecond: number; cpuUs: number }> {
  const events = Array.from({ length: count }, (_, i) => event(topic, i));
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  // Queue mode settles only after the send; what it costs to hold the event is the publish() call.
  const durable = events.map((e) => (run.spool ? run.publish(e) : void run.publish(e).catch(() => undefined)));
  await Promise.all(durable);
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { perSecond: count / wallS, cpuUs: (used.user + used.system) / count };
}

/** 1,000 events/s for 3 s while not ready: each event's time until its message could end (durable or held). */
async function paced(run: Run, topic: string): Promise<{ p50: number; p99: number }> {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < PACED_MS) {
    const due = Math.floor(((Date.now() - started) * PACED_RATE_PER_S) / 1000);
    for (; sent < due; sent++) {
      const t0 = process.hrtime.bigint();
      const held = run.spool ? run.publish(event(topic, sent)) : (void run.publish(event(topic, sent)).catch(() => undefined), Promise.resolve());
      pending.push(held.then(() => void latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  return { p50: percentileOfSorted(latencies, 50), p99: percentileOfSorted(latencies, 99) };
}

async function costTable(ctx: BenchContext, burstCount: number): Promise<Table> {
  const paths: Path[] = [{ label: QUEUE }, ...FSYNC_POLICIES.map((fsync) => ({ label: `spool, fsync per ${fsync}${fsync === 'batch' ? ' (the default)' : ''}`, fsync }))];
  const values = new Map<string, Record<string, number[]>>(paths.map((p) => [p.label, { perSecond: [], cpuUs: [], p50: [], p99: [] }]));
  for (let round = 1; round <= ctx.sizes.rounds; round += 1) {
    for (const p of paths) {
      const count = p.fsync === 'event' ? Math.min(burstCount, PER_EVENT_BURST) : burstCount;
      const run = openRun(p, 2 * burstCount + 2 * PACED_RATE_PER_S * (PACED_MS / 1000));
      try {
        const b = await burst(run, 'bench-spool-cost', count);
        const l = await paced(run, 'bench-spool-cost');
        const m = values.get(p.label)!;
        m.perSecond.push(b.perSecond);
        m.cpuUs.push(b.cpuUs);
        m.p50.push(l.p50);
        m.p99.push(l.p99);
        say(`spool cost round ${round}/${ctx.sizes.rounds}: ${p.label}: ${Math.round(b.perSecond)} events/s, ${b.cpuUs.toFixed(1)} µs CPU/event, 1,000/s p50 ${l.p50.toFixed(2)} ms p99 ${l.p99.toFixed(2)} ms`);
      } finally {
        await run.close();
      }
    }
  }
  const rows: Row[] = paths.map((p) => ({
    label: p.label,
    metrics: values.get(p.label)!,
    ...(p.fsync ? { vs: QUEUE } : {}),
    ...(p.fsync === 'event' ? { note: `bursts of ${Math.min(burstCount, PER_EVENT_BURST).toLocaleString('en-US')}` } : {}),
  }));
  return {
    id: 'spool-cost',
    title: `7a. Cost per event while the fabric is not ready: the spool on disk vs the in-memory queue (${PAYLOAD_BYTES} B events, bursts of ${burstCount.toLocaleString('en-US')}, ${ctx.sizes.rounds} rounds)`,
    columns: { perSecond: 'burst: events/s', cpuUs: 'burst: CPU µs/event', p50: '1,000/s: to done() p50 ms', p99: '1,000/s: to done() p99 ms' },
    ratioMetric: 'cpuUs',
    rows,
    notes: [
      'Through diaspora-out\'s send path (Publisher) with a session that is not ready. Spool: the event encoded, framed, written and fdatasync\'ed before its message may end (done()); queue: the event held in memory (its done() waits for the broker, so the latency columns show only the time to hold it).',
      'Burst events/s for the spool: until the last event is durable. CPU: of the benchmark\'s process, per event. The ratio compares CPU per event with the in-memory queue.',
      'Per event: one sync per event. Per batch (group commit): every event that arrived during a sync shares the next one. Per interval: at most one sync every 20 ms.',
    ],
  };
}

async function drainTable(ctx: BenchContext, outage: number): Promise<Table> {
  const topic = await ctx.topic(`spool-drain-${Date.now().toString(36)}`);
  const manager = new ConnectionManager({
    brokers: ctx.identity.brokers,
    credentials: { mechanism: 'scram-sha-512', username: ctx.identity.username, password: ctx.identity.password },
    tls: false,
    clientId: 'bench-spool-drain',
  });
  const paths: Path[] = [{ label: `spool (fsync per batch): ${outage.toLocaleString('en-US')} spooled, then drained`, fsync: 'batch' }, { label: `${QUEUE}: ${outage.toLocaleString('en-US')} queued, then flushed` }];
  const [spoolPath, queuePath] = paths;
  const values = new Map<string, Record<string, number[]>>(paths.map((p) => [p.label, { held: [], perSecond: [] }]));
  try {
    await manager.probe(60_000);
    for (let round = 1; round <= ctx.sizes.rounds; round += 1) {
      for (const p of paths) {
        const run = openRun(p, outage);
        try {
          const events = Array.from({ length: outage }, (_, i) => event(topic, i));
          const t0 = Date.now();
          const outcomes = events.map((e) => run.publish(e));
          if (run.spool) await Promise.all(outcomes);
          const heldMs = Date.now() - t0;
          const t1 = Date.now();
          run.session.ready(manager);
          if (run.spool) {
            const spool = run.spool;
            // Every event acknowledged by the broker and removed from the disk.
            while (spool.depth > 0 || spool.appending > 0) await new Promise((resolve) => setTimeout(resolve, 5));
          } else {
            await Promise.all(outcomes);
          }
          const drainMs = Date.now() - t1;
          const m = values.get(p.label)!;
          m.held.push(heldMs / 1000);
          m.perSecond.push(outage / (drainMs / 1000));
          say(`spool drain round ${round}/${ctx.sizes.rounds}: ${p.label}: held in ${(heldMs / 1000).toFixed(1)} s, sent in ${(drainMs / 1000).toFixed(1)} s (${Math.round(outage / (drainMs / 1000))} events/s)`);
        } finally {
          await run.close();
        }
      }
    }
  } finally {
    await manager.close(10_000);
  }
  return {
    id: 'spool-drain',
    title: `7b. After an outage of ${outage.toLocaleString('en-US')} events (${PAYLOAD_BYTES} B, acks all, one partition): the spool's drain vs the queue's flush (${ctx.sizes.rounds} rounds)`,
    columns: { held: 'held in (one burst), s', perSecond: 'sent after ready: events/s' },
    ratioMetric: 'perSecond',
    rows: [
      { label: spoolPath.label, metrics: values.get(spoolPath.label)!, vs: queuePath.label },
      { label: queuePath.label, metrics: values.get(queuePath.label)! },
    ],
    notes: [
      'The spool drains one batch at a time (500 events or 1 MiB read from disk, sent through the shared producer, acknowledged, removed), so its order on the wire is the spool\'s; the queue hands every event to the shared producer at once. Rate: from the session turning ready until the last event was acknowledged (and, for the spool, removed from the disk).',
      'Held in: from the first event to the last one durable on disk (spool), or queued in memory.',
    ],
  };
}

export async function spoolSection(ctx: BenchContext): Promise<Table[]> {
  return [await costTable(ctx, ctx.sizes.spoolBurst), await drainTable(ctx, ctx.sizes.spoolOutage)];
}
