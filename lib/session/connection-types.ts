/**
 * The public shapes of the connection manager. Nothing here names kafkajs: the node runtimes are
 * written against these types only, so the Kafka client can be replaced behind them.
 */
import type { PartitionOffsets } from '../kafka/consumer-lag';
import type { KafkaClientError, KafkaErrorKind } from '../kafka/errors';
import type { CompressionName } from '../kafka/codecs';

export type KafkaCredentials =
  | { mechanism: 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'oauthbearer'; token: () => Promise<{ value: string }> };

export interface KafkaLogger {
  debug(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface RetrySettings {
  /** Attempts after the first failure (default 5). */
  retries?: number;
  /** First wait in ms, doubled (with jitter) on each retry (default 300). */
  initialRetryTime?: number;
  /** Longest single wait in ms (default 5000). */
  maxRetryTime?: number;
}

export interface ProducerTuning {
  /** Idempotent producer for acks = -1 (default true). acks 1 and 0 use a second, plain producer. */
  idempotent?: boolean;
  /**
   * How long a record may wait for others to join its batch, in ms. Default 0: until the next turn
   * of the event loop (records sent in the same turn share a batch; while a batch is in flight the
   * next one fills up regardless).
   */
  lingerMs?: number;
  /** Most records in one sendBatch (default 500). */
  maxBatchRecords?: number;
  /**
   * Most uncompressed bytes in one sendBatch (default 256 KiB), kept under the broker's 1 MiB
   * max.message.bytes so that only a record that is itself too large is refused. A larger record
   * travels alone.
   */
  maxBatchBytes?: number;
  /** Broker-side acknowledgement timeout in ms (default 30000). */
  ackTimeoutMs?: number;
}

export interface ConnectionSettings {
  brokers: string[];
  credentials: KafkaCredentials;
  /** false = SASL_PLAINTEXT; an object = SASL_SSL, optionally trusting a CA (PEM). */
  tls: false | { ca?: string };
  clientId: string;
  logger?: KafkaLogger;
  /** TCP connect timeout in ms (default 5000). */
  connectionTimeout?: number;
  /** Per-request timeout in ms (default 30000). */
  requestTimeout?: number;
  retry?: RetrySettings;
  producer?: ProducerTuning;
}

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'error';

export interface ConnectionStatus {
  state: ConnectionState;
  /** With 'error': the actionable message. */
  reason?: string;
  /** With 'error': what went wrong (e.g. 'auth-failed' when the key is rejected). */
  kind?: KafkaErrorKind;
}

export type Acks = -1 | 1 | 0;

export interface SendOptions {
  acks: Acks;
  compression: CompressionName;
}

/** One record for the shared producer; payload, key and headers already encoded (lib/payload). */
export interface OutRecord {
  topic: string;
  value: Buffer | null;
  key?: Buffer | null;
  headers?: Record<string, Buffer | string | Array<Buffer | string>>;
  /** Explicit partition; default: by key hash, or spread when there is no key. */
  partition?: number;
  /** Create time in ms since the epoch; default now. */
  timestamp?: number;
}

/** Where a record was written. offset is '-1' with acks = 0 (no answer from the broker). */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
}

/** Called once per record: with where it was written, or with the (classified) error. */
export type SendCallback = (err: Error | null, meta?: RecordMetadata) => void;

export interface ProducerHandle {
  readonly userId: string;
  /** Resolves with where the record was written, or rejects with a KafkaClientError. */
  send(record: OutRecord, opts: SendOptions): Promise<RecordMetadata>;
  /** As send, answered through `callback` (possibly before post returns): no promise per event on a busy path. */
  post(record: OutRecord, opts: SendOptions, callback: SendCallback): void;
}

export interface ConsumerOptions {
  topics: string[];
  groupId: string;
  /** true = earliest, false = latest, for partitions the group has no committed offset for. */
  fromBeginning: boolean;
  /**
   * true = commit, per partition, up to the last event of the contiguous run of events whose
   * onMessage has resolved; false = only ConsumerHandle.commit commits.
   */
  autoCommit: boolean;
  /** Events per partition in onMessage at once; the consumer waits while that many are unfinished (default DEFAULT_WINDOW). */
  window?: number;
  /** Partitions whose fetched batches are handed on at the same time (default 1). */
  concurrency?: number;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Header values are bytes; a header repeated in the record gives an array. */
  headers: Record<string, Buffer | Buffer[] | undefined>;
}

export type ConsumerState = 'connecting' | 'connected' | 'disconnected' | 'error';

export interface ConsumerCallbacks {
  /** A crash, a failed (re)start or a rejected onMessage; the consumer restarts by itself after a crash. */
  onError?(error: KafkaClientError, info: { restartInMs?: number }): void;
  onStateChange?(state: ConsumerState, reason?: string): void;
}

export interface ConsumerHandle {
  readonly userId: string;
  readonly state: ConsumerState;
  readonly paused: boolean;
  /** Current subscriptions. */
  topics(): string[];
  /** Partitions this member was assigned at the last rebalance, by topic. */
  assignment(): Record<string, number[]>;
  pause(): void;
  resume(): void;
  /** Adds a topic and restarts the consumer with the new set (kafkajs cannot subscribe while running). */
  subscribe(topic: string): Promise<void>;
  /** Removes a topic and restarts; with no topic left the consumer idles until the next subscribe. */
  unsubscribe(topic: string): Promise<void>;
  /** Manual mode: marks this message as processed (commits offset + 1 for its partition). */
  commit(message: { topic: string; partition: number; offset: string | number }): Promise<void>;
  /** Leaves the group and disconnects; after `timeoutMs` (default 10 s) the connections are destroyed instead. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface ConnectionStats {
  /** kafkajs producers currently existing (0, 1, or 2 when acks 1/0 are also in use). */
  producers: number;
  consumers: number;
  /** TCP connections to the brokers currently open, across producers, consumers and probes. */
  openConnections: number;
  /** sendBatch calls made since the manager was created. */
  sentBatches: number;
  /** Producer users (acquired handles). */
  producerUsers: number;
}

/**
 * What the flow nodes use of a session's connections, whichever transport carries them: the Kafka
 * ConnectionManager, or the HTTPS data plane of the Diaspora service (RestConnections).
 */
export interface Connections {
  readonly currentStatus: ConnectionStatus;
  acquireProducer(userId: string): ProducerHandle;
  releaseProducer(userId: string): Promise<void>;
  createConsumer(
    userId: string,
    opts: ConsumerOptions,
    onMessage: (m: ConsumedMessage) => Promise<void>,
    callbacks?: ConsumerCallbacks,
  ): ConsumerHandle;
  close(timeoutMs?: number): Promise<void>;
  stats(): ConnectionStats;
  /** Each partition's high watermark and the group's committed offset, for the lag; absent where the transport cannot tell (HTTPS). */
  consumerOffsets?(groupId: string, topics: readonly string[]): Promise<PartitionOffsets[]>;
}
