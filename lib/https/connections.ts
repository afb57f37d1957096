/**
 * The HTTPS side of a config node, in place of the Kafka ConnectionManager: one batching producer
 * for every diaspora-out, one consumer instance per diaspora-in, the same handles and status.
 */
import type {
  ConnectionStats,
  ConnectionStatus,
  Connections,
  ConsumedMessage,
  ConsumerCallbacks,
  ConsumerHandle,
  ConsumerOptions,
  ProducerHandle,
} from '../session/connection-types';
import { restRequest, type RestContext, type RestError } from './http';
import { RestConsumer } from './consumer';
import { RestProducer } from './producer';
import { withTimeout } from '../with-timeout';

export interface RestConnectionsOptions {
  ctx: RestContext;
  namespace: string;
  log: (message: string) => void;
  /** Called when a request found the service unreachable, so the session can check at once. */
  onUnreachable?: () => void;
  fetchTimeoutMs?: number;
}

export interface RestStats extends ConnectionStats {
  /** Consumer instances created (first ones and re-creations after the service dropped one). */
  instancesCreated: number;
  /** Events fetched a second time after a re-creation (skipped: already handed on). */
  redelivered: number;
}

export class RestConnections implements Connections {
  private readonly producer: RestProducer;
  private readonly producerUsers = new Set<string>();
  private readonly consumers = new Map<string, RestConsumer>();
  private status: ConnectionStatus = { state: 'disconnected' };
  private closing: Promise<void> | undefined;
  private retired = { instancesCreated: 0, redelivered: 0 };

  constructor(private readonly opts: RestConnectionsOptions) {
    this.producer = new RestProducer({
      ctx: opts.ctx,
      namespace: opts.namespace,
      onOutcome: (error) => this.outcome(error),
    });
  }

  get currentStatus(): ConnectionStatus {
    return { ...this.status };
  }

  /** Readiness and watch probe: the service answers this identity (GET /api/v3/namespace). */
  async probe(timeoutMs: number): Promise<void> {
    await restRequest({ ...this.opts.ctx, timeoutMs }, { method: 'GET', url: '/api/v3/namespace', what: 'check the service' });
  }

  acquireProducer(userId: string): ProducerHandle {
    this.producerUsers.add(userId);
    return {
      userId,
      send: (record) => this.producer.send(record),
      post: (record, _opts, callback) => {
        this.producer.send(record).then(
          (meta) => callback(null, meta),
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      },
    };
  }

  async releaseProducer(userId: string): Promise<void> {
    this.producerUsers.delete(userId);
  }

  createConsumer(
    userId: string,
    consumer: ConsumerOptions,
    onMessage: (m: ConsumedMessage) => Promise<void>,
    callbacks: ConsumerCallbacks = {},
  ): ConsumerHandle {
    const previous = this.consumers.get(userId);
    if (previous) void previous.stop();
    const created = new RestConsumer({
      ctx: this.opts.ctx,
      namespace: this.opts.namespace,
      userId,
      instanceName: instanceNameFor(userId),
      consumer,
      onMessage,
      callbacks,
      log: this.opts.log,
      ...(this.opts.fetchTimeoutMs !== undefined ? { fetchTimeoutMs: this.opts.fetchTimeoutMs } : {}),
      onStopped: (stopped) => {
        this.retired.instancesCreated += stopped.instancesCreated;
        this.retired.redelivered += stopped.redelivered;
        if (stopped.redelivered > 0) this.opts.log(`consumer "${userId}": ${stopped.redelivered} events came a second time after the service dropped the instance (skipped)`);
        if (this.consumers.get(userId) === stopped) this.consumers.delete(userId);
      },
    });
    this.consumers.set(userId, created);
    return created;
  }

  close(timeoutMs = 10_000): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      const budget = Math.max(0, timeoutMs - 200);
      await withTimeout(Promise.allSettled([this.producer.close(budget), ...[...this.consumers.values()].map((c) => c.stop(budget))]), budget);
      this.consumers.clear();
    })();
    return this.closing;
  }

  stats(): RestStats {
    const live = [...this.consumers.values()];
    return {
      producers: this.producerUsers.size > 0 ? 1 : 0,
      consumers: this.consumers.size,
      openConnections: 0,
      sentBatches: this.producer.sentBatches,
      producerUsers: this.producerUsers.size,
      instancesCreated: this.retired.instancesCreated + live.reduce((n, c) => n + c.instancesCreated, 0),
      redelivered: this.retired.redelivered + live.reduce((n, c) => n + c.redelivered, 0),
    };
  }

  private outcome(error: RestError | undefined): void {
    const next: ConnectionStatus = error && error.transient ? { state: 'error', reason: error.message, kind: error.kind } : { state: 'connected' };
    if (error?.transient) this.opts.onUnreachable?.();
    this.status = next;
  }
}

/** A consumer instance name from the user id: 1–80 of letters, digits, '-' and '_'. */
export function instanceNameFor(userId: string): string {
  return userId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80) || 'node-red';
}
