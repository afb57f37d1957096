/**
 * A real Apache Kafka broker for the local fabric: jars from Maven Central (cached per version,
 * shared by every checkout), one KRaft node (broker + controller) on loopback, SASL/SCRAM-SHA-512,
 * StandardAuthorizer with deny-by-default, and an optional SASL_SSL listener with a private CA.
 */
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { jarCacheDir, repoRoot } from './contract';
import { createFabricKafkaAdmin } from './kafka-admin';
import { ensureBrokerTls } from './kafka-tls';
import { pollUntil } from './poll';
import { isOwnProcess, processExited, signalOwnProcess, spawnDetached, stopOwnProcess } from './processes';

const run = promisify(execFile);

/** The topic every user may use to check its connection (as in production). */
export const CONNECTION_TEST_TOPIC = '__connection_test';

export interface KafkaLayout {
  dir: string;
  dataDir: string;
  logsDir: string;
  propsFile: string;
  pidFile: string;
  /** The exact command that starts the broker, so a restart needs nothing else. */
  launchFile: string;
  tlsDir: string;
}

export function kafkaLayout(fabricDir: string): KafkaLayout {
  const dir = path.join(path.resolve(fabricDir), 'kafka');
  return {
    dir,
    dataDir: path.join(dir, 'data'),
    logsDir: path.join(path.resolve(fabricDir), 'logs', 'kafka'),
    propsFile: path.join(dir, 'server.properties'),
    pidFile: path.join(dir, 'kafka.pid'),
    launchFile: path.join(dir, 'launch.json'),
    tlsDir: path.join(dir, 'tls'),
  };
}

export interface KafkaBrokerConfig {
  fabricDir: string;
  version: string;
  port: number;
  controllerPort: number;
  /** Port of the optional SASL_SSL listener; no TLS listener when absent. */
  tlsPort?: number;
  admin: { username: string; password: string };
  controllerPassword: string;
  keystorePassword: string;
  /** Bound on the broker becoming ready (default 120 s). */
  startTimeoutMs?: number;
}

export interface RunningKafka {
  pid: number;
  brokers: string[];
  tls?: { brokers: string[]; caFile: string };
}

interface LaunchCommand {
  java: string;
  args: string[];
  brokers: string[];
  admin: { username: string; password: string };
}

// ---------------------------------------------------------------- jars

function majorVersion(version: string): number {
  return Number(version.split('.')[0]);
}

export interface FetchResult {
  libDir: string;
  /** Bytes of jars copied now; 0 when the cache was already complete. */
  fetchedBytes: number;
}

function directoryBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
}

/** Collects the broker's runtime classpath with Maven into the shared jar cache (once per version). */
export async function fetchKafkaJars(version: string): Promise<FetchResult> {
  const libDir = jarCacheDir(version);
  const complete = path.join(libDir, '.complete');
  if (fs.existsSync(complete)) return { libDir, fetchedBytes: 0 };
  // Download next to the final folder, then rename: an interrupted fetch never looks complete.
  const staging = `${libDir}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  const pom = path.join(repoRoot, 'fabric', 'kafka', 'pom.xml');
  const profile = majorVersion(version) >= 4 ? 'kafka4' : 'kafka3';
  try {
    await run('mvn', ['-q', '-B', '-f', pom, `-P${profile}`, `-Dkafka.version=${version}`,
      'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${staging}`],
    { maxBuffer: 16 << 20 });
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    const e = err as { code?: string; stdout?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') {
      throw new Error('Maven (mvn) is not installed; it fetches the Kafka broker jars. Install it (Debian: apt-get install maven)');
    }
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`Fetching Kafka ${version} jars with Maven failed (is Maven Central reachable?):\n${output || e.message}`);
  }
  const fetchedBytes = directoryBytes(staging);
  fs.writeFileSync(path.join(staging, '.complete'), `${new Date().toISOString()}\n`);
  fs.rmSync(libDir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(libDir), { recursive: true });
  fs.renameSync(staging, libDir);
  return { libDir, fetchedBytes };
}

