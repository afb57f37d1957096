/**
 * The outside clients: Apache Kafka's perf tools (Java), kcat (librdkafka) and kafka-python. Each
 * gets the SASL settings through a private config file (mode 600), never on the command line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../fabric/contract';
import { run, runOk } from '../lib/proc';
import type { Tools } from '../setup/tools';
import { makeReading } from '../payload';
import { toPythonJson } from '../../lib/payload';
import type { KafkaTarget } from './target';

export interface ProducerSettings {
  /** Java producer batching, the same as diaspora-out's shared producer (lingerMs 5, 256 KiB batches). */
  lingerMs: number;
  batchBytes: number;
}

function privateFile(file: string, text: string): string {
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

export class OutsideClients {
  private readonly javaConfig: string;
  private readonly kcatConfig: string;

  constructor(
    private readonly tools: Tools,
    private readonly target: KafkaTarget,
    private readonly workDir: string,
    private readonly producer: ProducerSettings,
  ) {
    this.javaConfig = privateFile(
      path.join(workDir, 'java-client.properties'),
      [
        `bootstrap.servers=${target.brokers.join(',')}`,
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=SCRAM-SHA-512',
        `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${target.username}" password="${target.password}";`,
        '',
      ].join('\n'),
    );
    this.kcatConfig = privateFile(
      path.join(workDir, 'kcat.conf'),
      [
        `bootstrap.servers=${target.brokers.join(',')}`,
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanisms=SCRAM-SHA-512',
        `sasl.username=${target.username}`,
        `sasl.password=${target.password}`,
        '',
      ].join('\n'),
    );
  }

  has(tool: 'java' | 'kcat' | 'python'): boolean {
    return this.tools[tool] !== undefined;
  }

  private javaArgs(): string[] {
    const java = this.tools.java;
    if (!java) throw new Error('java tools unavailable');
    return ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', `-Dlog4j.configuration=file:${path.join(repoRoot, 'fabric', 'kafka', 'log4j.properties')}`, '-cp', java.classpath];
  }

  /** ProducerPerformance: records/s as the tool measures it (its own clock, from its first send). */
  async javaProduce(topic: string, count: number, payloadFile: string): Promise<{ perSecond: number; line: string }> {
    const java = this.tools.java!;
    const producerConfig = privateFile(
      path.join(this.workDir, 'java-producer.properties'),
      `${fs.readFileSync(this.javaConfig, 'utf8')}acks=all\ncompression.type=none\nenable.idempotence=true\nlinger.ms=${this.producer.lingerMs}\nbatch.size=${this.producer.batchBytes}\n`,
    );
    const result = await runOk(java.command, [...this.javaArgs(), 'org.apache.kafka.tools.ProducerPerformance',
      '--topic', topic, '--num-records', String(count), '--throughput', '-1',
      '--payload-file', payloadFile, '--producer.config', producerConfig], { timeoutMs: 600_000 });
    const line = result.stdout.trim().split('\n').reverse().find((l) => /records sent,/.test(l)) ?? '';
    const match = /^(\d+) records sent, ([\d.]+) records\/sec/.exec(line);
    if (!match || Number(match[1]) !== count) throw new Error(`ProducerPerformance: unexpected output: ${result.stdout.slice(-500)}`);
    return { perSecond: Number(match[2]), line };
  }

  /** ConsumerPerformance: fetch.nMsg.sec (messages per second once the group is joined). */
  async javaConsume(topic: string, count: number, groupId: string): Promise<{ perSecond: number; totalPerSecond: number }> {
    const java = this.tools.java!;
    const result = await runOk(java.command, [...this.javaArgs(), 'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server', this.target.brokers.join(','), '--topic', topic, '--messages', String(count),
      '--group', groupId, '--consumer.config', this.javaConfig, '--timeout', '120000'], { timeoutMs: 600_000 });
    const lines = result.stdout.trim().split('\n');
    const header = lines.findIndex((l) => l.startsWith('start.time'));
    if (header < 0 || !lines[header + 1]) throw new Error(`ConsumerPerformance: unexpected output: ${result.stdout.slice(-500)}`);
    const names = lines[header].split(',').map((s) => s.trim());
    const values = lines[header + 1].split(',').map((s) => s.trim());
    const field = (name: string): number => Number(values[names.indexOf(name)]);
    if (field('data.consumed.in.nMsg') < count) throw new Error(`ConsumerPerformance read ${field('data.consumed.in.nMsg')} of ${count}`);
    return { perSecond: field('fetch.nMsg.sec'), totalPerSecond: field('nMsg.sec') };
  }

  /** kcat -P of a file, one message per line: wall time of the process. */
  async kcatProduce(topic: string, file: string): Promise<{ wallMs: number }> {
    const result = await run('kcat', ['-F', this.kcatConfig, '-P', '-t', topic, '-p', '0', '-X', 'acks=all', '-X', 'compression.codec=none', '-l', file], {
      timeoutMs: 600_000,
    });
    if (result.code !== 0) throw new Error(`kcat -P failed: ${result.stderr.slice(-800)}`);
    return { wallMs: result.wallMs };
  }

  /** kcat -C from the beginning: time between the first and the last message printed. */
  async kcatConsume(topic: string, count: number): Promise<{ spanMs: number; received: number }> {
    let first = 0;
    let last = 0;
    let received = 0;
    const result = await run('kcat', ['-F', this.kcatConfig, '-C', '-t', topic, '-o', 'beginning', '-c', String(count), '-e', '-q', '-f', '%o\n'], {
      timeoutMs: 600_000,
      keepStdout: 0,
      onStdout: (chunk, at) => {
        if (received === 0) first = at;
        last = at;
        for (const byte of chunk) if (byte === 10) received += 1;
      },
    });
    if (result.code !== 0) throw new Error(`kcat -C failed: ${result.stderr.slice(-800)}`);
    return { spanMs: last - first, received };
  }

  async python<T>(job: object): Promise<T> {
    const python = this.tools.python!;
    const script = path.join(repoRoot, 'bench', 'python', 'kafka_bench.py');
    const result = await run(python.command, [script], {
      timeoutMs: 900_000,
      input: JSON.stringify({ ...job, brokers: this.target.brokers, username: this.target.username, password: this.target.password }),
    });
    if (result.code !== 0) throw new Error(`kafka-python failed: ${result.stderr.slice(-1500)}`);
    return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as T;
  }

  pythonProduce(topic: string, count: number, payloadBytes: number): Promise<{ elapsedMs: number }> {
    return this.python({ mode: 'produce', topic, count, template: toPythonJson(makeReading(payloadBytes, 0)) });
  }

  pythonConsume(topic: string, count: number, groupId: string): Promise<{ count: number; firstAt: number; lastAt: number }> {
    return this.python({ mode: 'consume', topic, count, groupId });
  }
}
