/**
 * The fault suite's own local fabric: killed, paused and misconfigured on purpose, so the suite
 * fabric of the mocha global fixture is never touched. Started once (with the SASL_SSL listener,
 * for the TLS tests) on its own port base in a temporary folder, and stopped by a root `after`
 * hook when the whole run ends. Port base: `DIASPORA_FAULTS_PORT_BASE`, else the suite's base + 100.
 * `DIASPORA_FAULTS_FABRIC_DIR` names a folder whose fabric is reused (started there when needed)
 * and left running, for quicker runs while developing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { FabricDescription } from '../../../fabric/contract';
import { readFabricSecrets, restartFabricKafka, startFabric, stopFabric } from '../../../fabric/fabric';
import { killKafkaBroker, pauseKafkaBroker, resumeKafkaBroker } from '../../../fabric/kafka-broker';
import { registerCompressionCodecs } from '../../../lib/kafka/codecs';

export interface FaultFabric {
  dir: string;
  description: FabricDescription;
  /** SIGKILL, as a crash would; resolves once the broker process is gone. */
  killBroker(): Promise<void>;
  /** Starts the broker again with the same configuration; resolves once it answers. */
  restartBroker(): Promise<void>;
  pauseBroker(): void;
  resumeBroker(): void;
  /** A kafkajs client as the broker's super user (reading topics back, describing groups). */
  adminKafka(clientId: string): Kafka;
  /** The /_fabric control routes of the service and auth emulators. */
  control(): FabricControls;
  /** Every access/refresh token the auth emulator issued and every key the service holds now. */
  issuedSecrets(): string[];
}

export interface FailSetting {
  mode: 'none' | 'html' | '500' | 'slow';
  delayMs?: number;
  status?: number;
}

export interface FabricControls {
  fail(setting: FailSetting): Promise<void>;
  setKeyPropagationDelay(ms: number): Promise<void>;
  /** For tokens issued from now on; returns the previous lifetime. */
  setAccessTokenTtl(seconds: number): Promise<number>;
}

function portBase(): number {
  const explicit = process.env.DIASPORA_FAULTS_PORT_BASE;
  if (explicit) return Number(explicit);
  return Number(process.env.DIASPORA_FABRIC_PORT_BASE ?? 19090) + 100;
}

let starting: Promise<FaultFabric> | undefined;
let startedDir: string | undefined;

/** The fault fabric, started on first use (about 20 s: a broker, the emulators and a TLS keystore). */
export function faultFabric(): Promise<FaultFabric> {
  starting ??= start();
  return starting;
}

async function start(): Promise<FaultFabric> {
  // A fabric kept running between runs (development): used as it is, and left running.
  const kept = process.env.DIASPORA_FAULTS_FABRIC_DIR;
  const dir = kept ? path.resolve(kept) : fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-faults-'));
  if (!kept) startedDir = dir;
  // startFabric takes its ports from the environment: point it at our base only for this start.
  const previous = process.env.DIASPORA_FABRIC_PORT_BASE;
  process.env.DIASPORA_FABRIC_PORT_BASE = String(portBase());
  let description: FabricDescription;
  try {
    description = (await startFabric({ dir, tls: true, keyPropagationDelayMs: 0 })).description;
  } finally {
    if (previous === undefined) delete process.env.DIASPORA_FABRIC_PORT_BASE;
    else process.env.DIASPORA_FABRIC_PORT_BASE = previous;
  }
  registerCompressionCodecs();
  const adminPassword = readFabricSecrets(dir).adminPassword;
  return {
    dir,
    description,
    killBroker: () => killKafkaBroker(dir),
    restartBroker: async () => {
      await restartFabricKafka(dir);
    },
    pauseBroker: () => pauseKafkaBroker(dir),
    resumeBroker: () => resumeKafkaBroker(dir),
    adminKafka: (clientId) =>
      new Kafka({
        clientId,
        brokers: description.brokers,
        sasl: { mechanism: 'scram-sha-512', ...description.admin },
        logLevel: logLevel.NOTHING,
      }),
    control: () => controls(description, adminPassword),
    issuedSecrets: () => issuedSecrets(dir),
  };
}

function controls(fabric: FabricDescription, adminPassword: string): FabricControls {
  const authorization = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;
  const post = async <T>(base: string, route: string, body: object): Promise<T> => {
    const res = await fetch(`${base}/_fabric/${route}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${base}/_fabric/${route} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  };
  return {
    fail: async (setting) => {
      await post(fabric.serviceUrl, 'fail', setting);
    },
    setKeyPropagationDelay: async (ms) => {
      await post(fabric.serviceUrl, 'config', { keyPropagationDelayMs: ms });
    },
    setAccessTokenTtl: async (seconds) => {
      const before = await post<{ accessTokenTtlSeconds: number }>(fabric.authUrl, 'config', {});
      await post(fabric.authUrl, 'config', { accessTokenTtlSeconds: seconds });
      return before.accessTokenTtlSeconds;
    },
  };
}

/** Read from the emulators' own state files (mode 0600 in the fabric folder). */
function issuedSecrets(dir: string): string[] {
  const read = (name: string): unknown => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as unknown;
    } catch {
      return undefined;
    }
  };
  const auth = read('auth-state.json') as { tokens?: Array<{ token: string }> } | undefined;
  const service = read('service-state.json') as { keys?: Record<string, { secretKey: string }> } | undefined;
  return [
    ...(auth?.tokens ?? []).map((t) => t.token),
    ...Object.values(service?.keys ?? {}).map((k) => k.secretKey),
  ].filter((s) => typeof s === 'string' && s.length >= 8);
}

// A root-level hook (registered while mocha loads the first file that imports this module): runs
// once after every test of the run, whichever fault files ran.
after(async function () {
  this.timeout(60_000);
  if (!starting || !startedDir) return; // nothing started, or a kept fabric
  const dir = startedDir;
  starting = undefined;
  startedDir = undefined;
  await stopFabric({ dir });
  fs.rmSync(dir, { recursive: true, force: true });
});
