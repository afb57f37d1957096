/**
 * diaspora-out's spool on disk, measured side by side in one run:
 * 1. the cost per event of spooling (encode, frame, write, sync) under each fsync policy, against
 *    the in-memory queue (what queue mode keeps per event), for a burst and at 1,000 events/s;
 * 2. the drain rate after an outage: N events spooled, then sent through the shared producer to the
 *    real broker of the running local fabric and removed once acknowledged.
 *
 *   npm run build && npm run fabric -- start
 *   node dist/bench/spool.js [outageEvents=100000] [burstEvents=20000]
 *
 * The spool folder is in the system's temporary directory (the same disk as a user directory on
 * this machine; a slower disk syncs more slowly).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConnectionManager } from '../lib/connection-manager';
import { Drainer, type Delivery } from '../lib/spool/drain';
import { FSYNC_POLICIES, Spool, type FsyncPolicy } from '../lib/spool/spool';
import { decodeSpooledEvent, encodeSpooledEvent } from '../nodes/diaspora-out/spooled-event';
import type { OutgoingEvent } from '../nodes/diaspora-out/record';
import { loadFabric } from '../test/fixtures/fabric';
import { benchIdentity, registerTopic } from './setup/fabric';

const PAYLOAD_BYTES = 100;
const PACED_RATE_PER_S = 1_000;
const PACED_MS = 3_000;

function event(seq: number): OutgoingEvent {
  const value = Buffer.alloc(PAYLOAD_BYTES, 'x');
  value.write(JSON.stringify({ seq }));
  return { topic: 'bench-spool', key: null, value };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function freshDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bench-spool-'));
}

interface Burst {
  wallUsPerEvent: number;
  cpuUsPerEvent: number;
  eventsPerS: number;
}

async function burst(count: number, append: (e: OutgoingEvent) => Promise<void>): Promise<Burst> {
  const events = Array.from({ length: count }, (_, i) => event(i));
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(events.map(append));
  const wallUs = Number(process.hrtime.bigint() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { wallUsPerEvent: wallUs / count, cpuUsPerEvent: (used.user + used.system) / count, eventsPerS: count / (wallUs / 1e6) };
}

/** Events at a steady rate; each one's time until its append resolved (durable). */
async function paced(append: (e: OutgoingEvent) => Promise<void>): Promise<{ p50: number; p99: number; cpuUsPerEvent: number }> {
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  const cpu = process.cpuUsage();
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < PACED_MS) {
    const due = Math.floor(((Date.now() - started) * PACED_RATE_PER_S) / 1000);
    for (; sent < due; sent++) {
      const t0 = process.hrtime.bigint();
      pending.push(append(event(sent)).then(() => void latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuUsPerEvent: (used.user + used.system) / sent };
}

async function appendCosts(count: number): Promise<void> {
  console.log(`\n## Cost per event: spool (each fsync policy) vs the in-memory queue (${PAYLOAD_BYTES} B events)\n`);
  console.log(`| path | burst of ${count.toLocaleString('en-US')}: events/s | burst: wall µs/event | burst: CPU µs/event | ${PACED_RATE_PER_S}/s: time to durable p50 / p99 ms | ${PACED_RATE_PER_S}/s: CPU µs/event |`);
  console.log('|---|---|---|---|---|---|');
  const memory: OutgoingEvent[] = [];
  const queue = async (e: OutgoingEvent): Promise<void> => void memory.push(e);
  const row = (name: string, b: Burst, p: { p50: number; p99: number; cpuUsPerEvent: number }): void =>
    console.log(`| ${name} | ${Math.round(b.eventsPerS).toLocaleString('en-US')} | ${b.wallUsPerEvent.toFixed(2)} | ${b.cpuUsPerEvent.toFixed(2)} | ${p.p50.toFixed(2)} / ${p.p99.toFixed(2)} | ${p.cpuUsPerEvent.toFixed(2)} |`);
  row('in-memory queue (queue mode)', await burst(count, queue), await paced(queue));
  for (const policy of FSYNC_POLICIES) {
    const dir = freshDir();
    const spool = new Spool({ dir, maxBytes: 1024 * 1024 * 1024, fsync: policy as FsyncPolicy });
    await spool.open();
    const append = (e: OutgoingEvent): Promise<void> => spool.append(encodeSpooledEvent(e));
    // The per-event policy syncs once per event: a smaller burst keeps its run short.
    const b = await burst(policy === 'event' ? Math.min(count, 2_000) : count, append);
    const p = await paced(append);
    await spool.destroy();
    row(`spool, fsync ${policy}${policy === 'event' && count > 2_000 ? ' (burst of 2,000)' : ''}`, b, p);
  }
}

async function drainRate(count: number): Promise<void> {
  const fabric = loadFabric();
  const identity = await benchIdentity(fabric, fabric.clients[0]);
  const topic = await registerTopic(identity, `bench-spool-drain-${Date.now().toString(36)}`);
  const manager = new ConnectionManager({
    brokers: identity.brokers,
    credentials: { mechanism: 'scram-sha-512', username: identity.username, password: identity.password },
    tls: false,
    clientId: 'bench-spool-drain',
  });
  const dir = freshDir();
  const spool = new Spool({ dir, maxBytes: 1024 * 1024 * 1024 });
  try {
    await manager.probe(60_000);
    const producer = manager.acquireProducer('bench-spool');
    const filled = Date.now();
    await Promise.all(Array.from({ length: count }, (_, i) => spool.append(encodeSpooledEvent(event(i)))));
    const fillMs = Date.now() - filled;
    const deliver = async (records: Buffer[]): Promise<Delivery[]> =>
      Promise.all(
        records.map(async (record): Promise<Delivery> => {
          const e = decodeSpooledEvent(record);
          try {
            await producer.send({ topic, key: e.key, value: e.value }, { acks: -1, compression: 'none' });
            return { ok: true };
          } catch (err) {
            return { ok: false, error: err as Error, retry: true };
          }
        }),
      );
    let retries = 0;
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const drainer = new Drainer({
        spool,
        deliver,
        canSend: () => true,
        onRejected: () => undefined,
        onRetry: () => void (retries += 1),
        onProgress: () => {
          if (spool.depth === 0) resolve();
        },
      });
      drainer.kick();
    });
    const drainMs = Date.now() - started;
    console.log(`\n## Drain after an outage of ${count.toLocaleString('en-US')} events (${PAYLOAD_BYTES} B, acks all, one partition)\n`);
    console.log('| spooled in (burst) | drained in | drain rate | retries |');
    console.log('|---|---|---|---|');
    console.log(`| ${(fillMs / 1000).toFixed(1)} s | ${(drainMs / 1000).toFixed(1)} s | ${Math.round(count / (drainMs / 1000)).toLocaleString('en-US')} events/s | ${retries} |`);
    await manager.releaseProducer('bench-spool');
  } finally {
    await spool.destroy();
    await manager.close(10_000);
  }
}

async function main(): Promise<void> {
  const outage = Number(process.argv[2] ?? 100_000);
  const burstCount = Number(process.argv[3] ?? 20_000);
  console.log(`# Spool benchmark (${new Date().toISOString()}, ${os.cpus().length} cores, Node ${process.version})`);
  await appendCosts(burstCount);
  await drainRate(outage);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
