/**
 * One consumer per diaspora-in node. Each fetched batch is handed on event by event, in offset
 * order, without waiting for the previous one: up to `window` events per partition are in
 * onMessage at once (back-pressure beyond that). Auto mode commits, per partition, the end of
 * the contiguous prefix of events whose onMessage has resolved, so a stop or a rebalance
 * redelivers only what was not finished; manual mode commits what the caller says. A crash is
 * reported and followed by a restart with backoff (kafkajs's own restart is turned off so that
 * there is exactly one restart loop: this one).
 */
import type { Consumer, EachBatchPayload, IHeaders, KafkaMessage } from 'kafkajs';
import type {
  ConnectionSettings,
  ConnectionStatus,
  ConsumedMessage,
  ConsumerCallbacks,
  ConsumerHandle,
  ConsumerOptions,
  ConsumerState,
} from '../session/connection-types';
import { CommitWindow, DEFAULT_WINDOW, type Ticket } from '../commits/window';
import { createKafkaClient, retryOptions, SocketTracker, type SocketRegistry } from './client';
import { checkTopicName, classifyKafkaError, hasErrorNamed, KafkaClientError, type KafkaErrorKind } from './errors';
import { OffsetCommitter, type CommitPacing, type CommitSource } from '../commits/offset-committer';
import { withTimeout } from '../with-timeout';

const FIRST_RESTART_DELAY_MS = 1000;
const MAX_RESTART_DELAY_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
/**
 * The group's session: a member that has not sent a heartbeat for this long (a crashed Node-RED)
 * is dropped by the broker's coordinator, and its partitions go to the other members (or to its
 * restarted self) only then. A member that stops cleanly leaves the group at once.
 */
export const GROUP_SESSION_TIMEOUT_MS = 30_000;
/**
 * How often a member tells the coordinator it is alive, and learns of a rebalance; also while the
 * window is full, so a slow flow does not cost the group membership.
 */
export const GROUP_HEARTBEAT_INTERVAL_MS = 3000;

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
  committer: OffsetCommitter;
  /** The windows of the current group generation, by topic and partition. */
  windows: Map<string, Map<number, PartitionWindow>>;
}

/** One partition's events in the flow, and what of them is committed. */
class PartitionWindow implements CommitSource {
  readonly window: CommitWindow;

  constructor(
    readonly topic: string,
    readonly partition: number,
    capacity: number,
  ) {
    this.window = new CommitWindow(capacity);
  }

