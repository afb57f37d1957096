/** Reads and checks the config node's properties (the names are a contract; see the README). */
import type { SessionSettings } from '../../lib/session-types';
import { SDK_NATIVE_CLIENT_ID } from '../../lib/globus-constants';

export interface ConfigDef {
  name?: string;
  api?: string;
  transport?: string;
  serviceUrl?: string;
  authUrl?: string;
  clientId?: string;
  authMode?: string;
  brokers?: string;
  kafkaAuth?: string;
  tls?: boolean | string;
  readyTimeout?: number | string;
}

const DEFAULT_READY_TIMEOUT_S = 300;

export function readConfigDef(def: ConfigDef, id: string): SessionSettings {
  const api = oneOf(def.api ?? 'v3', ['v1', 'v3'] as const, 'api');
  const transport = oneOf(def.transport || 'kafka', ['kafka', 'https'] as const, 'transport');
  if (transport === 'https' && api !== 'v3') {
    throw new Error('the https transport needs API v3 (the v1 service has no HTTPS data plane)');
  }
  const authMode = oneOf(def.authMode ?? 'user', ['user', 'client'] as const, 'authMode');
  const kafkaAuth = oneOf(def.kafkaAuth ?? 'scram-sha-512', ['scram-sha-512', 'msk-iam'] as const, 'kafkaAuth');
  const readyTimeout = def.readyTimeout === undefined || def.readyTimeout === '' ? DEFAULT_READY_TIMEOUT_S : Number(def.readyTimeout);
  if (!Number.isFinite(readyTimeout) || readyTimeout <= 0) {
    throw new Error(`readyTimeout must be a positive number of seconds, not "${String(def.readyTimeout)}"`);
  }
  return {
    api,
    transport,
    serviceUrl: httpUrl(def.serviceUrl, 'serviceUrl'),
    authUrl: httpUrl(def.authUrl, 'authUrl'),
    clientId: (def.clientId ?? '').trim() || SDK_NATIVE_CLIENT_ID,
    authMode,
    brokers: parseBrokers(def.brokers ?? ''),
    kafkaAuth,
    tls: def.tls === true || def.tls === 'true',
    readyTimeoutMs: readyTimeout * 1000,
    label: (def.name ?? '').trim() || id,
  };
}

/** Settings for a node whose own settings are unusable: it never contacts anything (it reports the error). */
export function inertSettings(id: string): SessionSettings {
  return {
    api: 'v3',
    transport: 'kafka',
    serviceUrl: 'http://127.0.0.1',
    authUrl: 'http://127.0.0.1',
    clientId: SDK_NATIVE_CLIENT_ID,
    authMode: 'user',
    brokers: [],
    kafkaAuth: 'scram-sha-512',
    tls: false,
    readyTimeoutMs: DEFAULT_READY_TIMEOUT_S * 1000,
    label: id,
  };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`${field} must be one of ${allowed.join(', ')}, not "${value}"`);
}

function httpUrl(value: string | undefined, field: string): string {
  const text = (value ?? '').trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${field} is not a valid URL: "${text}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`${field} must be an http(s) URL, not "${text}"`);
  }
  return text;
}

export function parseBrokers(text: string): string[] {
  const brokers = text
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  for (const broker of brokers) {
    if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(broker)) {
      throw new Error(`brokers must be host:port separated by commas; "${broker}" is not`);
    }
  }
  return brokers;
}
