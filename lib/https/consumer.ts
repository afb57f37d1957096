/**
 * One consumer over HTTPS (the Diaspora service's Confluent REST Proxy v2 routes), behind the same
 * ConsumerHandle as the Kafka consumer: a named instance in `<namespace>.<group>` (binary format,
 * no auto-commit), subscribed, long-poll fetches, and the instance deleted on stop. As in Kafka
 * mode, up to `window` events per partition are in the flow at once (the next fetch goes out while
 * they are), and the committed offset only advances over the finished prefix of each partition. An instance the service dropped (40403: idle, or the service
 * restarted) is created again with the same name and subscription; it resumes at the committed
 * offset, and the events that come a second time (already handed on) are counted and skipped.
 */
import type { ConsumedMessage, ConsumerCallbacks, ConsumerHandle, ConsumerOptions, ConsumerState } from '../session/connection-types';
import { CommitWindow, DEFAULT_WINDOW, type Ticket } from '../commits/window';
import { OffsetCommitter, type CommitSource, type CommittedOffset } from '../commits/offset-committer';
import { checkSameOrigin, REST_CODES, restRequest, RestError, type RestContext } from './http';
import { consumedRecord } from './records';
import { shortTopic } from './producer';

const V2_JSON = 'application/vnd.kafka.v2+json';
const BINARY_RECORDS = 'application/vnd.kafka.binary.v2+json';

/**
 * Finished offsets are committed in the background (one request at a time, coalesced) after this
 * many events or this long after the first of them, so an instance the service drops mid-batch
 * costs little fetched again.
 */
const COMMIT_PACING = { everyEvents: 100, maxDelayMs: 1_000 };
/** A full window is looked at again this often (pause and stop are checked in between). */
const FULL_WINDOW_WAIT_MS = 1_000;
/** max_bytes of one fetch when the node does not say: about 4,000 events of 1 KB. */
const DEFAULT_FETCH_BYTES = 4 * 1024 * 1024;

/** The service allows this many instances per user at once. */
export const INSTANCE_LIMIT = 4;

export interface RestConsumerOptions {
  ctx: RestContext;
  namespace: string;
  userId: string;
  /** The instance name: stable for the node, so a restart or redeploy finds (and replaces) its own. */
  instanceName: string;
  consumer: ConsumerOptions;
  onMessage: (m: ConsumedMessage) => Promise<void>;
  callbacks?: ConsumerCallbacks;
  /** Long-poll time of one fetch (default 5 s; the service caps it at 30 s). */
  fetchTimeoutMs?: number;
  /** max_bytes of one fetch (default 4 MiB). */
  maxBytes?: number;
  /** Wait after a failure before trying again (default 2 s, doubling to 30 s). */
  retryMs?: number;
  onStopped?: (consumer: RestConsumer) => void;
  log?: (message: string) => void;
}

interface Offset {
  topic: string;
  partition: number;
  offset: number;
}

/** The events of one topic-partition in the flow (topic without the namespace, as committed). */
interface PartitionFlow extends CommitSource {
  window: CommitWindow;
}

export class RestConsumer implements ConsumerHandle {
  readonly userId: string;
  private currentState: ConsumerState = 'connecting';
  private subscriptions: string[];
  private isPaused = false;
  private stopped = false;
  private baseUri: string | undefined;
  /** The subscription the current instance has (it may lag behind `subscriptions`). */
  private subscribedTo: string[] = [];
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private readonly loop: Promise<void>;
  /** Highest offset handed on, per topic-partition: what comes again after a re-creation is skipped. */
  private readonly delivered = new Map<string, number>();
  /** Processed but not committed yet (auto-commit), or asked for (manual) and refused until the next fetch. */
  private readonly toCommit = new Map<string, Offset>();
  /** Fetched records not handed on yet (the window was full, or the consumer paused mid-batch). */
  private held: ConsumedMessage[] = [];
  private readonly flows = new Map<string, PartitionFlow>();
  private readonly windowSize: number;
  private readonly committer: OffsetCommitter;
  /** Events the service sent a second time after an instance was re-created. */
  redelivered = 0;
  /** Instances created (the first one and each re-creation). */
  instancesCreated = 0;

