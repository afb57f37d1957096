/** The emulators daemon's configuration, written by the fabric launcher (secrets: mode 0600). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FabricClient, FabricUser } from './contract';

export interface DaemonConfig {
  fabricDir: string;
  logFile: string;
  auth: {
    port: number;
    users: FabricUser[];
    clients: FabricClient[];
    nativeClientId: string;
    statePath: string;
  };
  service: {
    port: number;
    /** The broker address handed out with every key. */
    endpoint: string;
    keyPropagationDelayMs: number;
    statePath: string;
  };
  resourceServer: { clientId: string; clientSecret: string };
  adminPassword: string;
  kafka: { brokers: string[]; admin: { username: string; password: string } };
}

export function daemonConfigFile(fabricDir: string): string {
  return path.join(path.resolve(fabricDir), 'emulators.json');
}

export function writeDaemonConfig(config: DaemonConfig): string {
  const file = daemonConfigFile(config.fabricDir);
  fs.writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}

export function readDaemonConfig(file: string): DaemonConfig {
  let config: DaemonConfig;
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8')) as DaemonConfig;
  } catch (err) {
    throw new Error(`Cannot read the emulators configuration ${file}: ${(err as Error).message}`);
  }
  if (!config.auth || !config.service || !config.kafka) {
    throw new Error(`${file} is not an emulators configuration (auth, service and kafka sections expected)`);
  }
  return config;
}
