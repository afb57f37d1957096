/** Runs the raw kafkajs worker (workers/kafkajs.ts) in a child process. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { run } from '../lib/proc';
import type { LatencySummary } from '../lib/stats';
import type { KafkaTarget } from './target';

const WORKER = path.join(__dirname, '..', 'workers', 'kafkajs.js');

/** Node options for the worker process (e.g. --cpu-prof). */
let workerNodeArgs: string[] = [];

export function setKafkajsWorkerNodeArgs(args: string[]): void {
  workerNodeArgs = args;
}

async function job<T>(job: object, timeoutMs: number): Promise<T> {
  const result = await run(process.execPath, [...workerNodeArgs, WORKER], { timeoutMs, input: JSON.stringify(job) });
  if (result.code !== 0) throw new Error(`raw kafkajs worker failed: ${result.stderr.trim().slice(-1500)}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as T;
}

export interface ProduceSettings {
  batchSize: number;
  concurrency: number;
}

export async function kafkajsProduce(target: KafkaTarget, topic: string, count: number, payloadBytes: number, settings: ProduceSettings): Promise<{ elapsedMs: number; cpuUs: number; windowUs: [number, number] }> {
  return job({ mode: 'produce', ...target, topic, count, payloadBytes, ...settings }, 600_000);
}

export async function kafkajsConsume(target: KafkaTarget, topic: string, count: number, groupId: string): Promise<{ count: number; firstAt: number; lastAt: number; startedAt: number; cpuUs: number; windowUs: [number, number] }> {
  return job({ mode: 'consume', ...target, topic, count, groupId }, 600_000);
}

export interface LatencyRun {
  sent: number;
  received: number;
  failures: number;
  latency: LatencySummary;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}

/** A long-lived latency worker (one producer and one consumer), so rounds do not pay for connecting. */
export class KafkajsLatencyWorker {
  private readonly lines: AsyncIterator<string>;

  private constructor(private readonly child: ReturnType<typeof spawn>) {
    this.lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  static async start(target: KafkaTarget, topic: string, groupId: string, payloadBytes: number): Promise<KafkajsLatencyWorker> {
    const child = spawn(process.execPath, [WORKER], { stdio: ['pipe', 'pipe', 'inherit'] });
    const worker = new KafkajsLatencyWorker(child);
    child.stdin!.write(`${JSON.stringify({ mode: 'latency', ...target, topic, groupId, payloadBytes })}\n`);
    await worker.next();
    return worker;
  }

  private async next<T>(): Promise<T> {
    const line = await this.lines.next();
    if (line.done) throw new Error('the raw kafkajs latency worker exited');
    const parsed = JSON.parse(line.value) as T & { error?: string };
    if (parsed.error) throw new Error(`raw kafkajs latency worker: ${parsed.error}`);
    return parsed;
  }

  async measure(rate: number, count: number): Promise<LatencyRun> {
    this.child.stdin!.write(`${JSON.stringify({ rate, count })}\n`);
    return this.next<LatencyRun>();
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    await new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
  }
}