  constructor(private readonly opts: RestConsumerOptions) {
    this.userId = opts.userId;
    this.subscriptions = [...new Set(opts.consumer.topics)];
    this.windowSize = opts.consumer.window ?? DEFAULT_WINDOW;
    this.committer = new OffsetCommitter((offsets) => this.commitFinished(offsets), (err) => this.commitFailed(err), COMMIT_PACING);
    this.loop = this.run();
  }

  get state(): ConsumerState {
    return this.currentState;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  topics(): string[] {
    return [...this.subscriptions];
  }

  assignment(): Record<string, number[]> {
    // Every Diaspora topic has the one partition 0; the group gives it to this instance.
    return Object.fromEntries(this.subscribedTo.map((t) => [`${this.opts.namespace}.${t}`, [0]]));
  }

  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
    this.wake?.();
  }

  async subscribe(topic: string): Promise<void> {
    shortTopic(topic, this.opts.namespace);
    if (!this.subscriptions.includes(topic)) this.subscriptions.push(topic);
    this.wake?.();
  }

  async unsubscribe(topic: string): Promise<void> {
    this.subscriptions = this.subscriptions.filter((t) => t !== topic);
    this.held = this.held.filter((m) => m.topic !== topic);
    this.wake?.();
  }

  async commit(message: { topic: string; partition: number; offset: string | number }): Promise<void> {
    const offset = { topic: shortTopic(message.topic, this.opts.namespace), partition: message.partition, offset: Number(message.offset) };
    this.remember(offset);
    await this.commitPending();
  }

  /**
   * Stops fetching at once (what completes from now on is not committed), commits what was
   * processed, and deletes the instance. Never rejects.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      // What finishes from now on is not committed: the finished prefixes are frozen.
      for (const flow of this.flows.values()) flow.window.close();
      this.abort.abort();
      this.wake?.();
    }
    const deadline = Date.now() + timeoutMs;
    await Promise.race([this.loop, sleep(timeoutMs)]);
    const remaining = (): number => Math.max(100, deadline - Date.now());
    if (this.baseUri) {
      const base = this.baseUri;
      await Promise.race([this.committer.flush(), sleep(remaining())]);
      this.committer.cancel();
      await this.commitPending(remaining()).catch(() => undefined);
      this.baseUri = undefined;
      await this.request({ method: 'DELETE', url: base, what: 'delete the consumer instance', timeoutMs: remaining() }).catch((err: unknown) => {
        if (!(err instanceof RestError && err.code === REST_CODES.instanceNotFound)) this.opts.log?.(`deleting the consumer instance: ${(err as Error).message}`);
      });
    }
    this.setState('disconnected');
    this.opts.onStopped?.(this);
  }

  private async run(): Promise<void> {
    let retryMs = this.opts.retryMs ?? 2_000;
    while (!this.stopped) {
      if (this.subscriptions.length === 0 || this.isPaused) {
        if (this.subscriptions.length === 0 && this.subscribedTo.length > 0 && this.baseUri) await this.resubscribe().catch(() => undefined);
        await this.idle();
        continue;
      }
      try {
        await this.ensureInstance();
        if (this.held.length === 0) {
          this.held = await this.fetch();
          // A fresh instance takes explicit offsets only once it has fetched (40903 before): try again.
          for (const flow of this.flows.values()) this.committer.advanced(flow, 0);
        }
        this.setState('connected');
        await this.handOn();
        retryMs = this.opts.retryMs ?? 2_000;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof RestError && err.code === REST_CODES.instanceNotFound) {
          this.baseUri = undefined;
          continue;
        }
        const error = err instanceof RestError ? err : new RestError('other', (err as Error).message, 0, 0, false);
        const limited = isInstanceLimit(error);
        const reported = limited ? instanceLimitError(error) : error;
        this.setState('error', reported.message);
        this.opts.callbacks?.onError?.(reported, { restartInMs: retryMs });
        await this.idle(retryMs);
        retryMs = Math.min(30_000, retryMs * 2);
      }
    }
  }

  /** Creates the instance (replacing a stale one of the same name) and subscribes it. */
  private async ensureInstance(): Promise<void> {
    if (this.baseUri) {
      if (!sameTopics(this.subscribedTo, this.wantedTopics())) await this.resubscribe();
      return;
    }
    const recreated = this.instancesCreated > 0;
    const group = encodeURIComponent(this.opts.consumer.groupId);
    const body = {
      name: this.opts.instanceName,
      format: 'binary',
      // A re-created instance resumes at the group's commit; where the group has none yet (the first
      // commit was still under way), from the beginning, and what was handed on already is skipped.
      'auto.offset.reset': this.opts.consumer.fromBeginning || this.delivered.size > 0 ? 'earliest' : 'latest',
      'auto.commit.enable': 'false',
    };
    const create = (): Promise<{ body: unknown }> =>
      this.request({ method: 'POST', url: `/api/v2/consumers/${group}`, body, contentType: V2_JSON, accept: V2_JSON, what: 'create a consumer instance' });
    let answer: { body: unknown };
    try {
      answer = await create();
    } catch (err) {
      if (!(err instanceof RestError && err.code === REST_CODES.instanceExists)) throw err;
      // Left over from a run that ended without deleting it (a crash): take its place.
      const stale = `/api/v2/consumers/${group}/instances/${encodeURIComponent(this.opts.instanceName)}`;
      await this.request({ method: 'DELETE', url: stale, what: 'delete the stale consumer instance' }).catch(() => undefined);
      answer = await create();
    }
    const given = (answer.body ?? {}) as { base_uri?: unknown };
    this.baseUri = checkSameOrigin(this.opts.ctx.baseUrl, given.base_uri);
    this.instancesCreated++;
    this.subscribedTo = [];
    await this.resubscribe();
    if (recreated) this.opts.log?.(`the service had dropped consumer instance "${this.opts.instanceName}"; it was created again and continues from the committed offset`);
  }

