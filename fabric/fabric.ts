/**
 * The local fabric as a whole: the Kafka broker and the emulators daemon, started and stopped
 * together, described in `<fabricDir>/fabric.json` (see contract.ts). Used by the CLI, the mocha
 * global fixture and the demo.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  KAFKA_VERSION,
  fabricDir as defaultFabricDir,
  fabricPorts,
  repoRoot,
  type FabricDescription,
} from './contract';
import { daemonConfigFile, writeDaemonConfig, type DaemonConfig } from './daemon-config';
import { loadOrCreateIdentities, readIdentities, type FabricIdentities } from './identities';
import {
  fetchKafkaJars,
  kafkaAnswers,
  kafkaLayout,
  kafkaPid,
  relaunchKafkaBroker,
  startKafkaBroker,
  stopKafkaBroker,
} from './kafka-broker';
import { DIASPORA_RESOURCE_SERVER, SDK_NATIVE_CLIENT_ID } from '../lib/globus/constants';
import { pollUntil } from './poll';
import { isOwnProcess, spawnDetached, stopOwnProcess } from './processes';

export interface StartFabricOptions {
  /** Fabric folder; default `DIASPORA_FABRIC_DIR` or `<repo>/.fabric`. */
  dir?: string;
  /** Default `DIASPORA_KEY_DELAY_MS` or 2000. */
  keyPropagationDelayMs?: number;
  /** SASL_SSL listener with a private CA; default `DIASPORA_FABRIC_TLS=1`. */
  tls?: boolean;
  /** Progress lines (the CLI passes stderr). */
  log?: (line: string) => void;
}

export interface StartedFabric {
  description: FabricDescription;
  file: string;
  /** True when a running fabric was found and left as is. */
  alreadyRunning: boolean;
  /** Bytes of broker jars downloaded by this start (0 when cached). */
  fetchedBytes: number;
  elapsedMs: number;
}

function resolveDir(dir?: string): string {
  return path.resolve(dir ?? defaultFabricDir());
}

export function fabricJsonPath(dir?: string): string {
  return path.join(resolveDir(dir), 'fabric.json');
}

function daemonPidFile(dir: string): string {
  return path.join(dir, 'emulators.pid');
}

function envDelay(): number {
  const raw = process.env.DIASPORA_KEY_DELAY_MS;
  if (raw === undefined || raw === '') return 2000;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`DIASPORA_KEY_DELAY_MS must be a whole number of milliseconds (0 or more), got "${raw}"`);
  }
  return value;
}

function checkPorts(ports: ReturnType<typeof fabricPorts>): void {
  for (const [name, port] of Object.entries(ports)) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`DIASPORA_FABRIC_PORT_BASE gives an invalid ${name} port (${port}); use a number from 1024 to 65530`);
    }
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A clear error before starting anything, instead of a broker that dies on a busy port. */
async function assertPortsFree(ports: Record<string, number>): Promise<void> {
  for (const [name, port] of Object.entries(ports)) {
    if (!(await portIsFree(port))) {
      throw new Error(`Port ${port} (fabric ${name}) on 127.0.0.1 is in use, perhaps by another fabric or checkout; stop it or set DIASPORA_FABRIC_PORT_BASE to another base (5 ports are used)`);
    }
  }
}

