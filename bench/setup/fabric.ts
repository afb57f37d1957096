/**
 * The benchmark's own local fabric, on its own ports and folder so it never disturbs a test run
 * or the demo, with a key propagation delay of 0; and the identity every client of the benchmark
 * uses: one confidential client, its v3 key (SCRAM-SHA-512 username = subject, password = secret
 * key) and topics in its namespace. Node-RED's config node asks the service for the same
 * identity's key (v3 POST /key is idempotent), so every client runs under the same ACLs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FabricClient, FabricDescription } from '../../fabric/contract';
import { startFabric, stopFabric } from '../../fabric/fabric';
import { createDiasporaService, type DiasporaService } from '../../lib/diaspora-service/service';
import { GlobusAuth } from '../../lib/globus/auth';
import { diasporaToken } from '../../lib/globus/tokens';
import { say } from '../lib/log';

export const BENCH_PORT_BASE = 19800;

export interface BenchFabric {
  dir: string;
  description: FabricDescription;
  /** True when this run started it (and must stop it). */
  startedHere: boolean;
}

/** Where the bench fabric lives: BENCH_FABRIC_DIR (kept between runs), else a new temporary folder. */
export function benchFabricDir(): { dir: string; temporary: boolean } {
  const kept = process.env.BENCH_FABRIC_DIR;
  if (kept) return { dir: path.resolve(kept), temporary: false };
  return { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-bench-fabric-')), temporary: true };
}

/** `tls`: also a SASL_SSL listener with the fabric's own CA (for the peers section). */
export async function startBenchFabric(dir: string, tls = false): Promise<BenchFabric> {
  // fabric/contract reads these when it computes ports and folders.
  process.env.DIASPORA_FABRIC_PORT_BASE = process.env.BENCH_PORT_BASE ?? String(BENCH_PORT_BASE);
  process.env.DIASPORA_FABRIC_DIR = dir;
  process.env.DIASPORA_KEY_DELAY_MS = '0';
  const started = await startFabric({ dir, keyPropagationDelayMs: 0, tls, log: (line) => say(`fabric: ${line}`) });
  say(`fabric ${started.alreadyRunning ? 'already running' : `started in ${(started.elapsedMs / 1000).toFixed(1)} s`} (${dir}, Kafka ${started.description.brokers.join(',')})`);
  return { dir, description: started.description, startedHere: !started.alreadyRunning };
}

export async function stopBenchFabric(fabric: BenchFabric, removeDir: boolean): Promise<void> {
  await stopFabric({ dir: fabric.dir });
  if (removeDir) fs.rmSync(fabric.dir, { recursive: true, force: true });
}

export interface BenchIdentity {
  client: FabricClient;
  service: DiasporaService;
  /** SCRAM-SHA-512 credentials for Kafka. */
  username: string;
  password: string;
  brokers: string[];
}

/** Client-credentials sign-in and the v3 key of `client`, as the config node would get them. */
export async function benchIdentity(fabric: FabricDescription, client: FabricClient): Promise<BenchIdentity> {
  const auth = new GlobusAuth({ authUrl: fabric.authUrl, clientId: client.clientId, clientSecret: client.clientSecret });
  let bundle = await auth.clientCredentials();
  const service = createDiasporaService({
    api: 'v3',
    serviceUrl: fabric.serviceUrl,
    subject: client.sub,
    accessToken: async () => {
      bundle = await auth.ensureFresh(bundle);
      return diasporaToken(bundle).accessToken;
    },
  });
  const key = await service.createKey();
  return { client, service, username: client.sub, password: key.secretKey, brokers: fabric.brokers };
}

/** Registers a topic (1 partition) and returns its Kafka name. */
export async function registerTopic(identity: BenchIdentity, name: string): Promise<string> {
  await identity.service.registerTopic(name);
  return identity.service.kafkaTopic(name);
}
