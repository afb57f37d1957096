/**
 * The local fabric's public contract: where it lives, which ports it uses, and the shape of
 * `.fabric/fabric.json`, the file that tests, examples, the demo and outside tools read.
 */
import * as path from 'node:path';
import * as os from 'node:os';

export interface FabricUser {
  username: string;
  password: string;
  /** Globus-style identity id (a UUID). */
  sub: string;
}

export interface FabricClient {
  clientId: string;
  clientSecret: string;
  /** For a confidential client the subject is the client id, as in Globus. */
  sub: string;
}

export interface FabricDescription {
  serviceUrl: string;
  authUrl: string;
  brokers: string[];
  securityProtocol: 'SASL_PLAINTEXT';
  saslMechanism: 'SCRAM-SHA-512';
  /** The public native-app client id the emulator accepts for the PKCE flow. */
  clientId: string;
  users: FabricUser[];
  clients: FabricClient[];
  /** Optional SASL_SSL listener (self-signed CA), when the fabric was started with TLS. */
  tls?: { brokers: string[]; caFile: string };
  /** Broker super user, for tests and tools that need to administer the broker. */
  admin: { username: string; password: string };
  /** Process ids of what `start` started, so `stop` stops exactly those. */
  pids: { kafka: number; emulators: number };
  /** Milliseconds between a key's creation and the broker accepting it. */
  keyPropagationDelayMs: number;
}

/** Root folder of the repository (this file compiles to dist/fabric/contract.js). */
export const repoRoot = path.resolve(__dirname, '..', '..');

/** Folder for the running fabric's state; `DIASPORA_FABRIC_DIR` overrides it (test isolation). */
export function fabricDir(): string {
  return process.env.DIASPORA_FABRIC_DIR ?? path.join(repoRoot, '.fabric');
}

export function fabricFile(): string {
  return path.join(fabricDir(), 'fabric.json');
}

/** Cache shared by every checkout on the machine (broker jars, tool installs), so a second run needs no network. */
export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'diaspora-fabric');
}

export function jarCacheDir(kafkaVersion: string): string {
  return path.join(cacheDir(), `kafka-${kafkaVersion}`);
}

export const KAFKA_VERSION = process.env.KAFKA_VERSION ?? '3.9.2';

/**
 * Ports, all derived from one base so a second fabric (another checkout, a benchmark) can run
 * beside the first by setting `DIASPORA_FABRIC_PORT_BASE`.
 */
export function fabricPorts(): {
  service: number;
  auth: number;
  kafka: number;
  controller: number;
  kafkaTls: number;
} {
  const base = Number(process.env.DIASPORA_FABRIC_PORT_BASE ?? 19090);
  return { service: base, auth: base + 1, kafka: base + 2, controller: base + 3, kafkaTls: base + 4 };
}
