/**
 * The Diaspora web service behind one interface, whatever the API version: v1 (the seed's API)
 * or v3 (today's production API). See v1.ts and v3.ts beside it.
 */
import { DiasporaServiceError, normaliseServiceUrl, type ServiceContext } from './http';
import { createV1Service } from './v1';
import { createV3Service } from './v3';

export { DiasporaServiceError, type DiasporaServiceErrorKind } from './http';
export { namespaceForSubject, checkTopicTransportable, kafkaTopicName } from './common';

export type DiasporaApi = 'v1' | 'v3';

/** A Kafka key as the service hands it out. `secretKey` is secret: never log it. */
export interface DiasporaKey {
  accessKey: string;
  secretKey: string;
  /** Comma-separated bootstrap servers the key is for; may be empty. */
  endpoint: string;
  /** ISO time of creation. */
  createdAt: string;
  /** True when the service just created it (it may need time to propagate to the brokers). */
  fresh: boolean;
}

/** A topic call the service accepted (`success` or `no-op`); refusals are thrown. */
export interface TopicAnswer {
  status: 'success' | 'no-op';
  message: string;
  /** v3 returns the namespace's topics after the change. */
  topics?: string[];
}

export interface DiasporaService {
  readonly api: DiasporaApi;
  /** v1: create_key (rotates, invalidating earlier keys). v3: POST /user then POST /key (idempotent). */
  createKey(): Promise<DiasporaKey>;
  /** A new key, invalidating the old one. v1: create_key; v3: DELETE /key then POST /key. */
  rotateKey(): Promise<DiasporaKey>;
  /** The topics this identity may use, by the names users type. */
  listTopics(): Promise<string[]>;
  registerTopic(topic: string): Promise<TopicAnswer>;
  unregisterTopic(topic: string): Promise<TopicAnswer>;
  /** The Kafka topic for a user-facing name (v3 prefixes the namespace). */
  kafkaTopic(topic: string): string;
}

export interface DiasporaServiceOptions {
  api: DiasporaApi;
  serviceUrl: string;
  /** Globus identity id (userinfo `sub`). */
  subject: string;
  /** Returns a valid access token for the Diaspora resource server (refreshing as needed). */
  accessToken: () => Promise<string>;
  /** Per request; default 15 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export function createDiasporaService(opts: DiasporaServiceOptions): DiasporaService {
  if (opts.api !== 'v1' && opts.api !== 'v3') {
    throw new DiasporaServiceError('invalid', `Unknown Diaspora API version "${String(opts.api)}": use "v1" or "v3".`);
  }
  const subject = typeof opts.subject === 'string' ? opts.subject.trim() : '';
  if (!/^[\x21-\x7e]+$/.test(subject)) {
    throw new DiasporaServiceError('invalid', 'The Globus subject (sub) is missing or malformed: sign in again.');
  }
  if (typeof opts.accessToken !== 'function') {
    throw new DiasporaServiceError('invalid', 'No access-token source was given to the Diaspora service client.');
  }
  const ctx: ServiceContext = {
    baseUrl: normaliseServiceUrl(opts.serviceUrl),
    subject,
    accessToken: opts.accessToken,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  return opts.api === 'v1' ? createV1Service(ctx) : createV3Service(ctx);
}