  private wantedTopics(): string[] {
    return this.subscriptions.map((t) => shortTopic(t, this.opts.namespace));
  }

  private async resubscribe(): Promise<void> {
    const base = this.baseUri;
    if (!base) return;
    const topics = this.wantedTopics();
    if (topics.length === 0) {
      await this.request({ method: 'DELETE', url: `${base}/subscription`, what: 'drop the subscription' });
    } else {
      await this.request({ method: 'POST', url: `${base}/subscription`, body: { topics }, contentType: V2_JSON, what: `subscribe to ${topics.join(', ')}` });
    }
    this.subscribedTo = topics;
  }

  private async fetch(): Promise<ConsumedMessage[]> {
    const base = this.baseUri;
    if (!base) return [];
    const timeout = Math.min(30_000, this.opts.fetchTimeoutMs ?? 5_000);
    const maxBytes = this.opts.maxBytes ?? DEFAULT_FETCH_BYTES;
    const answer = await this.request({
      method: 'GET',
      url: `${base}/records?timeout=${timeout}&max_bytes=${maxBytes}`,
      accept: BINARY_RECORDS,
      timeoutMs: timeout + 15_000,
      what: 'fetch records',
    });
    if (!Array.isArray(answer.body)) {
      if (answer.body === undefined) return [];
      throw new RestError('other', 'the Diaspora service answered a fetch without a list of records', answer.status, 0, false);
    }
    const records = answer.body.map((raw) => consumedRecord(raw, (t) => `${this.opts.namespace}.${t}`));
    const wanted = new Set(this.subscriptions);
    return records.filter((r) => wanted.has(r.topic));
  }

  /**
   * Hands the held records on in offset order without waiting for the flow, up to the window per
   * partition; returns when everything held is in the flow (or on pause or stop).
   */
  private async handOn(): Promise<void> {
    while (this.held.length > 0 && !this.stopped && !this.isPaused) {
      const record = this.held[0];
      const key = `${record.topic}\u0000${record.partition}`;
      const offset = Number(record.offset);
      const seen = this.delivered.get(key);
      if (seen !== undefined && offset <= seen) {
        this.held.shift();
        this.redelivered++;
        continue;
      }
      const flow = this.flowOf(key, record);
      if (flow.window.full) {
        // Woken once a quarter of the window is free; the loop checks pause and stop again.
        await flow.window.space(FULL_WINDOW_WAIT_MS);
        continue;
      }
      this.held.shift();
      this.delivered.set(key, offset);
      this.dispatch(flow, flow.window.admit(record.offset), record);
    }
  }

  private flowOf(key: string, record: ConsumedMessage): PartitionFlow {
    let flow = this.flows.get(key);
    if (!flow) {
      const window = new CommitWindow(this.windowSize);
      flow = {
        topic: shortTopic(record.topic, this.opts.namespace),
        partition: record.partition,
        window,
        get finishedThrough() {
          return window.finishedThrough;
        },
      };
      this.flows.set(key, flow);
    }
    return flow;
  }