/** Zip entry names are stored uncompressed, so a class is on the classpath iff its path is in a jar. */
function firstClassPresent(libDir: string, classNames: string[]): string {
  const jars = fs.readdirSync(libDir).filter((name) => /^kafka.*\.jar$/.test(name));
  const contents = jars.map((jar) => fs.readFileSync(path.join(libDir, jar)));
  for (const className of classNames) {
    const entry = `${className.replace(/\./g, '/')}.class`;
    if (contents.some((bytes) => bytes.includes(entry))) return className;
  }
  throw new Error(`None of ${classNames.join(', ')} is in the Kafka jars in ${libDir}; delete that folder to fetch again`);
}

// ---------------------------------------------------------------- java

/** Finds a Java the Kafka version runs on: Kafka 3.9 breaks on Java 24+, Kafka 4 needs 17+. */
export async function findJava(version: string): Promise<{ java: string; keytool: string }> {
  const homes = [process.env.KAFKA_JAVA_HOME, process.env.JAVA_HOME].filter((h): h is string => !!h);
  const candidates = [...homes.map((home) => path.join(home, 'bin', 'java')), 'java'];
  const kafka4 = majorVersion(version) >= 4;
  const rejected: string[] = [];
  for (const java of candidates) {
    let javaMajor: number;
    try {
      const { stderr } = await run(java, ['-version']);
      const match = /version "(\d+)(?:\.(\d+))?/.exec(stderr);
      if (!match) continue;
      javaMajor = match[1] === '1' ? Number(match[2]) : Number(match[1]);
    } catch {
      continue;
    }
    const fits = kafka4 ? javaMajor >= 17 : javaMajor >= 11 && javaMajor <= 23;
    if (fits) {
      const keytool = java === 'java' ? 'keytool' : path.join(path.dirname(java), 'keytool');
      return { java, keytool };
    }
    rejected.push(`${java} is Java ${javaMajor}`);
  }
  const needed = kafka4 ? 'Java 17 or later' : 'Java 11 to 23 (17 recommended)';
  const seen = rejected.length ? ` (${rejected.join('; ')})` : ' (no java found)';
  throw new Error(`Kafka ${version} needs ${needed}${seen}. Install it (Debian: apt-get install openjdk-17-jre-headless) or set KAFKA_JAVA_HOME`);
}

// ---------------------------------------------------------------- configuration

