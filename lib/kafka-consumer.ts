/**
 * One consumer per diaspora-in node. Delivery waits for onMessage (back-pressure: at most
 * `concurrency` messages in flight), auto mode commits after onMessage resolves, manual mode
 * commits what the caller says. A crash is reported and followed by a restart with backoff
 * (kafkajs's own restart is turned off so that there is exactly one restart loop: this one).
 */
import type { Consumer, EachMessagePayload, IHeaders } from 'kafkajs';
import type {
  ConnectionSettings,
  ConnectionStatus,
  ConsumedMessage,
  ConsumerCallbacks,
  ConsumerHandle,
  ConsumerOptions,
  ConsumerState,
} from './connection-types';
import { createKafkaClient, retryOptions, SocketTracker, type SocketRegistry } from './kafka-client';
import { checkTopicName, classifyKafkaError, hasErrorNamed, KafkaClientError, type KafkaErrorKind } from './kafka-errors';
import { withTimeout } from './with-timeout';

const FIRST_RESTART_DELAY_MS = 1000;
const MAX_RESTART_DELAY_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
/** While onMessage runs, heartbeat this often so a slow flow does not cost the group membership. */
const HANDLER_HEARTBEAT_MS = 3000;

export interface ManagedConsumerDeps {
  settings(): ConnectionSettings;
  registry: SocketRegistry;
  onStateChange(): void;
  onStopped(consumer: ManagedConsumer): void;
}

interface Running {
  consumer: Consumer;
  tracker: SocketTracker;
  generation: number;
}

export class ManagedConsumer implements ConsumerHandle {
  private topicList: string[];
  private current: Running | undefined;
  private generation = 0;
  private stopped = false;
  private isPaused = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelayMs = 0;
  private ops: Promise<void> = Promise.resolve();
  private assigned: Record<string, number[]> = {};
  private currentState: ConsumerState = 'connecting';
  private reason: string | undefined;
  private errorKind: KafkaErrorKind | undefined;
  private coordinatorRefusal: unknown;
  /** Heartbeat timers of onMessage calls in progress; stopped with the consumer even if a flow never finishes. */
  private readonly keepAlives = new Set<NodeJS.Timeout>();

  constructor(
    private readonly deps: ManagedConsumerDeps,
    readonly userId: string,
    private readonly opts: ConsumerOptions,
    private readonly onMessage: (m: ConsumedMessage) => Promise<void>,
    private readonly callbacks: ConsumerCallbacks = {},
  ) {
    if (typeof opts.groupId !== 'string' || opts.groupId.length === 0) {
      throw new KafkaClientError('other', 'a consumer group id is required');
    }
    this.topicList = [...new Set(opts.topics.map((t) => checkTopicName(t)))];
    this.background(() => this.start());
  }

  get state(): ConsumerState {
    return this.currentState;
  }

  /** For the manager's aggregated status. */
  get status(): ConnectionStatus {
    return this.currentState === 'error'
      ? { state: 'error', reason: this.reason, kind: this.errorKind }
      : { state: this.currentState, ...(this.reason !== undefined ? { reason: this.reason } : {}) };
  }

  get paused(): boolean {
    return this.isPaused;
  }

  get openConnections(): number {
    return this.current?.tracker.open ?? 0;
  }

  topics(): string[] {
    return [...this.topicList];
  }

  assignment(): Record<string, number[]> {
    return Object.fromEntries(Object.entries(this.assigned).map(([t, ps]) => [t, [...ps]]));
  }

  pause(): void {
    this.isPaused = true;
    this.applyPause();
  }

  resume(): void {
    this.isPaused = false;
    const consumer = this.current?.consumer;
    if (!consumer) return;
    try {
      consumer.resume(this.topicList.map((topic) => ({ topic })));
    } catch {
      // not running yet: the next start applies the flag
    }
  }

  async subscribe(topic: string): Promise<void> {
    const name = checkTopicName(topic);
    if (this.stopped) throw new KafkaClientError('closed', 'the consumer was stopped');
    if (this.topicList.includes(name)) return;
    this.topicList.push(name);
    await this.enqueue(() => this.restart());
  }

  async unsubscribe(topic: string): Promise<void> {
    if (this.stopped) throw new KafkaClientError('closed', 'the consumer was stopped');
    if (!this.topicList.includes(topic)) return;
    this.topicList = this.topicList.filter((t) => t !== topic);
    await this.enqueue(() => this.restart());
  }

