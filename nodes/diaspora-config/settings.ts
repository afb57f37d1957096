/** Reads and checks the config node's properties through its schema (schema.ts). */
import type { SessionSettings } from '../../lib/session/types';
import { SDK_NATIVE_CLIENT_ID } from '../../lib/globus/constants';
import { isBrokerAddress, splitList } from '../../lib/kafka/names';
import { readOption, readText } from '../shared/read-settings';
import { isPositiveNumber, problemOf, valueOf } from '../shared/schema';
import { API_VERSIONS, AUTH_MODES, CONFIG_SCHEMA, KAFKA_AUTHS, TRANSPORTS } from './schema';
import { requireResolved } from './environment';

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

export function readConfigDef(def: ConfigDef, id: string): SessionSettings {
  const values = def as Readonly<Record<string, unknown>>;
  const readyTimeout = readText(CONFIG_SCHEMA, values, 'readyTimeout') || String(CONFIG_SCHEMA.readyTimeout?.value);
  if (!isPositiveNumber(readyTimeout)) {
    throw new Error(`readyTimeout must be a positive number of seconds, not "${readyTimeout}"`);
  }
  const tls = valueOf(CONFIG_SCHEMA, values, 'tls');
  const api = readOption(CONFIG_SCHEMA, values, 'api', API_VERSIONS);
  const transport = readOption(CONFIG_SCHEMA, values, 'transport', TRANSPORTS);
  if (problemOf(CONFIG_SCHEMA, 'transport', transport, { api })) {
    throw new Error('the https transport needs API v3 (the v1 service has no HTTPS data plane)');
  }
  requireResolved(def.clientId, 'clientId');
  requireResolved(def.brokers, 'brokers');
  return {
    api,
    transport,
    serviceUrl: httpUrl(readText(CONFIG_SCHEMA, values, 'serviceUrl'), 'serviceUrl'),
    authUrl: httpUrl(readText(CONFIG_SCHEMA, values, 'authUrl'), 'authUrl'),
    clientId: readText(CONFIG_SCHEMA, values, 'clientId') || SDK_NATIVE_CLIENT_ID,
    authMode: readOption(CONFIG_SCHEMA, values, 'authMode', AUTH_MODES),
    brokers: parseBrokers(readText(CONFIG_SCHEMA, values, 'brokers')),
    kafkaAuth: readOption(CONFIG_SCHEMA, values, 'kafkaAuth', KAFKA_AUTHS),
    tls: tls === true || tls === 'true',
    readyTimeoutMs: Number(readyTimeout) * 1000,
    label: readText(CONFIG_SCHEMA, values, 'name') || id,
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
    readyTimeoutMs: Number(CONFIG_SCHEMA.readyTimeout?.value) * 1000,
    label: id,
  };
}

function httpUrl(value: string, field: string): string {
  requireResolved(value, field);
  const text = value.replace(/\/+$/, '');
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
  const brokers = splitList(text);
  for (const broker of brokers) {
    if (!isBrokerAddress(broker)) {
      throw new Error(`brokers must be host:port separated by commas; "${broker}" is not`);
    }
  }
  return brokers;
}
