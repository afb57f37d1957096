/**
 * One ConnectionManager per diaspora-config node: the Kafka side of the config node, in the
 * lifecycle of the core MQTT broker node. One shared producer for every diaspora-out (reference
 * counted: connected on the first user, disconnected after the last), one consumer per diaspora-in,
 * an aggregated status for the nodes, rebuilds when the key changes, and a close that always ends
 * within its timeout. kafkajs stays behind lib/kafka-*; nothing here depends on it.
 */
import { EventEmitter } from 'node:events';
import type {
  ConnectionSettings,
  ConnectionStats,
  ConnectionStatus,
  ConsumedMessage,
  ConsumerCallbacks,
  ConsumerHandle,
  ConsumerOptions,
  ProducerHandle,
} from '../session/connection-types';
import { SocketRegistry, SocketTracker, createKafkaClient } from './client';
import { ManagedConsumer } from './consumer';
import { classifyKafkaError, KafkaClientError } from './errors';
import { closedError, SharedProducer } from './producer';
import { isBrokerAddress } from './names';
import { OffsetReader } from './offsets';
import type { PartitionOffsets } from './consumer-lag';
import { withTimeout } from '../with-timeout';

export type * from '../session/connection-types';
export { KafkaClientError, classifyKafkaError, isKafkaClientError, type KafkaErrorKind } from './errors';

/** Time given to in-flight work when the key changes or the last producer user leaves. */
const REBUILD_TIMEOUT_MS = 10_000;
/** Close keeps this much of its budget for forcing what did not end in time. */
const CLOSE_MARGIN_MS = 200;

export class ConnectionManager extends EventEmitter {
  private settings: ConnectionSettings;
  private readonly registry = new SocketRegistry();
  private readonly producer: SharedProducer;
  private readonly consumers = new Map<string, ManagedConsumer>();
  private readonly offsets = new OffsetReader(() => this.settings, this.registry);
  private status: ConnectionStatus = { state: 'disconnected' };
  private closing: Promise<void> | undefined;

  constructor(settings: ConnectionSettings) {
    super();
    this.settings = checkSettings(settings);
    this.producer = new SharedProducer({
      settings: () => this.settings,
      registry: this.registry,
      onStatus: () => this.refreshStatus(),
    });
  }

  /** 'status': the aggregated connection state changed. */
  override on(event: 'status', listener: (status: ConnectionStatus) => void): this {
    return super.on(event, listener);
  }

  override once(event: 'status', listener: (status: ConnectionStatus) => void): this {
    return super.once(event, listener);
  }

  override off(event: 'status', listener: (status: ConnectionStatus) => void): this {
    return super.off(event, listener);
  }

