/**
 * The outside clients the benchmark compares against, installed when missing: kcat (Debian
 * package), kafka-python (pinned, in a virtualenv in the fabric's cache folder) and Apache Kafka's
 * perf tools (kafka-tools from Maven Central, cached next to the broker jars). A tool that cannot
 * be installed is reported as unavailable; the rest of the benchmark still runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheDir, repoRoot } from '../../fabric/contract';
import { ensurePythonVenv, KAFKA_PYTHON_VERSION } from '../../fabric/python-venv';
import { findJava } from '../../fabric/kafka-broker';
import { run, runOk } from '../lib/proc';
import { say } from '../lib/log';

export { KAFKA_PYTHON_VERSION } from '../../fabric/python-venv';
export const KAFKA_TOOLS_VERSION = '3.9.2';

export interface Tools {
  kcat?: { command: string; version: string };
  python?: { command: string; version: string };
  java?: { command: string; classpath: string; version: string };
  /** Why a tool is missing, by tool. */
  missing: Record<string, string>;
}

async function onPath(command: string): Promise<boolean> {
  try {
    const result = await run('sh', ['-c', `command -v ${command}`], { timeoutMs: 10_000 });
    return result.code === 0;
  } catch {
    return false;
  }
}

async function ensureKcat(): Promise<Tools['kcat']> {
  if (!(await onPath('kcat'))) {
    say('installing kcat (apt-get install -y kcat)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = (): Promise<unknown> => runOk('apt-get', ['install', '-y', '-q', 'kcat'], { timeoutMs: 300_000, env });
    try {
      await install();
    } catch {
      await runOk('apt-get', ['update', '-q'], { timeoutMs: 300_000, env });
      await install();
    }
  }
  const version = await run('kcat', ['-V'], { timeoutMs: 10_000 });
  const kcat = /Version (\S+)/.exec(version.stdout)?.[1] ?? 'unknown';
  const librdkafka = /librdkafka (\S+)/.exec(version.stdout)?.[1] ?? 'unknown';
  return { command: 'kcat', version: `kcat ${kcat} (librdkafka ${librdkafka})` };
}

async function ensurePython(): Promise<Tools['python']> {
  const python = await ensurePythonVenv('bench-venv', [`kafka-python==${KAFKA_PYTHON_VERSION}`], say);
  const version = await runOk(python, ['-c', 'import sys, kafka; print(kafka.__version__, sys.version.split()[0])'], { timeoutMs: 30_000 });
  const [kafkaPython, py] = version.stdout.trim().split(/\s+/);
  return { command: python, version: `kafka-python ${kafkaPython} on Python ${py}` };
}

/** kafka-tools and its runtime classpath, fetched with Maven once (the broker's own jars lack the perf tools in 3.9). */
async function ensureKafkaTools(): Promise<Tools['java']> {
  const libDir = path.join(cacheDir(), `kafka-tools-${KAFKA_TOOLS_VERSION}`);
  if (!fs.existsSync(path.join(libDir, '.complete'))) {
    say(`fetching kafka-tools ${KAFKA_TOOLS_VERSION} with Maven into ${libDir}`);
    const staging = `${libDir}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    try {
      await runOk('mvn', ['-q', '-B', '-f', path.join(repoRoot, 'bench', 'kafka-tools', 'pom.xml'), `-Dkafka.version=${KAFKA_TOOLS_VERSION}`,
        'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${staging}`], { timeoutMs: 600_000 });
    } catch (err) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw err;
    }
    fs.writeFileSync(path.join(staging, '.complete'), `${new Date().toISOString()}\n`);
    fs.rmSync(libDir, { recursive: true, force: true });
    fs.renameSync(staging, libDir);
  }
  const { java } = await findJava(KAFKA_TOOLS_VERSION);
  const version = await run(java, ['-version'], { timeoutMs: 30_000 });
  const match = /version "([^"]+)"/.exec(version.stderr);
  return { command: java, classpath: path.join(libDir, '*'), version: match ? match[1] : 'unknown' };
}

export async function ensureTools(): Promise<Tools> {
  const tools: Tools = { missing: {} };
  const skipped = new Set((process.env.BENCH_SKIP ?? '').split(',').map((s) => s.trim()));
  const attempt = async <K extends 'kcat' | 'python' | 'java'>(name: K, install: () => Promise<Tools[K]>): Promise<void> => {
    if (skipped.has(name)) {
      tools.missing[name] = 'skipped (BENCH_SKIP)';
      return;
    }
    try {
      tools[name] = await install();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      tools.missing[name] = reason.slice(0, 500);
      say(`${name} is unavailable, its comparisons are skipped: ${reason.slice(0, 300)}`);
    }
  };
  await attempt('kcat', ensureKcat);
  await attempt('python', ensurePython);
  await attempt('java', ensureKafkaTools);
  return tools;
}
