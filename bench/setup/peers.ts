/**
 * The other Node-RED Kafka packages the benchmark compares against (docs/peers.md of the
 * project's research): exact versions, installed with npm into the benchmark's own Node-RED user
 * directory at run time, never into this package's dependencies. npm's cache lives under the
 * fabric's cache folder, so a second run installs them without the network.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheDir } from '../../fabric/contract';
import { run } from '../lib/proc';

export const PEER_PACKAGES = {
  kafkaSuite: 'node-red-contrib-kafka-suite@0.0.5',
  kafkajs: 'node-red-contrib-kafkajs@0.0.7',
  oriolrius: '@oriolrius/node-red-contrib-kafka@6.1.1',
} as const;

export type Peer = keyof typeof PEER_PACKAGES;

/** Installs every peer into `userDir`'s node_modules; rejects with npm's own words when it fails. */
export async function installPeers(userDir: string): Promise<void> {
  const npmCache = path.join(cacheDir(), 'npm');
  fs.mkdirSync(npmCache, { recursive: true });
  // --prefer-offline: what is in the cache is used without asking the registry. --ignore-scripts:
  // no native builds (lz4's optional codec); none of the peers needs one for uncompressed topics.
  const args = ['install', '--prefix', userDir, '--cache', npmCache, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--save-exact', ...Object.values(PEER_PACKAGES)];
  const result = await run('npm', args, { timeoutMs: 300_000 });
  if (result.code !== 0) throw new Error(`npm install of the peers failed: ${result.stderr.trim().slice(-1500)}`);
}