  /** The aggregated status last emitted: error if any part failed, else connecting, connected, disconnected. */
  get currentStatus(): ConnectionStatus {
    return { ...this.status };
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * New settings (typically a new key): the producer finishes its in-flight batches and is
   * replaced, consumers reconnect with the same subscriptions; handles stay valid.
   */
  async updateSettings(settings: ConnectionSettings): Promise<void> {
    if (this.closed) throw closedError();
    const next = checkSettings(settings);
    const rebuild = !sameConnection(this.settings, next);
    this.settings = next;
    if (!rebuild) return;
    await Promise.all([
      this.producer.rebuild(REBUILD_TIMEOUT_MS),
      ...[...this.consumers.values()].map((c) => c.rebuild()),
    ]);
  }

  /**
   * Readiness probe: a SASL-authenticated connection and a metadata request (DescribeCluster,
   * which needs no ACL), without retries. Throws a KafkaClientError ('auth-failed' while a new
   * key has not propagated, 'unreachable', 'timeout', ...).
   */
  async probe(timeoutMs: number): Promise<void> {
    if (this.closed) throw closedError();
    const settings = this.settings;
    const tracker = new SocketTracker(this.registry);
    const admin = createKafkaClient(settings, tracker, {
      retry: { retries: 0 },
      connectionTimeout: Math.min(timeoutMs, settings.connectionTimeout ?? 5000),
    }).admin({ retry: { retries: 0 } });
    try {
      const outcome = await withTimeout(
        (async () => {
          await admin.connect();
          await admin.describeCluster();
        })(),
        timeoutMs,
      );
      if (!outcome.done) {
        throw new KafkaClientError('timeout', `${settings.brokers.join(', ')} did not answer within ${timeoutMs} ms`);
      }
    } catch (err) {
      throw classifyKafkaError(err, { brokers: settings.brokers });
    } finally {
      await withTimeout(admin.disconnect(), 1000).catch(() => undefined);
      tracker.close();
    }
  }

  /** Registers a producer user; the first one connects the shared producer (in the background). */
  acquireProducer(userId: string): ProducerHandle {
    if (this.closed) throw closedError();
    const handle = this.producer.acquire(userId);
    this.refreshStatus();
    return handle;
  }

  /** Deregisters a producer user; after the last one the queued records are sent and the producer disconnects. */
  async releaseProducer(userId: string): Promise<void> {
    await this.producer.release(userId, REBUILD_TIMEOUT_MS);
    this.refreshStatus();
  }

  /** Starts a consumer for one diaspora-in node; a previous consumer of the same user is stopped. */
  createConsumer(
    userId: string,
    opts: ConsumerOptions,
    onMessage: (m: ConsumedMessage) => Promise<void>,
    callbacks: ConsumerCallbacks = {},
  ): ConsumerHandle {
    if (this.closed) throw closedError();
    const previous = this.consumers.get(userId);
    if (previous) void previous.stopWithin(REBUILD_TIMEOUT_MS);
    const consumer = new ManagedConsumer(
      {
        settings: () => this.settings,
        registry: this.registry,
        onStateChange: () => this.refreshStatus(),
        onStopped: (stopped) => {
          if (this.consumers.get(stopped.userId) === stopped) this.consumers.delete(stopped.userId);
          this.refreshStatus();
        },
      },
      userId,
      opts,
      onMessage,
      callbacks,
    );
    this.consumers.set(userId, consumer);
    this.refreshStatus();
    return consumer;
  }

  /** A group's committed offsets and the topics' high watermarks (for the lag a status shows). */
  consumerOffsets(groupId: string, topics: readonly string[]): Promise<PartitionOffsets[]> {
    if (this.closed) return Promise.reject(closedError());
    return this.offsets.read(groupId, topics);
  }

  /**
   * Stops everything: consumers leave their groups, queued records are sent, then the producer
   * disconnects. Always resolves within `timeoutMs`; what has not ended by then is forced closed
   * (connections destroyed, pending sends rejected).
   */
  close(timeoutMs = 10_000): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      const budget = Math.max(0, timeoutMs - CLOSE_MARGIN_MS);
      const consumers = [...this.consumers.values()];
      await withTimeout(
        Promise.allSettled([this.producer.close(budget), ...consumers.map((c) => c.stopWithin(budget))]),
        budget,
      );
      this.producer.forceClose();
      this.offsets.close();
      for (const c of consumers) c.forceStop();
      this.consumers.clear();
      this.registry.closeAll();
      this.refreshStatus();
    })();
    return this.closing;
  }

  stats(): ConnectionStats {
    return {
      producers: this.producer.producerCount,
      consumers: this.consumers.size,
      openConnections: this.registry.open,
      sentBatches: this.producer.sentBatches,
      producerUsers: this.producer.userCount,
    };
  }

  private refreshStatus(): void {
    const parts: ConnectionStatus[] = [];
    if (this.producer.userCount > 0) parts.push(this.producer.currentStatus);
    for (const c of this.consumers.values()) parts.push(c.status);
    const next: ConnectionStatus =
      parts.find((p) => p.state === 'error') ??
      (parts.some((p) => p.state === 'connecting')
        ? { state: 'connecting' }
        : parts.some((p) => p.state === 'connected')
          ? { state: 'connected' }
          : { state: 'disconnected' });
    if (next.state === this.status.state && next.reason === this.status.reason) return;
    this.status = { ...next };
    this.emit('status', { ...next });
  }
}

function checkSettings(settings: ConnectionSettings): ConnectionSettings {
  const fail = (message: string): never => {
    throw new KafkaClientError('other', `invalid Kafka connection settings: ${message}`);
  };
  if (!Array.isArray(settings.brokers) || settings.brokers.length === 0) fail('at least one broker (host:port) is required');
  for (const b of settings.brokers) if (!isBrokerAddress(b)) fail(`"${String(b)}" is not host:port`);
  const c = settings.credentials;
  if (c?.mechanism === 'scram-sha-512') {
    if (!c.username || typeof c.password !== 'string' || c.password.length === 0) fail('SCRAM needs a username and a password');
  } else if (c?.mechanism === 'oauthbearer') {
    if (typeof c.token !== 'function') fail('OAUTHBEARER needs a token provider');
  } else {
    fail('credentials.mechanism must be scram-sha-512 or oauthbearer');
  }
  if (typeof settings.clientId !== 'string' || settings.clientId.length === 0) fail('clientId is required');
  return settings;
}

/** True when `a` and `b` reach the same brokers with the same identity and tuning. */
function sameConnection(a: ConnectionSettings, b: ConnectionSettings): boolean {
  const creds = (s: ConnectionSettings): unknown[] =>
    s.credentials.mechanism === 'scram-sha-512'
      ? [s.credentials.mechanism, s.credentials.username, s.credentials.password]
      : [s.credentials.mechanism, s.credentials.token];
  const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);
  const ca = creds(a);
  const cb = creds(b);
  return (
    ca.length === cb.length &&
    ca.every((v, i) => v === cb[i]) &&
    same(a.brokers, b.brokers) &&
    same(a.tls, b.tls) &&
    a.clientId === b.clientId &&
    a.connectionTimeout === b.connectionTimeout &&
    a.requestTimeout === b.requestTimeout &&
    same(a.retry, b.retry) &&
    same(a.producer, b.producer)
  );
}
