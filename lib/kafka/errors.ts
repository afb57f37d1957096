/**
 * kafkajs errors turned into messages a Node-RED user can act on, each with a `kind` the nodes
 * branch on. Works on the error's whole cause chain: kafkajs wraps the broker's answer in retry
 * and non-retriable wrappers.
 */
import { isTopicName } from './names';

export type KafkaErrorKind =
  | 'topic-not-authorized'
  | 'group-not-authorized'
  | 'auth-failed'
  | 'too-large'
  | 'invalid-topic'
  | 'unknown-topic'
  | 'invalid-partition'
  | 'unreachable'
  | 'timeout'
  | 'closed'
  /** The HTTPS data plane: the user holds as many consumer instances as the service allows. */
  | 'instance-limit'
  | 'other';

export interface KafkaErrorContext {
  /** The topic the operation was about (producer: exactly this one). */
  topic?: string;
  /** Consumer subscriptions: the error may concern any of them. */
  topics?: string[];
  groupId?: string;
  brokers?: string[];
}

export class KafkaClientError extends Error {
  override name = 'KafkaClientError';
  readonly kind: KafkaErrorKind;
  readonly topic: string | undefined;
  /** True when the condition may clear by itself (network, broker restart): retrying later can help. */
  readonly transient: boolean;

  constructor(kind: KafkaErrorKind, message: string, options: { topic?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.topic = options.topic;
    this.transient = kind === 'unreachable' || kind === 'timeout';
  }
}

export function isKafkaClientError(err: unknown): err is KafkaClientError {
  return err instanceof KafkaClientError;
}

/** What is known about one error of the chain (kafkajs sets these properties). */
interface ErrorLink {
  name: string;
  message: string;
  type?: string;
  code?: string | number;
  broker?: string;
}

function causeChain(err: unknown): ErrorLink[] {
  const links: ErrorLink[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (e === null || e === undefined || seen.has(e) || links.length > 20) return;
    seen.add(e);
    if (typeof e !== 'object') {
      links.push({ name: 'Error', message: String(e) });
      return;
    }
    const rec = e as Record<string, unknown>;
    links.push({
      name: typeof rec.name === 'string' ? rec.name : 'Error',
      message: typeof rec.message === 'string' ? rec.message : String(e),
      type: typeof rec.type === 'string' ? rec.type : undefined,
      code: typeof rec.code === 'string' || typeof rec.code === 'number' ? rec.code : undefined,
      broker: typeof rec.broker === 'string' ? rec.broker : undefined,
    });
    visit(rec.cause);
    visit(rec.originalError);
    if (Array.isArray(rec.errors)) rec.errors.forEach(visit);
  };
  visit(err);
  return links;
}

/** Kafka's topic name rule; returns the name, or throws an 'invalid-topic' KafkaClientError. */
export function checkTopicName(topic: unknown): string {
  if (!isTopicName(topic)) {
    const shown = typeof topic === 'string' ? `"${topic}"` : String(topic);
    throw new KafkaClientError('invalid-topic', invalidTopicMessage(shown), {
      topic: typeof topic === 'string' ? topic : undefined,
    });
  }
  return topic;
}

function invalidTopicMessage(shown: string): string {
  return `${shown} is not a valid Kafka topic name: use 1 to 249 letters, digits, '.', '_' or '-'`;
}

function topicLabel(ctx: KafkaErrorContext): string {
  if (ctx.topic !== undefined) return `topic "${ctx.topic}"`;
  if (ctx.topics && ctx.topics.length === 1) return `topic "${ctx.topics[0]}"`;
  if (ctx.topics && ctx.topics.length > 1) return `one of the topics ${ctx.topics.map((t) => `"${t}"`).join(', ')}`;
  return 'the topic';
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
]);

const TLS_TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** True when an error of this name (e.g. 'KafkaJSGroupCoordinatorNotFound') is in the cause chain. */
export function hasErrorNamed(err: unknown, name: string): boolean {
  return causeChain(err).some((l) => l.name === name);
}

/** The first Kafka protocol error name (e.g. 'TOPIC_AUTHORIZATION_FAILED') in the error's cause chain. */
export function kafkaErrorType(err: unknown): string | undefined {
  return causeChain(err).find((l) => l.type !== undefined && l.type !== 'UNKNOWN')?.type;
}