  async commit(message: { topic: string; partition: number; offset: string | number }): Promise<void> {
    if (this.opts.autoCommit) {
      throw new KafkaClientError('other', 'this consumer commits automatically: manual commit needs commit mode "manual"');
    }
    const offset = String(message.offset);
    if (!/^\d+$/.test(offset) || !Number.isInteger(message.partition) || message.partition < 0) {
      throw new KafkaClientError(
        'other',
        `commit needs the topic, partition and offset of a received message (msg.diaspora), got partition ${String(message.partition)} offset ${offset}`,
      );
    }
    await this.ops; // a restart in progress (subscribe, new key) finishes first
    if (this.stopped) throw new KafkaClientError('closed', 'the consumer was stopped: the offset was not committed');
    const consumer = this.current?.consumer;
    if (!consumer) {
      throw new KafkaClientError('other', 'the consumer is not connected (it is restarting): the offset was not committed', {
        topic: message.topic,
      });
    }
    try {
      // Kafka's committed offset is the next one to read.
      await consumer.commitOffsets([
        { topic: message.topic, partition: message.partition, offset: (BigInt(offset) + 1n).toString() },
      ]);
    } catch (err) {
      throw classifyKafkaError(err, { topic: message.topic, groupId: this.opts.groupId });
    }
  }

  /** Leaves the group and disconnects; after `timeoutMs` the connections are destroyed instead. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
    this.stopped = true;
    this.clearRestart();
    const graceful = this.enqueue(async () => {
      await this.teardown(timeoutMs);
      this.setState('disconnected');
      this.deps.onStopped(this);
    });
    const outcome = await withTimeout(graceful, timeoutMs);
    if (!outcome.done) this.forceStop();
  }

  /** Used by the manager's close. */
  stopWithin(timeoutMs: number): Promise<void> {
    return this.stop(timeoutMs);
  }

  forceStop(): void {
    this.stopped = true;
    this.clearRestart();
    this.generation += 1;
    this.current?.tracker.close();
    this.current = undefined;
    this.stopKeepAlives();
    this.setState('disconnected');
    this.deps.onStopped(this);
  }

  /** New settings (a new key): reconnect with them, keeping subscriptions, pause state and group. */
  rebuild(): Promise<void> {
    return this.enqueue(() => this.restart());
  }

  /** Fire-and-forget: start() and fail() report their own errors. */
  private background(op: () => Promise<void>): void {
    this.enqueue(op).catch(() => undefined);
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.ops.then(op);
    this.ops = next.catch(() => undefined);
    return next;
  }

  private async restart(): Promise<void> {
    this.clearRestart();
    await this.teardown(STOP_TIMEOUT_MS);
    await this.start();
  }