/** The description of the fabric in `dir`, or undefined when none was written. */
export function readFabric(dir?: string): FabricDescription | undefined {
  const file = fabricJsonPath(dir);
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as FabricDescription;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); run "npm run fabric -- stop" and start again`);
  }
}

/** Secrets of the fabric that fabric.json does not carry (control-route password, resource server secret). */
export function readFabricSecrets(dir?: string): Pick<FabricIdentities, 'adminPassword' | 'resourceServerSecret'> {
  const identities = readIdentities(resolveDir(dir));
  return { adminPassword: identities.adminPassword, resourceServerSecret: identities.resourceServerSecret };
}

async function httpAnswers(url: string, accept: (res: Response) => Promise<boolean>): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return await accept(res);
  } catch {
    return false;
  }
}

/** True when the auth emulator serves its OIDC discovery document. */
export function authAnswers(authUrl: string): Promise<boolean> {
  return httpAnswers(`${authUrl}/.well-known/openid-configuration`, async (res) => {
    if (!res.ok) return false;
    const doc = (await res.json()) as { issuer?: string };
    return doc.issuer === authUrl;
  });
}

/** True when the service emulator answers a v1 route (an unauthenticated call gets an HTTP answer). */
export function serviceAnswers(serviceUrl: string): Promise<boolean> {
  return httpAnswers(`${serviceUrl}/v1/list_topics`, async (res) => {
    await res.arrayBuffer();
    return res.status < 500;
  });
}

export interface FabricStatus {
  running: boolean;
  file: string;
  description?: FabricDescription;
  parts: { kafka: boolean; auth: boolean; service: boolean };
}

/** Whether every part of the fabric in `dir` is alive and answering. */
export async function fabricStatus(dir?: string): Promise<FabricStatus> {
  const root = resolveDir(dir);
  const file = fabricJsonPath(root);
  const description = readFabric(root);
  if (!description) return { running: false, file, parts: { kafka: false, auth: false, service: false } };
  const daemonAlive = isOwnProcess(description.pids.emulators, daemonConfigFile(root));
  const kafkaAlive = kafkaPid(root) === description.pids.kafka;
  const [kafka, auth, service] = await Promise.all([
    kafkaAlive ? kafkaAnswers(description.brokers, description.admin).catch(() => false) : false,
    daemonAlive ? authAnswers(description.authUrl) : false,
    daemonAlive ? serviceAnswers(description.serviceUrl) : false,
  ]);
  return { running: kafka && auth && service, file, description, parts: { kafka, auth, service } };
}

function readDaemonPid(dir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(daemonPidFile(dir), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

class DaemonExited extends Error {}

async function startDaemon(config: DaemonConfig, authUrl: string, serviceUrl: string): Promise<number> {
  const configFile = writeDaemonConfig(config);
  const running = readDaemonPid(config.fabricDir);
  if (running && isOwnProcess(running, configFile)) await stopOwnProcess(running, configFile, 10_000);
  const script = path.join(repoRoot, 'dist', 'fabric', 'daemon.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing; run "npm run build" first`);
  fs.mkdirSync(path.dirname(config.logFile), { recursive: true });
  const pid = spawnDetached({ command: process.execPath, args: [script, configFile], logFile: config.logFile });
  fs.writeFileSync(daemonPidFile(config.fabricDir), `${pid}\n`);
  try {
    await pollUntil(async () => {
      if (!isOwnProcess(pid, configFile)) {
        throw new DaemonExited(`The emulators daemon exited during startup. Last lines of ${config.logFile}:\n${tail(config.logFile, 30)}`);
      }
      return (await authAnswers(authUrl)) && (await serviceAnswers(serviceUrl));
    }, {
      what: `the emulators to answer on ${authUrl} and ${serviceUrl} (log: ${config.logFile})`,
      timeoutMs: 30_000,
      intervalMs: 200,
      isFatal: (err) => err instanceof DaemonExited,
    });
  } catch (err) {
    await stopOwnProcess(pid, configFile, 10_000);
    throw err;
  }
  return pid;
}