function serverProperties(cfg: KafkaBrokerConfig, layout: KafkaLayout, keystore?: string): string {
  const listeners = [`CLIENT://127.0.0.1:${cfg.port}`];
  if (cfg.tlsPort !== undefined) listeners.push(`CLIENT_SSL://127.0.0.1:${cfg.tlsPort}`);
  const lines = [
    '# Written by fabric/kafka-broker.ts on every start; edits are overwritten.',
    '# KRaft: one combined broker+controller with a static quorum',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${cfg.controllerPort}`,
    'controller.listener.names=CONTROLLER',
    `listeners=${listeners.join(',')},CONTROLLER://127.0.0.1:${cfg.controllerPort}`,
    `advertised.listeners=${listeners.join(',')}`,
    'listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CLIENT_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT',
    'inter.broker.listener.name=CLIENT',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    'sasl.mechanism.controller.protocol=PLAIN',
    '',
    '# Client listener: SCRAM-SHA-512 only; the JAAS user is the broker\'s own inter-broker identity',
    'listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512',
    `listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${cfg.admin.username}" password="${cfg.admin.password}";`,
    '',
    '# Controller listener: SCRAM credentials live in the metadata log, so the quorum uses static PLAIN',
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="${cfg.controllerPassword}" user_controller="${cfg.controllerPassword}";`,
    '',
    '# A deleted or rotated credential must not keep old sessions alive for long',
    'connections.max.reauth.ms=30000',
    '',
    '# Authorization: deny unless an ACL allows',
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    `super.users=User:${cfg.admin.username};User:controller`,
    'allow.everyone.if.no.acl.found=false',
    'auto.create.topics.enable=false',
    '',
    '# Storage and single-node sizing (2 cores)',
    `log.dirs=${path.join(layout.dataDir, 'kraft-combined-logs')}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=3',
    'group.initial.rebalance.delay.ms=0',
    // After a crash the restarted node waits out its old registration's session (default 9 s).
    'broker.heartbeat.interval.ms=500',
    'broker.session.timeout.ms=3000',
    'num.network.threads=2',
    'num.io.threads=2',
    'background.threads=2',
    'num.recovery.threads.per.data.dir=1',
    'num.replica.fetchers=1',
    'log.cleaner.threads=1',
    'log.retention.hours=24',
    'log.segment.bytes=67108864',
  ];
  if (majorVersion(cfg.version) >= 4) {
    lines.push('share.coordinator.state.topic.replication.factor=1', 'share.coordinator.state.topic.min.isr=1');
  }
  if (keystore) {
    lines.push(
      '',
      '# Optional SASL_SSL listener; clients trust the private CA in tls/ca.pem',
      'listener.name.client_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512',
      'listener.name.client_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.client_ssl.ssl.keystore.type=PKCS12',
      `listener.name.client_ssl.ssl.keystore.location=${keystore}`,
      `listener.name.client_ssl.ssl.keystore.password=${cfg.keystorePassword}`,
      `listener.name.client_ssl.ssl.key.password=${cfg.keystorePassword}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function logOptions(version: string, logsDir: string): string[] {
  const config = majorVersion(version) >= 4
    ? `-Dlog4j2.configurationFile=${path.join(repoRoot, 'fabric', 'kafka', 'log4j2.properties')}`
    : `-Dlog4j.configuration=file:${path.join(repoRoot, 'fabric', 'kafka', 'log4j.properties')}`;
  return [config, `-Dkafka.logs.dir=${logsDir}`];
}

/** Formats the KRaft storage once, bootstrapping the admin's SCRAM credential (KIP-900). */
async function formatStorage(cfg: KafkaBrokerConfig, layout: KafkaLayout, java: string, libDir: string): Promise<void> {
  if (fs.existsSync(path.join(layout.dataDir, 'kraft-combined-logs', 'meta.properties'))) return;
  const storageTool = firstClassPresent(libDir, ['kafka.tools.StorageTool', 'org.apache.kafka.tools.StorageTool']);
  // As Kafka's own Uuid.randomUuid: an id that begins with '-' would be read as an option.
  const clusterId = crypto.randomBytes(16).toString('base64url').replace(/^-/, 'A');
  try {
    await run(java, ['-Xmx256m', ...logOptions(cfg.version, path.join(layout.logsDir, 'tools')),
      '-cp', path.join(libDir, '*'), storageTool, 'format', '--ignore-formatted', `--cluster-id=${clusterId}`,
      '-c', layout.propsFile, '--add-scram', `SCRAM-SHA-512=[name=${cfg.admin.username},password=${cfg.admin.password}]`],
    { maxBuffer: 4 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    // The command line carries the admin password; quote only the tool's output.
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || 'no output';
    throw new Error(`Formatting the Kafka storage in ${layout.dataDir} failed:\n${output}`);
  }
}

// ---------------------------------------------------------------- process

function readPid(layout: KafkaLayout): number | undefined {
  try {
    const pid = Number(fs.readFileSync(layout.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** PID of this fabric's broker when it is running, else undefined. */
export function kafkaPid(fabricDir: string): number | undefined {
  const layout = kafkaLayout(fabricDir);
  const pid = readPid(layout);
  return isOwnProcess(pid, layout.propsFile) ? pid : undefined;
}

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** One SASL admin round trip: TCP accept alone does not mean the broker serves requests. */
export async function kafkaAnswers(brokers: string[], admin: { username: string; password: string }): Promise<boolean> {
  const client = new Kafka({
    clientId: 'diaspora-fabric-probe',
    brokers,
    sasl: { mechanism: 'scram-sha-512', ...admin },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 2000,
    requestTimeout: 5000,
  }).admin();
  try {
    await client.connect();
    await client.describeCluster();
    return true;
  } finally {
    await client.disconnect();
  }
}

class BrokerExited extends Error {}

/** The broker loads SCRAM credentials within a second of serving requests; allow for a slow machine. */
const ADMIN_REFUSED_GRACE_MS = 20_000;

/** Starts the JVM described by launch.json and waits until it answers an authenticated admin call. */
async function launch(fabricDir: string, timeoutMs: number): Promise<number> {
  const layout = kafkaLayout(fabricDir);
  const command = JSON.parse(fs.readFileSync(layout.launchFile, 'utf8')) as LaunchCommand;
  fs.mkdirSync(layout.logsDir, { recursive: true });
  const outFile = path.join(layout.logsDir, 'kafka.out');
  for (const name of ['server.log', 'kafka.out']) {
    const file = path.join(layout.logsDir, name);
    if (fs.existsSync(file)) fs.renameSync(file, `${file}.prev`);
  }
  const pid = spawnDetached({ command: command.java, args: command.args, logFile: outFile });
  fs.writeFileSync(layout.pidFile, `${pid}\n`);
  let refusedSince: number | undefined;
  try {
    await pollUntil(async () => {
      if (!isOwnProcess(pid, layout.propsFile)) {
        throw new BrokerExited(
          `Kafka exited during startup. Last lines of ${layout.logsDir}/server.log:\n${tail(path.join(layout.logsDir, 'server.log'), 30)}\n${tail(outFile, 10)}`,
        );
      }
      try {
        return await kafkaAnswers(command.brokers, command.admin);
      } catch (err) {
        // A broker that serves requests but keeps refusing the admin will not recover by waiting.
        if ((err as Error).name !== 'KafkaJSSASLAuthenticationError') throw err;
        refusedSince ??= Date.now();
        if (Date.now() - refusedSince > ADMIN_REFUSED_GRACE_MS) {
          throw new BrokerExited(
            `Kafka started but keeps refusing the fabric's admin credential: its metadata in ${layout.dataDir} does not hold the admin of ${path.dirname(layout.dir)}/identities.json. Stop the fabric and delete ${layout.dataDir} to reset the broker (its topics, keys and ACLs are lost).`,
          );
        }
        throw err;
      }
    }, {
      what: `Kafka on ${command.brokers.join(',')} to answer (logs: ${layout.logsDir})`,
      timeoutMs,
      intervalMs: 300,
      isFatal: (err) => err instanceof BrokerExited,
    });
  } catch (err) {
    await stopOwnProcess(pid, layout.propsFile, 10_000);
    fs.rmSync(layout.pidFile, { force: true });
    throw err;
  }
  return pid;
}


