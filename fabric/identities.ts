/**
 * The fabric's secrets and test identities, generated once per fabric folder and reused on every
 * later start so that namespaces, keys and tokens stored by tests or Node-RED stay valid.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FabricClient, FabricUser } from './contract';

export interface FabricIdentities {
  users: FabricUser[];
  clients: FabricClient[];
  /** Secret of the Diaspora resource server's confidential client (token introspection). */
  resourceServerSecret: string;
  /** Password of the emulators' control routes. */
  adminPassword: string;
  /** The broker's super user. */
  kafkaAdmin: { username: string; password: string };
  /** Static SASL/PLAIN password of the KRaft controller listener. */
  controllerPassword: string;
  /** Password of the broker's TLS keystore (a local file, but still not a constant). */
  keystorePassword: string;
}

export function identitiesFile(dir: string): string {
  return path.join(dir, 'identities.json');
}

function secret(bytes = 24): string {
  // base64url: no commas or quotes, which the broker's --add-scram and JAAS syntax cannot take.
  return crypto.randomBytes(bytes).toString('base64url');
}

function newUser(username: string): FabricUser {
  return { username, password: secret(), sub: crypto.randomUUID() };
}

function newClient(): FabricClient {
  const clientId = crypto.randomUUID();
  return { clientId, clientSecret: secret(), sub: clientId };
}

export function generateIdentities(): FabricIdentities {
  return {
    users: [newUser('alice'), newUser('bob')],
    clients: [newClient(), newClient()],
    resourceServerSecret: secret(),
    adminPassword: secret(),
    kafkaAdmin: { username: 'admin', password: secret() },
    controllerPassword: secret(),
    keystorePassword: secret(),
  };
}

function isIdentities(value: unknown): value is FabricIdentities {
  if (!value || typeof value !== 'object') return false;
  const v = value as Partial<FabricIdentities>;
  return (
    Array.isArray(v.users) && v.users.length >= 2 &&
    Array.isArray(v.clients) && v.clients.length >= 2 &&
    typeof v.resourceServerSecret === 'string' &&
    typeof v.adminPassword === 'string' &&
    typeof v.kafkaAdmin?.password === 'string' &&
    typeof v.controllerPassword === 'string' &&
    typeof v.keystorePassword === 'string'
  );
}

function parseIdentities(file: string, dir: string): FabricIdentities {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); delete the fabric folder ${dir} to start afresh`);
  }
  if (!isIdentities(parsed)) {
    throw new Error(`${file} lacks required fields; delete the fabric folder ${dir} to start afresh`);
  }
  return parsed;
}

/** The identities of an existing fabric folder; an error when the fabric was never started there. */
export function readIdentities(dir: string): FabricIdentities {
  const file = identitiesFile(dir);
  if (!fs.existsSync(file)) {
    throw new Error(`No fabric identities in ${dir}: start the fabric first ("npm run fabric -- start")`);
  }
  return parseIdentities(file, dir);
}

/**
 * Reads `<dir>/identities.json`, creating it (mode 0600) on first use. `created` tells the caller
 * that state bound to older secrets (the broker's formatted metadata) must be discarded.
 */
export function loadOrCreateIdentities(dir: string): { identities: FabricIdentities; created: boolean } {
  const file = identitiesFile(dir);
  if (fs.existsSync(file)) return { identities: parseIdentities(file, dir), created: false };
  fs.mkdirSync(dir, { recursive: true });
  const identities = generateIdentities();
  fs.writeFileSync(file, `${JSON.stringify(identities, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { identities, created: true };
}