  private async start(): Promise<void> {
    if (this.stopped) return;
    if (this.topicList.length === 0) {
      this.setState('disconnected', 'no topic subscribed');
      return;
    }
    const settings = this.deps.settings();
    const generation = ++this.generation;
    const tracker = new SocketTracker(this.deps.registry);
    this.coordinatorRefusal = undefined;
    const consumer = createKafkaClient(settings, tracker, {
      observeLog: (entry) => {
        // kafkajs reports only "Failed to find group coordinator"; the broker's reason is in this debug line.
        if (entry.message === 'Tried to find group coordinator' && entry.error !== undefined) this.coordinatorRefusal = entry.error;
      },
    }).consumer({
      groupId: this.opts.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1000,
      retry: { ...retryOptions(settings), restartOnFailure: async () => false },
    });
    this.current = { consumer, tracker, generation };
    this.assigned = {};
    const isCurrent = (): boolean => this.current?.generation === generation && !this.stopped;

    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      if (!isCurrent()) return;
      this.assigned = { ...event.payload.memberAssignment };
      if (this.isPaused) {
        // Before the first fetch, so a paused consumer stays paused across restarts; it will not
        // fetch, so it counts as connected now.
        this.applyPause();
        this.setState('connected');
      }
    });
    // Connected once the first fetch returned: offsets are resolved, so "latest" is fixed from here.
    consumer.on(consumer.events.FETCH, () => {
      if (!isCurrent() || this.currentState === 'connected') return;
      this.restartDelayMs = 0;
      this.setState('connected');
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (isCurrent()) this.background(() => this.fail(event.payload.error, generation));
    });

    this.setState('connecting');
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...this.topicList], fromBeginning: this.opts.fromBeginning });
      await consumer.run({
        autoCommit: this.opts.autoCommit,
        partitionsConsumedConcurrently: Math.max(1, this.opts.concurrency ?? 1),
        eachMessage: (payload) => this.deliver(payload),
      });
      if (this.isPaused) this.applyPause();
    } catch (err) {
      await this.fail(err, generation);
    }
  }

  private async deliver(payload: EachMessagePayload): Promise<void> {
    // Throwing (not returning) keeps kafkajs from marking the message consumed: it is redelivered.
    if (this.stopped) throw new KafkaClientError('closed', 'the consumer was stopped');
    const { topic, partition, message } = payload;
    const consumed: ConsumedMessage = {
      topic,
      partition,
      offset: message.offset,
      timestamp: Number(message.timestamp),
      key: message.key ?? null,
      value: message.value ?? null,
      headers: toBufferHeaders(message.headers),
    };
    const keepAlive = setInterval(() => {
      payload.heartbeat().catch(() => undefined);
    }, HANDLER_HEARTBEAT_MS);
    keepAlive.unref();
    this.keepAlives.add(keepAlive);
    try {
      await this.onMessage(consumed);
    } catch (err) {
      if (this.stopped) throw new KafkaClientError('closed', 'the consumer stopped before the event was processed');
      // The message counts as processed: redelivering it would loop on the same failure forever.
      const error =
        err instanceof KafkaClientError
          ? err
          : new KafkaClientError('other', `processing the event at ${topic} partition ${partition} offset ${message.offset} failed: ${(err as Error)?.message ?? String(err)}`, {
              topic,
              cause: err,
            });
      this.report(error, {});
    } finally {
      clearInterval(keepAlive);
      this.keepAlives.delete(keepAlive);
    }
    // Stopped while the flow had the event: not committed, so the group's next consumer gets it again.
    if (this.stopped) throw new KafkaClientError('closed', 'the consumer stopped before the flow finished with the event');
  }

  private async fail(err: unknown, generation: number): Promise<void> {
    if (this.stopped || generation !== this.generation) return;
    const cause = hasErrorNamed(err, 'KafkaJSGroupCoordinatorNotFound') && this.coordinatorRefusal !== undefined ? this.coordinatorRefusal : err;
    const error = classifyKafkaError(cause, {
      topics: this.topicList,
      groupId: this.opts.groupId,
      brokers: this.deps.settings().brokers,
    });
    await this.teardown(STOP_TIMEOUT_MS);
    if (this.stopped) return;
    this.restartDelayMs = Math.min(MAX_RESTART_DELAY_MS, Math.max(FIRST_RESTART_DELAY_MS, this.restartDelayMs * 2));
    this.setState('error', error.message, error.kind);
    this.report(error, { restartInMs: this.restartDelayMs });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.background(() => this.start());
    }, this.restartDelayMs);
  }

  private async teardown(timeoutMs: number): Promise<void> {
    const running = this.current;
    this.current = undefined;
    this.generation += 1;
    if (!running) return;
    try {
      await withTimeout(running.consumer.disconnect(), timeoutMs);
    } catch {
      // forced below
    }
    running.tracker.close();
    this.stopKeepAlives();
  }

  private stopKeepAlives(): void {
    for (const timer of this.keepAlives) clearInterval(timer);
    this.keepAlives.clear();
  }

  private applyPause(): void {
    const consumer = this.current?.consumer;
    if (!consumer) return;
    try {
      consumer.pause(this.topicList.map((topic) => ({ topic })));
    } catch {
      // not running yet: start() applies the flag once run() has returned
    }
  }

  private clearRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  private report(error: KafkaClientError, info: { restartInMs?: number }): void {
    try {
      this.callbacks.onError?.(error, info);
    } catch {
      // a throwing callback must not break the restart loop
    }
  }

  private setState(state: ConsumerState, reason?: string, kind?: KafkaErrorKind): void {
    if (state === this.currentState && reason === this.reason) return;
    this.currentState = state;
    this.reason = reason;
    this.errorKind = kind;
    try {
      this.callbacks.onStateChange?.(state, reason);
    } catch {
      // same as report()
    }
    this.deps.onStateChange();
  }
}

function toBufferHeaders(headers: IHeaders | undefined): Record<string, Buffer | Buffer[] | undefined> {
  const out: Record<string, Buffer | Buffer[] | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) out[name] = undefined;
    else if (Array.isArray(value)) out[name] = value.map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)));
    else out[name] = Buffer.isBuffer(value) ? value : Buffer.from(value);
  }
  return out;
}