/** Maps any error from kafkajs (or from this library) to a KafkaClientError. */
export function classifyKafkaError(err: unknown, ctx: KafkaErrorContext = {}): KafkaClientError {
  if (err instanceof KafkaClientError) return err;
  const chain = causeChain(err);
  const has = (pred: (l: ErrorLink) => boolean): ErrorLink | undefined => chain.find(pred);
  const byType = (...types: string[]): ErrorLink | undefined => has((l) => l.type !== undefined && types.includes(l.type));
  const innermost = chain[chain.length - 1]?.message ?? String(err);
  const opts = { topic: ctx.topic, cause: err };
  const brokers = has((l) => l.broker !== undefined)?.broker ?? ctx.brokers?.join(', ') ?? 'the Kafka brokers';

  const mechanismRefused =
    byType('UNSUPPORTED_SASL_MECHANISM') ?? has((l) => /mechanism is not supported by the server/i.test(l.message));
  if (mechanismRefused) {
    return new KafkaClientError(
      'auth-failed',
      `the broker does not accept this SASL mechanism: check the Kafka authentication setting (${mechanismRefused.message})`,
      opts,
    );
  }
  const sasl = has((l) => l.name === 'KafkaJSSASLAuthenticationError') ?? byType('SASL_AUTHENTICATION_FAILED', 'ILLEGAL_SASL_STATE');
  if (sasl) {
    return new KafkaClientError(
      'auth-failed',
      'Kafka rejected the key (SASL authentication failed): key rejected (revoked, rotated elsewhere, or not yet propagated)',
      opts,
    );
  }
  if (byType('TOPIC_AUTHORIZATION_FAILED')) {
    return new KafkaClientError(
      'topic-not-authorized',
      `${topicLabel(ctx)} is not registered to this identity: register it with a diaspora-topic node`,
      opts,
    );
  }
  if (byType('CLUSTER_AUTHORIZATION_FAILED')) {
    // Refused cluster-wide (e.g. an idempotent producer for an identity that may write nowhere).
    return new KafkaClientError(
      'topic-not-authorized',
      ctx.topic !== undefined || ctx.topics !== undefined
        ? `${topicLabel(ctx)} is not registered to this identity: register it with a diaspora-topic node`
        : 'this identity may not write to Kafka yet (cluster authorization failed): register a topic with a diaspora-topic node',
      opts,
    );
  }
  if (byType('GROUP_AUTHORIZATION_FAILED')) {
    const group = ctx.groupId !== undefined ? `consumer group "${ctx.groupId}"` : 'the consumer group';
    return new KafkaClientError(
      'group-not-authorized',
      `this identity may not use ${group}: choose a group id the fabric allows`,
      opts,
    );
  }
  if (byType('MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE')) {
    const where = ctx.topic !== undefined ? ` for topic "${ctx.topic}"` : '';
    return new KafkaClientError(
      'too-large',
      `the event is larger than the broker accepts${where} (max.message.bytes): make the payload smaller or split it`,
      opts,
    );
  }
  if (byType('INVALID_TOPIC_EXCEPTION')) {
    return new KafkaClientError(
      'invalid-topic',
      invalidTopicMessage(ctx.topic !== undefined ? `"${ctx.topic}"` : 'the topic'),
      opts,
    );
  }
  if (byType('UNKNOWN_TOPIC_OR_PARTITION')) {
    return new KafkaClientError(
      'unknown-topic',
      `${topicLabel(ctx)} does not exist on the broker: register it with a diaspora-topic node (registering creates it)`,
      opts,
    );
  }
  const tls = has((l) => typeof l.code === 'string' && TLS_TRUST_CODES.has(l.code));
  if (tls) {
    return new KafkaClientError(
      'unreachable',
      `the TLS certificate of ${brokers} is not trusted (${String(tls.code)}): set the fabric's CA certificate, or check the brokers setting`,
      opts,
    );
  }
  const timedOut =
    has((l) => l.name === 'KafkaJSRequestTimeoutError' || l.name === 'KafkaJSTimeout') ??
    byType('REQUEST_TIMED_OUT') ??
    has((l) => l.name === 'KafkaJSConnectionError' && /timeout/i.test(l.message));
  if (timedOut) {
    return new KafkaClientError('timeout', `${brokers} did not answer in time (${timedOut.message})`, opts);
  }
  const unreachable = has(
    (l) =>
      l.name === 'KafkaJSConnectionError' ||
      l.name === 'KafkaJSConnectionClosedError' ||
      l.name === 'KafkaJSBrokerNotFound' ||
      l.name === 'KafkaJSNoBrokerAvailableError' ||
      (typeof l.code === 'string' && UNREACHABLE_CODES.has(l.code)),
  );
  if (unreachable) {
    return new KafkaClientError(
      'unreachable',
      `cannot reach ${brokers} (${unreachable.message}): check the brokers setting and the network`,
      opts,
    );
  }
  return new KafkaClientError('other', `Kafka error: ${innermost}`, opts);
}