function writeDescription(dir: string, description: FabricDescription): string {
  const file = fabricJsonPath(dir);
  const staging = `${file}.tmp-${process.pid}`;
  // It carries the test users' passwords and the broker admin's: owner-only.
  fs.writeFileSync(staging, `${JSON.stringify(description, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(staging, file);
  return file;
}

/**
 * Starts the fabric (Kafka, then the emulators) and writes fabric.json once every part answers.
 * When the fabric of this folder already runs and answers, it is left alone (`alreadyRunning`).
 * Parts that died are started again. On failure, whatever this call started is stopped.
 */
export async function startFabric(opts: StartFabricOptions = {}): Promise<StartedFabric> {
  const dir = resolveDir(opts.dir);
  fs.mkdirSync(dir, { recursive: true });
  const release = await acquireStartLock(dir);
  try {
    return await startFabricLocked(dir, opts);
  } finally {
    release();
  }
}

class LockError extends Error {}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Two starts in one folder at once (two test runs) would launch two brokers on one data folder;
 * the second waits for the first and then finds the fabric running.
 */
async function acquireStartLock(dir: string): Promise<() => void> {
  const lock = path.join(dir, 'start.lock');
  await pollUntil(async () => {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new LockError(`Cannot create the start lock ${lock}: ${(err as Error).message}`);
      }
    }
    let content: string;
    try {
      content = fs.readFileSync(lock, 'utf8').trim();
    } catch {
      return false; // released in between: try again
    }
    const holder = Number(content);
    // Empty: its creator has not written its pid yet. A dead holder: a start that was killed.
    if (content !== '' && (!Number.isInteger(holder) || holder <= 0 || !pidAlive(holder))) fs.rmSync(lock, { force: true });
    return false;
  }, {
    what: `another start of the fabric in ${dir} to finish (lock ${lock})`,
    timeoutMs: 300_000,
    intervalMs: 250,
    isFatal: (err) => err instanceof LockError,
  });
  return () => fs.rmSync(lock, { force: true });
}

async function startFabricLocked(dir: string, opts: StartFabricOptions): Promise<StartedFabric> {
  const started = Date.now();
  const log = opts.log ?? ((): void => undefined);
  const status = await fabricStatus(dir);
  if (status.running && status.description) {
    return { description: status.description, file: status.file, alreadyRunning: true, fetchedBytes: 0, elapsedMs: Date.now() - started };
  }

  const ports = fabricPorts();
  checkPorts(ports);
  const keyPropagationDelayMs = opts.keyPropagationDelayMs ?? envDelay();
  const tls = opts.tls ?? process.env.DIASPORA_FABRIC_TLS === '1';
  const { identities, created } = loadOrCreateIdentities(dir);
  if (created) {
    // New secrets: broker metadata formatted with an older admin password is unusable.
    fs.rmSync(kafkaLayout(dir).dataDir, { recursive: true, force: true });
  }

  const kafkaWasRunning = kafkaPid(dir) !== undefined;
  const daemonRunning = isOwnProcess(readDaemonPid(dir), daemonConfigFile(dir));
  await assertPortsFree({
    ...(kafkaWasRunning ? {} : { kafka: ports.kafka, controller: ports.controller, ...(tls ? { 'kafka TLS': ports.kafkaTls } : {}) }),
    ...(daemonRunning ? {} : { service: ports.service, auth: ports.auth }),
  });
  log(`Kafka ${KAFKA_VERSION}: ${kafkaWasRunning ? 'already running' : 'starting'} on 127.0.0.1:${ports.kafka}${tls ? ` (+ SASL_SSL on ${ports.kafkaTls})` : ''}`);
  const { fetchedBytes } = await fetchKafkaJars(KAFKA_VERSION);
  if (fetchedBytes > 0) log(`Fetched Kafka jars: ${(fetchedBytes / 1e6).toFixed(1)} MB`);
  const kafka = await startKafkaBroker({
    fabricDir: dir,
    version: KAFKA_VERSION,
    port: ports.kafka,
    controllerPort: ports.controller,
    ...(tls ? { tlsPort: ports.kafkaTls } : {}),
    admin: identities.kafkaAdmin,
    controllerPassword: identities.controllerPassword,
    keystorePassword: identities.keystorePassword,
  });
  log(`Kafka ready after ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${kafka.pid})`);

  const authUrl = `http://127.0.0.1:${ports.auth}`;
  const serviceUrl = `http://127.0.0.1:${ports.service}`;
  let emulatorsPid: number;
  try {
    emulatorsPid = await startDaemon({
      fabricDir: dir,
      logFile: path.join(dir, 'logs', 'emulators.log'),
      auth: {
        port: ports.auth,
        users: identities.users,
        clients: identities.clients,
        nativeClientId: SDK_NATIVE_CLIENT_ID,
        statePath: path.join(dir, 'auth-state.json'),
      },
      service: {
        port: ports.service,
        endpoint: kafka.brokers[0],
        keyPropagationDelayMs,
        statePath: path.join(dir, 'service-state.json'),
      },
      resourceServer: { clientId: DIASPORA_RESOURCE_SERVER, clientSecret: identities.resourceServerSecret },
      adminPassword: identities.adminPassword,
      kafka: { brokers: kafka.brokers, admin: identities.kafkaAdmin },
    }, authUrl, serviceUrl);
  } catch (err) {
    if (!kafkaWasRunning) await stopKafkaBroker(dir);
    throw err;
  }

  const description: FabricDescription = {
    serviceUrl,
    authUrl,
    brokers: kafka.brokers,
    securityProtocol: 'SASL_PLAINTEXT',
    saslMechanism: 'SCRAM-SHA-512',
    clientId: SDK_NATIVE_CLIENT_ID,
    users: identities.users,
    clients: identities.clients,
    ...(kafka.tls ? { tls: kafka.tls } : {}),
    admin: identities.kafkaAdmin,
    pids: { kafka: kafka.pid, emulators: emulatorsPid },
    keyPropagationDelayMs,
  };
  const file = writeDescription(dir, description);
  return { description, file, alreadyRunning: false, fetchedBytes, elapsedMs: Date.now() - started };
}

/**
 * Stops the emulators daemon and the broker of the fabric in `dir` (by their recorded PIDs) and
 * removes fabric.json. Resolves false when nothing was running.
 */
export async function stopFabric(opts: { dir?: string } = {}): Promise<boolean> {
  const dir = resolveDir(opts.dir);
  const description = readFabric(dir);
  const configFile = daemonConfigFile(dir);
  const daemonPids = new Set([description?.pids.emulators, readDaemonPid(dir)].filter((p): p is number => !!p));
  let stoppedSomething = false;
  for (const pid of daemonPids) {
    if (isOwnProcess(pid, configFile)) {
      stoppedSomething = true;
      await stopOwnProcess(pid, configFile, 10_000);
    }
  }
  if (kafkaPid(dir) !== undefined) {
    stoppedSomething = true;
    await stopKafkaBroker(dir);
  }
  fs.rmSync(daemonPidFile(dir), { force: true });
  fs.rmSync(fabricJsonPath(dir), { force: true });
  return stoppedSomething;
}

/**
 * For failure tests, after `killKafkaBroker`/`stopKafkaBroker`: starts the broker again with the
 * same configuration, waits until it answers and records its new PID in fabric.json.
 */
export async function restartFabricKafka(dir?: string): Promise<number> {
  const root = resolveDir(dir);
  const description = readFabric(root);
  if (!description) throw new Error(`No fabric is described in ${root}; start one first`);
  const pid = await relaunchKafkaBroker(root);
  writeDescription(root, { ...description, pids: { ...description.pids, kafka: pid } });
  return pid;
}