/**
 * Creates `__connection_test` open to every user, and has the broker create its consumer-offsets
 * topic now: otherwise the first consumer group of a fresh fabric waits for it (and a test of
 * group refusals could see "coordinator not available" instead of the refusal).
 */
async function prepareBroker(brokers: string[], admin: { username: string; password: string }): Promise<void> {
  const kafkaAdmin = await createFabricKafkaAdmin({ brokers, ...admin });
  try {
    if (!(await kafkaAdmin.topicExists(CONNECTION_TEST_TOPIC))) await kafkaAdmin.createTopic(CONNECTION_TEST_TOPIC, 1);
    await kafkaAdmin.grant({ user: '*', topic: CONNECTION_TEST_TOPIC, prefixed: false, operations: ['READ', 'WRITE', 'DESCRIBE'] });
  } finally {
    await kafkaAdmin.close();
  }
  const client = new Kafka({
    clientId: 'diaspora-fabric-warmup',
    brokers,
    sasl: { mechanism: 'scram-sha-512', ...admin },
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 200 },
  }).admin();
  try {
    await client.connect();
    // FindCoordinator makes the broker create __consumer_offsets; kafkajs retries until it exists.
    await client.describeGroups(['diaspora-fabric-warmup']);
  } finally {
    await client.disconnect();
  }
}

/**
 * Fetches the jars if needed, writes the configuration, formats the storage on first use, starts
 * the broker detached and resolves once it serves authenticated requests. A broker of this fabric
 * folder that is already running is reused.
 */
