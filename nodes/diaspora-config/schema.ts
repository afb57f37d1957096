/**
 * diaspora-config's properties and credentials (the names are a contract; see the README). A new
 * property is added here, with a field in diaspora-config.html and, if the runtime uses it, a line in
 * settings.ts.
 */
import { PRODUCTION_AUTH_URL, PRODUCTION_SERVICE_URL, SDK_NATIVE_CLIENT_ID } from '../../lib/globus/constants';
import { isBrokerAddress, splitList } from '../../lib/kafka/names';
import { isHttpUrl, isPositiveNumber, isWholeNumber, type CredentialSchema, type NodeValues, type Problem, type Schema } from '../shared/schema';

export const CONFIG_TYPE = 'diaspora-config';

export const API_VERSIONS = ['v1', 'v3'] as const;
export const TRANSPORTS = ['kafka', 'https'] as const;
export const AUTH_MODES = ['user', 'client'] as const;
export const KAFKA_AUTHS = ['scram-sha-512', 'msk-iam'] as const;
export const PRESETS = ['production', 'local', 'custom'] as const;

const url = (value: unknown): Problem | undefined => (isHttpUrl(value) ? undefined : { code: 'invalid-url' });

/** Empty means "the key's endpoint"; else host:port or [IPv6]:port, comma-separated. */
function brokerList(value: unknown): Problem | undefined {
  const bad = splitList(String(value ?? '')).find((broker) => !isBrokerAddress(broker));
  return bad === undefined ? undefined : { code: 'invalid-brokers', params: { broker: bad } };
}

/** Client credentials need a confidential client of the user's own, not the SDK's public one. */
function clientIdFor(value: unknown, node: NodeValues): Problem | undefined {
  if (node.authMode !== 'client') return undefined;
  const id = String(value ?? '').trim();
  if (id === '') return { code: 'client-id-required' };
  if (id === SDK_NATIVE_CLIENT_ID) return { code: 'native-client-in-client-mode' };
  return undefined;
}

/** The HTTPS data plane exists in API v3 only. */
function transportFor(value: unknown, node: NodeValues): Problem | undefined {
  return value === 'https' && node.api !== 'v3' ? { code: 'https-needs-v3' } : undefined;
}

/** The defaults are the Production preset. */
export const CONFIG_SCHEMA: Schema = {
  name: { value: '' },
  version: { value: 1, required: true, check: (v) => (isWholeNumber(v) ? undefined : { code: 'invalid-version' }) },
  preset: { value: 'production', required: true, options: PRESETS },
  api: { value: 'v3', required: true, options: API_VERSIONS },
  transport: { value: 'kafka', required: true, options: TRANSPORTS, check: transportFor },
  serviceUrl: { value: PRODUCTION_SERVICE_URL, required: true, check: url },
  authUrl: { value: PRODUCTION_AUTH_URL, required: true, check: url },
  clientId: { value: SDK_NATIVE_CLIENT_ID, check: clientIdFor },
  authMode: { value: 'user', required: true, options: AUTH_MODES },
  brokers: { value: '', check: brokerList },
  kafkaAuth: { value: 'msk-iam', required: true, options: KAFKA_AUTHS },
  tls: { value: true },
  readyTimeout: { value: 300, required: true, check: (v) => (isPositiveNumber(v) ? undefined : { code: 'invalid-timeout' }) },
};

export const CONFIG_CREDENTIALS: CredentialSchema = {
  clientSecret: { type: 'password', userInput: true },
  ca: { type: 'text', userInput: true },
  tokens: { type: 'password' },
  tokensFor: { type: 'password' },
  accessKey: { type: 'password' },
  secretKey: { type: 'password' },
  endpoint: { type: 'text' },
  keyCreatedAt: { type: 'text' },
  keyFor: { type: 'password' },
};
