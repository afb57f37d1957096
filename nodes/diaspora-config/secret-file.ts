/**
 * Node-RED writes credentials to disk only when a flow is deployed, so a sign-in or key obtained
 * at run time would be lost by a restart before the next deploy (and v1 would then rotate the key).
 * This file keeps the secrets the runtime writes for one config node in
 * `<userDir>/.diaspora/<node id>.json`, encrypted with the key Node-RED encrypts `flows_cred.json`
 * with, sha256(credential secret), but with AES-256-GCM (authenticated) where Node-RED uses
 * AES-256-CTR; plain, like Node-RED, when the user set `credentialSecret: false`.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StoredSecrets } from '../../lib/session/types';

/** The fields only the runtime writes (the editor edits clientSecret and ca). */
export const RUNTIME_FIELDS = ['tokens', 'tokensFor', 'accessKey', 'secretKey', 'endpoint', 'keyCreatedAt', 'keyFor'] as const;
type RuntimeField = (typeof RUNTIME_FIELDS)[number];
export type RuntimeSecrets = Pick<StoredSecrets, RuntimeField>;

export interface SecretFile {
  readonly file: string;
  /** The stored runtime secrets; undefined when there is no file or it cannot be read with this key. */
  read(): RuntimeSecrets | undefined;
  write(secrets: StoredSecrets): void;
  remove(): void;
}

interface Envelope {
  version: 1;
  /** Present when encrypted: AES-256-GCM under sha256(credential secret). */
  iv?: string;
  tag?: string;
  data?: string;
  /** Present when Node-RED's credential encryption is off. */
  plain?: RuntimeSecrets;
}

/**
 * `credentialKey` is Node-RED's credential secret (settings `credentialSecret`, else the generated
 * `_credentialSecret`), or `false` when the user turned encryption off.
 */
export function openSecretFile(userDir: string, nodeId: string, credentialKey: string | false): SecretFile {
  const dir = path.join(userDir, '.diaspora');
  const file = path.join(dir, `${nodeId.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
  const key = credentialKey === false ? undefined : crypto.createHash('sha256').update(credentialKey).digest();

  return {
    file,
    read() {
      let envelope: Envelope;
      try {
        envelope = JSON.parse(fs.readFileSync(file, 'utf8')) as Envelope;
      } catch {
        return undefined;
      }
      if (envelope.plain) return pick(envelope.plain);
      if (!key || !envelope.iv || !envelope.tag || !envelope.data) return undefined;
      try {
        const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
        decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
        const text = Buffer.concat([decipher.update(Buffer.from(envelope.data, 'base64')), decipher.final()]).toString('utf8');
        return pick(JSON.parse(text) as RuntimeSecrets);
      } catch {
        // Another credential secret (the user changed it): the stored secrets are unusable.
        return undefined;
      }
    },
    write(secrets) {
      const runtime = pick(secrets);
      let envelope: Envelope;
      if (key) {
        const iv = crypto.randomBytes(12);
        const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
        const data = Buffer.concat([cipher.update(JSON.stringify(runtime), 'utf8'), cipher.final()]);
        envelope = { version: 1, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
      } else {
        envelope = { version: 1, plain: runtime };
      }
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const temporary = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, JSON.stringify(envelope), { mode: 0o600 });
      fs.renameSync(temporary, file);
    },
    remove() {
      fs.rmSync(file, { force: true });
    },
  };
}

function pick(secrets: StoredSecrets): RuntimeSecrets {
  const out: RuntimeSecrets = {};
  for (const field of RUNTIME_FIELDS) {
    const value = secrets[field];
    if (typeof value === 'string' && value !== '') out[field] = value;
  }
  return out;
}

/** The node's credentials with the runtime-written fields taken from the file (it is always the newest). */
export function mergeSecrets(credentials: StoredSecrets, fromFile: RuntimeSecrets | undefined): StoredSecrets {
  if (!fromFile) return credentials;
  const merged: StoredSecrets = { ...credentials };
  for (const field of RUNTIME_FIELDS) delete merged[field];
  return { ...merged, ...fromFile };
}
