/**
 * Python virtualenvs with pinned packages from PyPI, kept in the fabric's cache folder and reused
 * while their requirements are unchanged: the outside Python clients of the benchmark
 * (kafka-python) and of the interoperability tests (the Diaspora SDK).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from './contract';

const run = promisify(execFile);

/** Concurrent callers in one process share one installation per venv. */
const installing = new Map<string, Promise<string>>();

async function install(venv: string, requirements: readonly string[], marker: string, log: (line: string) => void): Promise<string> {
  const python = path.join(venv, 'bin', 'python');
  if (fs.existsSync(marker)) return python;
  log(`creating ${venv} with ${requirements.join(', ')} (pip)`);
  fs.rmSync(venv, { recursive: true, force: true });
  try {
    await run('python3', ['-m', 'venv', venv], { timeout: 120_000 });
  } catch (err) {
    throw new Error(`python3 -m venv failed (on Debian: apt-get install -y python3-venv): ${(err as Error).message}`);
  }
  try {
    await run(path.join(venv, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', ...requirements], { timeout: 600_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`pip install ${requirements.join(' ')} failed: ${(stderr || (err as Error).message).trim().slice(-1500)}`);
  }
  fs.writeFileSync(marker, `${requirements.join('\n')}\n`);
  return python;
}

/** kafka-python, pinned: the benchmark's Kafka client and the Diaspora SDK's Kafka path. */
export const KAFKA_PYTHON_VERSION = '2.3.3';

/**
 * The Diaspora SDK from PyPI, unchanged, with the kafka-python its KafkaProducer / KafkaConsumer
 * need (the SDK's "kafka-python" extra, pinned): the interoperability tests and the benchmark.
 */
export const DIASPORA_SDK_VENV = {
  name: 'sdk-kafka-venv',
  requirements: ['diaspora-event-sdk==0.5.1', `kafka-python==${KAFKA_PYTHON_VERSION}`],
} as const;

/**
 * The python of `<cache>/<name>` with exactly these pinned requirements (e.g. "kafka-python==2.3.3"),
 * created or re-created when missing or when the requirements changed.
 */
export function ensurePythonVenv(name: string, requirements: readonly string[], log: (line: string) => void = () => undefined): Promise<string> {
  const venv = path.join(cacheDir(), name);
  // ".kafka-python-2.3.3": the marker the benchmark's venv has always had, so existing venvs are kept.
  const marker = path.join(venv, `.${requirements.map((r) => r.replace('==', '-').replace(/[^\w.+-]/g, '_')).join('+')}`);
  let pending = installing.get(venv);
  if (!pending) {
    pending = install(venv, requirements, marker, log).finally(() => installing.delete(venv));
    installing.set(venv, pending);
  }
  return pending;
}