  private dispatch(flow: PartitionFlow, ticket: Ticket, record: ConsumedMessage): void {
    const finished = (): void => {
      const advancedBy = flow.window.finish(ticket);
      if (advancedBy > 0 && this.opts.consumer.autoCommit) this.committer.advanced(flow, advancedBy);
    };
    let outcome: Promise<void>;
    try {
      outcome = this.opts.onMessage(record);
    } catch (err) {
      outcome = Promise.reject(err);
    }
    outcome.then(finished, (err: unknown) => {
      // Reported and counted as finished, as in Kafka mode: handing it on again would loop on the same failure.
      if (!flow.window.closed) this.opts.callbacks?.onError?.(processingError(err, record), {});
      finished();
    });
  }

  /** The committer's request: Kafka's next offsets, committed as the REST proxy's last processed ones. */
  private async commitFinished(offsets: CommittedOffset[]): Promise<void> {
    if (!this.baseUri) throw new RestError('other', 'no consumer instance to commit on', 0, REST_CODES.instanceNotFound, false);
    for (const o of offsets) this.remember({ topic: o.topic, partition: o.partition, offset: Number(o.offset) - 1 });
    await this.commitPending();
    // Refused for now (40903: a re-created instance that has not fetched yet): kept, and sent again after the next fetch.
    if (this.toCommit.size > 0) throw new RestError('other', 'the new consumer instance takes commits after its first fetch', 409, REST_CODES.noPartitionsYet, false);
  }

  /** A dropped instance (40403) is re-created by the fetch loop; a fresh one (40903) commits after its fetch. */
  private commitFailed(err: unknown): void {
    const code = err instanceof RestError ? err.code : 0;
    if (code !== REST_CODES.instanceNotFound && code !== REST_CODES.noPartitionsYet) this.opts.log?.(`committing offsets: ${(err as Error).message}`);
  }

  private remember(offset: Offset): void {
    const key = `${offset.topic}\u0000${offset.partition}`;
    const before = this.toCommit.get(key);
    if (!before || before.offset < offset.offset) this.toCommit.set(key, offset);
  }

  /** Commits the remembered offsets; a fresh instance that has no partitions yet (40903) gets them after its next fetch. */
  private async commitPending(timeoutMs?: number): Promise<void> {
    const base = this.baseUri;
    if (!base || this.toCommit.size === 0) return;
    const offsets = [...this.toCommit.values()];
    try {
      await this.request({
        method: 'POST',
        url: `${base}/offsets`,
        body: { offsets },
        contentType: V2_JSON,
        what: 'commit offsets',
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      });
    } catch (err) {
      if (err instanceof RestError && err.code === REST_CODES.noPartitionsYet) return;
      throw err;
    }
    for (const o of offsets) {
      const key = `${o.topic}\u0000${o.partition}`;
      if (this.toCommit.get(key) === o) this.toCommit.delete(key);
    }
  }

  private request(call: Parameters<typeof restRequest>[1]): Promise<{ status: number; body: unknown }> {
    // The final commit and delete run after the stop aborted the fetch: they get no abort signal.
    const signal = this.stopped ? undefined : this.abort.signal;
    return restRequest(this.opts.ctx, { ...call, ...(signal ? { signal } : {}) });
  }

  private idle(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done(): void {
        if (timer) clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
      if (this.stopped) done();
    });
  }

  private setState(state: ConsumerState, reason?: string): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.opts.callbacks?.onStateChange?.(state, reason);
  }
}

function sameTopics(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((t) => b.includes(t));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function processingError(err: unknown, record: ConsumedMessage): RestError {
  if (err instanceof RestError) return err;
  return new RestError('other', `processing the event at ${record.topic} partition ${record.partition} offset ${record.offset} failed: ${(err as Error)?.message ?? String(err)}`, 0, 0, false);
}

/** The service refused a new instance because the user already holds the most it allows. */
export function isInstanceLimit(err: RestError): boolean {
  return err.code === REST_CODES.instanceLimit;
}

function instanceLimitError(err: RestError): RestError {
  return new RestError(
    'instance-limit',
    `the Diaspora service allows ${INSTANCE_LIMIT} consumer instances per user and they are all in use (${err.code}): stop another HTTPS consumer (a diaspora-in node or an SDK RESTConsumer) of this identity`,
    err.status,
    err.code,
    false,
  );
}