  get finishedThrough(): string | undefined {
    return this.window.finishedThrough;
  }
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
  private readonly windowSize: number;

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
    this.windowSize = opts.window ?? DEFAULT_WINDOW;
    if (!Number.isInteger(this.windowSize) || this.windowSize < 1) {
      throw new KafkaClientError('other', `the window must be a whole number of events of at least 1, not ${String(opts.window)}`);
    }
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
    // From here on nothing the flow finishes moves the committed offsets (the prefix is final).
    if (this.current) closeWindows(this.current);
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
    if (this.current) closeWindows(this.current);
    this.current?.tracker.close();
    this.current = undefined;
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
      sessionTimeout: GROUP_SESSION_TIMEOUT_MS,
      heartbeatInterval: GROUP_HEARTBEAT_INTERVAL_MS,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1000,
      retry: { ...retryOptions(settings), restartOnFailure: async () => false },
    });
    const committer = new OffsetCommitter(
      async (offsets) => {
        await consumer.commitOffsets(offsets);
      },
      (err) => {
        // Rebalances and restarts commit again from the finished prefix; a lost authorization also
        // fails the fetches, and that crash is reported (with the restart). The rest is reported here.
        if (!isCurrent() || isGroupChange(err)) return;
        const error = classifyKafkaError(err, { topics: this.topicList, groupId: this.opts.groupId });
        if (error.kind !== 'topic-not-authorized' && error.kind !== 'group-not-authorized') this.report(error, {});
      },
      commitPacing(this.windowSize),
    );
    const running: Running = { consumer, tracker, generation, committer, windows: new Map() };
    this.current = running;
    this.assigned = {};
    const isCurrent = (): boolean => this.current?.generation === generation && !this.stopped;

    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      if (!isCurrent()) return;
      // A new generation fetches from the committed offsets: the events still in the old windows
      // come again, and their late finishes must not move the new generation's commits.
      closeWindows(running);
      running.windows = new Map();
      committer.forget();
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
        // Auto mode commits the finished prefix itself (kafkajs would commit what was fetched).
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, this.opts.concurrency ?? 1),
        eachBatch: (payload) => this.deliverBatch(payload, running, isCurrent),
      });
      if (this.isPaused) this.applyPause();
    } catch (err) {
      await this.fail(err, generation);
    }
  }

  /** Hands the batch on in offset order, waiting only while the partition's window is full. */
  private async deliverBatch(payload: EachBatchPayload, running: Running, isCurrent: () => boolean): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const flow = partitionWindow(running, batch.topic, batch.partition, this.windowSize);
    const { window } = flow;
    for (const message of batch.messages) {
      // Paused: the rest of the batch is fetched again on resume, as kafkajs's eachMessage does.
      if (this.isPaused || window.closed || !isCurrent() || !isRunning() || isStale()) return;
      if (window.full && !(await this.waitForSpace(window, heartbeat))) return;
      if (window.closed || !isCurrent()) return;
      const ticket = window.admit(message.offset);
      // The fetch position moves on; the committed offset moves only with the finished prefix.
      resolveOffset(message.offset);
      this.dispatch(flow, ticket, running.committer, toConsumed(batch.topic, batch.partition, message));
    }
  }

  /** True once there is room; false when the batch should end (stopped, closed, rebalancing). */
  private async waitForSpace(window: CommitWindow, heartbeat: () => Promise<void>): Promise<boolean> {
    for (;;) {
      if (await window.space(GROUP_HEARTBEAT_INTERVAL_MS)) return true;
      if (window.closed || this.stopped) return false;
      try {
        await heartbeat();
      } catch {
        // A rebalance: the rest of the batch is fetched again by whoever gets the partition.
        return false;
      }
    }
  }

  private dispatch(flow: PartitionWindow, ticket: Ticket, committer: OffsetCommitter, consumed: ConsumedMessage): void {
    const finished = (): void => {
      const advancedBy = flow.window.finish(ticket);
      if (advancedBy > 0 && this.opts.autoCommit) committer.advanced(flow, advancedBy);
    };
    let outcome: Promise<void>;
    try {
      outcome = this.onMessage(consumed);
    } catch (err) {
      outcome = Promise.reject(err);
    }
    outcome.then(finished, (err: unknown) => {
      // Counted as finished: redelivering it would loop on the same failure forever.
      if (!flow.window.closed) this.processingFailed(err, consumed);
      finished();
    });
  }

  private processingFailed(err: unknown, consumed: ConsumedMessage): void {
    const { topic, partition, offset } = consumed;
    const error =
      err instanceof KafkaClientError
        ? err
        : new KafkaClientError('other', `processing the event at ${topic} partition ${partition} offset ${offset} failed: ${(err as Error)?.message ?? String(err)}`, {
            topic,
            cause: err,
          });
    this.report(error, {});
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
    closeWindows(running);
    // Commit the finished prefix while the consumer is still a member of the group.
    if (this.opts.autoCommit) await withTimeout(running.committer.flush(), timeoutMs);
    try {
      await withTimeout(running.consumer.disconnect(), timeoutMs);
    } catch {
      // forced below
    }
    running.tracker.close();
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

function partitionWindow(running: Running, topic: string, partition: number, capacity: number): PartitionWindow {
  let byPartition = running.windows.get(topic);
  if (!byPartition) {
    byPartition = new Map();
    running.windows.set(topic, byPartition);
  }
  let flow = byPartition.get(partition);
  if (!flow) {
    flow = new PartitionWindow(topic, partition, capacity);
    byPartition.set(partition, flow);
  }
  return flow;
}

/**
 * Half a window of finished events (at least COMMIT_EVERY_MIN), or COMMIT_DELAY_MS after the first
 * of them: a fast flow commits a few times per window, a slow one within a moment.
 */
const COMMIT_EVERY_MIN = 32;
const COMMIT_DELAY_MS = 100;

export function commitPacing(window: number): CommitPacing {
  return { everyEvents: Math.max(COMMIT_EVERY_MIN, Math.ceil(window / 2)), maxDelayMs: COMMIT_DELAY_MS };
}

/** The group moved on (rebalance, new coordinator): the next generation commits again. */
const GROUP_CHANGES = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP', 'COORDINATOR_NOT_AVAILABLE']);

function isGroupChange(err: unknown): boolean {
  const type = (err as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' && GROUP_CHANGES.has(type);
}

function closeWindows(running: Running): void {
  running.committer.cancel();
  for (const byPartition of running.windows.values()) for (const flow of byPartition.values()) flow.window.close();
}

function toConsumed(topic: string, partition: number, message: KafkaMessage): ConsumedMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key ?? null,
    value: message.value ?? null,
    headers: toBufferHeaders(message.headers),
  };
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
