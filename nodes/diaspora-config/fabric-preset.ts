/**
 * The editor's "Local fabric" preset: the public half of the running local fabric's description
 * (fabric.json, written by `npm run fabric -- start`), found through one setting, DIASPORA_FABRIC_DIR,
 * the same variable and default folder as the fabric's own CLI.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface FabricPreset {
  serviceUrl: string;
  authUrl: string;
  brokers: string[];
  clientId: string;
  users: { username: string }[];
  clients: { clientId: string }[];
}

/** The package's root folder (this file compiles to dist/nodes/diaspora-config/). */
const packageRoot = path.resolve(__dirname, '..', '..', '..');

/** `$DIASPORA_FABRIC_DIR/fabric.json`, default `<package>/.fabric/fabric.json` (a checkout's own fabric). */
export function localFabricFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DIASPORA_FABRIC_DIR || path.join(packageRoot, '.fabric'), 'fabric.json');
}

/** The fabric's public description, without any password or secret; undefined when no fabric runs there. */
export function readFabricPreset(file: string = localFabricFile()): FabricPreset | undefined {
  let fabric: Partial<FabricPreset>;
  try {
    fabric = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<FabricPreset>;
  } catch {
    return undefined; // not there (no fabric started) or not readable
  }
  return {
    serviceUrl: String(fabric.serviceUrl ?? ''),
    authUrl: String(fabric.authUrl ?? ''),
    brokers: Array.isArray(fabric.brokers) ? fabric.brokers.map(String) : [],
    clientId: String(fabric.clientId ?? ''),
    users: (fabric.users ?? []).map((u) => ({ username: u.username })),
    clients: (fabric.clients ?? []).map((c) => ({ clientId: c.clientId })),
  };
}