export async function startKafkaBroker(cfg: KafkaBrokerConfig): Promise<RunningKafka> {
  const layout = kafkaLayout(cfg.fabricDir);
  const brokers = [`127.0.0.1:${cfg.port}`];
  const tlsBrokers = cfg.tlsPort !== undefined ? [`127.0.0.1:${cfg.tlsPort}`] : undefined;
  const caFile = path.join(layout.tlsDir, 'ca.pem');
  const keystore = tlsBrokers ? path.join(layout.tlsDir, 'broker.p12') : undefined;
  const properties = serverProperties(cfg, layout, keystore);
  const running = kafkaPid(cfg.fabricDir);
  if (running) {
    if (fs.readFileSync(layout.propsFile, 'utf8') !== properties) {
      throw new Error(`The Kafka broker of the fabric in ${cfg.fabricDir} (pid ${running}) runs with other settings (ports, TLS or version); stop the fabric first`);
    }
    return { pid: running, brokers, ...(tlsBrokers ? { tls: { brokers: tlsBrokers, caFile } } : {}) };
  }

  const { libDir } = await fetchKafkaJars(cfg.version);
  const { java, keytool } = await findJava(cfg.version);
  fs.mkdirSync(layout.dir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(layout.dataDir, { recursive: true });
  const tls = tlsBrokers ? await ensureBrokerTls(layout.tlsDir, cfg.keystorePassword, keytool) : undefined;
  // server.properties and launch.json hold the admin password: owner-only.
  fs.writeFileSync(layout.propsFile, properties, { mode: 0o600 });
  await formatStorage(cfg, layout, java, libDir);

  const heap = (process.env.KAFKA_HEAP_OPTS ?? '-Xms256m -Xmx768m').split(/\s+/).filter(Boolean);
  const command: LaunchCommand = {
    java,
    args: [
      ...heap,
      '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35',
      '-XX:+ExplicitGCInvokesConcurrent', '-XX:+ExitOnOutOfMemoryError',
      '-XX:ParallelGCThreads=2', '-XX:ConcGCThreads=1', '-XX:CICompilerCount=2',
      '-Djava.awt.headless=true', ...logOptions(cfg.version, layout.logsDir),
      '-cp', path.join(libDir, '*'), 'kafka.Kafka', layout.propsFile,
    ],
    brokers,
    admin: cfg.admin,
  };
  fs.writeFileSync(layout.launchFile, `${JSON.stringify(command, null, 2)}\n`, { mode: 0o600 });
  const pid = await launch(cfg.fabricDir, cfg.startTimeoutMs ?? 120_000);
  try {
    await prepareBroker(brokers, cfg.admin);
  } catch (err) {
    await stopKafkaBroker(cfg.fabricDir);
    throw err;
  }
  return { pid, brokers, ...(tls && tlsBrokers ? { tls: { brokers: tlsBrokers, caFile: tls.caFile } } : {}) };
}

/** Stops this fabric's broker (SIGTERM, SIGKILL after 30 s). No error when it is not running. */
export async function stopKafkaBroker(fabricDir: string, graceMs = 30_000): Promise<void> {
  const layout = kafkaLayout(fabricDir);
  const pid = readPid(layout);
  if (pid) await stopOwnProcess(pid, layout.propsFile, graceMs);
  fs.rmSync(layout.pidFile, { force: true });
}

function signalBroker(fabricDir: string, signal: NodeJS.Signals): number {
  const layout = kafkaLayout(fabricDir);
  const pid = readPid(layout);
  if (!pid || !signalOwnProcess(pid, layout.propsFile, signal)) {
    throw new Error(`The Kafka broker of the fabric in ${fabricDir} is not running`);
  }
  return pid;
}

/** For failure tests: kills the broker abruptly (SIGKILL), as a crash would. */
export async function killKafkaBroker(fabricDir: string): Promise<void> {
  const layout = kafkaLayout(fabricDir);
  const pid = signalBroker(fabricDir, 'SIGKILL');
  await pollUntil(async () => !isOwnProcess(pid, layout.propsFile), { what: `Kafka (pid ${pid}) to die`, timeoutMs: 10_000, intervalMs: 50 });
  await pollUntil(async () => processExited(pid), { what: `Kafka (pid ${pid}) to finish exiting`, timeoutMs: 10_000, intervalMs: 50 });
}

/** For failure tests: freezes the broker (SIGSTOP); connections stay open but nothing answers. */
export function pauseKafkaBroker(fabricDir: string): void {
  signalBroker(fabricDir, 'SIGSTOP');
}

/** Undoes `pauseKafkaBroker` (SIGCONT). */
export function resumeKafkaBroker(fabricDir: string): void {
  signalBroker(fabricDir, 'SIGCONT');
}

/**
 * Starts the broker again with the configuration of the last start (after a kill or a stop) and
 * waits until it answers. Returns the new PID. A running broker is left as is.
 */
export async function relaunchKafkaBroker(fabricDir: string, timeoutMs = 120_000): Promise<number> {
  const running = kafkaPid(fabricDir);
  if (running) return running;
  const layout = kafkaLayout(fabricDir);
  if (!fs.existsSync(layout.launchFile)) {
    throw new Error(`The fabric in ${fabricDir} was never started; start it first`);
  }
  return launch(fabricDir, timeoutMs);
}
