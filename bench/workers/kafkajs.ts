/**
 * The raw kafkajs baseline, in a process of its own (as Node-RED is): what a user writing plain
 * kafkajs code would get. Reads a JSON job line on stdin (credentials never on the command line),
 * prints one JSON result line.
 *   produce: sendBatch of `batchSize` records, `concurrency` batches in flight, acks = all.
 *   consume: eachMessage from the earliest offset, JSON.parse of every value, in a fresh group.
 *   latency: producer.send per record at a fixed rate, and a consumer in the same process; after
 *            the first line, each line {rate, count} is one measurement (one result line each).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as readline from 'node:readline';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { latencySummary } from '../lib/stats';
import { monotonicMicros } from '../lib/cpuprofile';
import { readingFactory } from '../payload';

interface Connection {
  brokers: string[];
  username: string;
  password: string;
}

type Job =
  | (Connection & { mode: 'produce'; topic: string; count: number; payloadBytes: number; batchSize: number; concurrency: number })
  | (Connection & { mode: 'consume'; topic: string; count: number; groupId: string })
  | (Connection & { mode: 'latency'; topic: string; payloadBytes: number; groupId: string });

const WARM_UP_EVENTS = 2000;

function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return d.user + d.system;
}

function client(job: Connection): Kafka {
  return new Kafka({
    clientId: 'bench-raw-kafkajs',
    brokers: job.brokers,
    sasl: { mechanism: 'scram-sha-512', username: job.username, password: job.password },
    logLevel: logLevel.ERROR,
  });
}

async function produce(job: Extract<Job, { mode: 'produce' }>): Promise<object> {
  const producer = client(job).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const make = readingFactory(job.payloadBytes);
  const batch = (from: number, n: number): { value: string }[] =>
    Array.from({ length: n }, (_, i) => ({ value: JSON.stringify(make(from + i)) }));
  // Warm-up outside the timing: metadata, the leader's connection, and the JIT (this process is
  // new for every run, while Node-RED's is long-lived and warmed up the same way).
  for (let sent = 0; sent < WARM_UP_EVENTS; sent += job.batchSize) {
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic: job.topic, messages: batch(0, Math.min(job.batchSize, WARM_UP_EVENTS - sent)) }] });
  }
  const started = performance.now();
  const cpu = process.cpuUsage();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < job.count) {
      const from = next;
      const n = Math.min(job.batchSize, job.count - from);
      next += n;
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic: job.topic, messages: batch(from, n) }] });
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, lane));
  const ended = performance.now();
  const cpuUs = cpuSince(cpu);
  await producer.disconnect();
  return { count: job.count, elapsedMs: ended - started, cpuUs, windowUs: [monotonicMicros(started), monotonicMicros(ended)] };
}

async function consume(job: Extract<Job, { mode: 'consume' }>): Promise<object> {
  const consumer = client(job).consumer({ groupId: job.groupId, allowAutoTopicCreation: false });
  const startedAt = performance.now();
  let count = 0;
  let firstAt = 0;
  let lastAt = 0;
  let bytes = 0;
  let cpu: NodeJS.CpuUsage | undefined;
  let cpuUs = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  await consumer.connect();
  await consumer.subscribe({ topic: job.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const now = performance.now();
      if (count === 0) {
        firstAt = now;
        cpu = process.cpuUsage();
      }
      lastAt = now;
      // A user's consumer needs the event itself, as diaspora-in delivers it.
      const value = message.value;
      if (value) {
        bytes += value.length;
        JSON.parse(value.toString('utf8'));
      }
      count += 1;
      if (count === job.count) {
        cpuUs = cpuSince(cpu!);
        finish();
      }
    },
  });
  await finished;
  await consumer.disconnect();
  return { count, bytes, startedAt, firstAt, lastAt, cpuUs, windowUs: [monotonicMicros(firstAt), monotonicMicros(lastAt)] };
}

interface LatencySession {
  measure(rate: number, count: number): Promise<object>;
  close(): Promise<void>;
}

/** One producer and one consumer ("latest") in this process; measurements run on request. */
async function latencySession(job: Extract<Job, { mode: 'latency' }>): Promise<LatencySession> {
  const kafka = client(job);
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: job.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 1000 });
  let samples: number[] | undefined;
  let expected = 0;
  let warmedUp = false;
  let finish: () => void = () => undefined;
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic: job.topic, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const now = performance.now();
      const reading = JSON.parse(message.value?.toString('utf8') ?? '{}') as { sentAt?: number; warmup?: boolean };
      if (reading.warmup) {
        warmedUp = true;
        return;
      }
      if (samples && typeof reading.sentAt === 'number') {
        samples.push(now - reading.sentAt);
        if (samples.length >= expected) finish();
      }
    },
  });
  // "latest": the group starts at the end once joined; probe until a message makes it through.
  const deadline = Date.now() + 60_000;
  while (!warmedUp) {
    if (Date.now() > deadline) throw new Error('the raw kafkajs consumer did not receive the warm-up message within 60 s');
    await producer.send({ topic: job.topic, acks: -1, messages: [{ value: JSON.stringify({ warmup: true }) }] });
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const make = readingFactory(job.payloadBytes);

  return {
    async measure(rate, count) {
      const taken: number[] = [];
      samples = taken;
      const loopDelay = monitorEventLoopDelay({ resolution: 1 });
      loopDelay.enable();
      expected = count;
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const begin = performance.now();
      let sent = 0;
      let failures = 0;
      const timer = setInterval(() => {
        const due = Math.min(count, Math.floor(((performance.now() - begin) * rate) / 1000) + 1);
        while (sent < due) {
          const reading = make(sent++);
          reading.sentAt = performance.now();
          producer.send({ topic: job.topic, acks: -1, messages: [{ value: JSON.stringify(reading) }] }).catch(() => {
            failures += 1;
          });
        }
        if (sent >= count) clearInterval(timer);
      }, 1);
      const timeout = setTimeout(finish, Math.max(30_000, (count / rate) * 1000 * 3));
      await finished;
      clearTimeout(timeout);
      clearInterval(timer);
      samples = undefined;
      loopDelay.disable();
      const eventLoopDelayMs = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
      return { sent, received: taken.length, failures, latency: latencySummary(taken), eventLoopDelayMs };
    },
    async close() {
      await Promise.all([producer.disconnect(), consumer.disconnect()]);
    },
  };
}

async function main(): Promise<void> {
  const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('no job on stdin');
  const job = JSON.parse(first.value) as Job;
  if (job.mode !== 'latency') {
    const result = job.mode === 'produce' ? await produce(job) : await consume(job);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const session = await latencySession(job);
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  for (let line = await lines.next(); !line.done; line = await lines.next()) {
    const { rate, count } = JSON.parse(line.value) as { rate: number; count: number };
    process.stdout.write(`${JSON.stringify(await session.measure(rate, count))}\n`);
  }
  await session.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
