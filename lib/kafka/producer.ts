/**
 * The one shared producer of a connection manager. Records handed to `send` close together are
 * grouped per (acks, compression, topic) "lane" and go out as one kafkajs sendBatch; each caller's
 * promise settles with its own offset or its own classified error.
 *
 * One sendBatch per topic (not one for all topics): kafkajs reports a failure for the whole batch
 * without saying which topic caused it, and a batch partly appended before a failure cannot be
 * resent safely. Per topic, every caller of a batch shares the same fate, so each gets the truth.
 */
import { Partitioners, type Message, type Producer, type RecordMetadata as KafkaRecordMetadata } from 'kafkajs';
import type {
  Acks,
  ConnectionSettings,
  ConnectionStatus,
  OutRecord,
  ProducerHandle,
  RecordMetadata,
  SendCallback,
  SendOptions,
} from '../session/connection-types';
import { compressionType, type CompressionName } from './codecs';
import { createKafkaClient, retryOptions, SocketTracker, type SocketRegistry } from './client';
import { checkTopicName, classifyKafkaError, KafkaClientError, kafkaErrorType } from './errors';
import { withTimeout } from '../with-timeout';

const DEFAULTS = {
  idempotent: true,
  lingerMs: 0,
  maxBatchRecords: 500,
  maxBatchBytes: 256 * 1024,
  ackTimeoutMs: 30000,
};
/** Per-record overhead in a record batch (varints, attributes, deltas), for the size estimate. */
const RECORD_OVERHEAD_BYTES = 24;
const COMPRESSIONS: ReadonlySet<string> = new Set(['none', 'gzip', 'snappy', 'lz4']);

type SlotKind = 'idempotent' | 'plain';

interface Slot {
  kind: SlotKind;
  producer: Producer;
  tracker: SocketTracker;
  ready?: Promise<void>;
  retired: boolean;
}

interface Pending {
  message: Message;
  bytes: number;
  callback: SendCallback;
  /** Settle-once: a forced close may reject a record whose batch answers later. */
  settled: boolean;
}

function resolvePending(p: Pending, meta: RecordMetadata): void {
  if (p.settled) return;
  p.settled = true;
  answer(p.callback, null, meta);
}

function rejectPending(p: Pending, err: KafkaClientError): void {
  if (p.settled) return;
  p.settled = true;
  answer(p.callback, err);
}

/** A callback that throws must not keep the rest of its batch from being answered: its error is thrown again on its own. */
function answer(callback: SendCallback, err: Error | null, meta?: RecordMetadata): void {
  try {
    callback(err, meta);
  } catch (thrown) {
    process.nextTick(() => {
      throw thrown;
    });
  }
}

interface Lane {
  acks: Acks;
  compression: CompressionName;
  topic: string;
  waiting: Pending[];
  waitingBytes: number;
  busy: boolean;
  /** Taken out of the lane map (nothing waiting or in flight): a new event needs a new lane. */
  removed: boolean;
  timer?: NodeJS.Timeout;
  /** The flush planned for the next turn of the event loop (lingerMs 0). */
  immediate?: NodeJS.Immediate;
}

interface Placement {
  partition: number;
  exists: boolean;
  partitionCount: number;
}

/** Thrown inside a flush whose producer was replaced before anything was sent: the batch is requeued. */
class SlotRetired extends Error {}

export interface SharedProducerDeps {
  settings(): ConnectionSettings;
  registry: SocketRegistry;
  onStatus(status: ConnectionStatus): void;
}

export function closedError(): KafkaClientError {
  return new KafkaClientError(
    'closed',
    'the Kafka connection is closed (its config node was stopped, redeployed or removed): the event was not sent',
  );
}

export class SharedProducer {
  private readonly users = new Set<string>();
  private slots: Partial<Record<SlotKind, Slot>> = {};
  private readonly lanes = new Map<string, Lane>();
  /** The lane of the last event: a node's events mostly share one, so its key is not built per event. */
  private lastLane: Lane | undefined;
  private readonly runs = new Set<Promise<void>>();
  /** Records taken out of a lane and not answered yet. */
  private readonly batches = new Set<Pending[]>();
  private readonly sending = new Set<Promise<unknown>>();
  private barrier: Promise<void> = Promise.resolve();
  private readonly placements = new WeakMap<Message, Placement>();
  private tuned: typeof DEFAULTS = DEFAULTS;
  private tunedFor: ConnectionSettings | undefined;
  /** The last topic name that passed checkTopicName. */
  private checkedTopic: string | undefined;
  private closed = false;
  /** Set when the broker refused InitProducerId; cleared when new settings (a new key) arrive. */
  private idempotenceRefused = false;
  private status: ConnectionStatus = { state: 'disconnected' };
  sentBatches = 0;

  constructor(private readonly deps: SharedProducerDeps) {}

  get userCount(): number {
    return this.users.size;
  }

  get producerCount(): number {
    return Object.keys(this.slots).length;
  }

  get currentStatus(): ConnectionStatus {
    return this.status;
  }

  acquire(userId: string): ProducerHandle {
    if (this.closed) throw closedError();
    const first = this.users.size === 0;
    this.users.add(userId);
    if (first) this.connectInBackground();
    return {
      userId,
      send: (record, opts) =>
        this.users.has(userId) ? this.send(record, opts) : Promise.reject(closedError()),
      post: (record, opts, callback) => {
        if (this.users.has(userId)) this.post(record, opts, callback);
        else callback(closedError());
      },
    };
  }

  /** Sends what is queued, then disconnects when `userId` was the last user. */
  async release(userId: string, timeoutMs: number): Promise<void> {
    if (!this.users.delete(userId) || this.users.size > 0) return;
    await this.flushAndWait(timeoutMs / 2);
    if (this.users.size > 0 || this.closed) return;
    await this.retireSlots(timeoutMs / 2);
    if (this.users.size > 0) return;
    this.rejectWaiting(closedError());
    this.setStatus({ state: 'disconnected' });
  }

  /** New settings: finish in-flight batches on the old producer, then use a new one. */
  async rebuild(timeoutMs: number): Promise<void> {
    await this.retireSlots(timeoutMs);
    this.idempotenceRefused = false;
    if (this.closed) return;
    if (this.users.size > 0) this.connectInBackground();
    for (const lane of this.lanes.values()) this.flushLane(lane);
  }

  /** Sends what is queued (bounded), disconnects, and rejects whatever could not be sent. */
  async close(timeoutMs: number): Promise<void> {
    this.users.clear();
    await this.flushAndWait(timeoutMs / 2);
    this.closed = true;
    await this.retireSlots(timeoutMs / 2);
    this.forceClose();
  }

  /** Immediate: rejects everything pending and destroys the connections. */
  forceClose(): void {
    this.closed = true;
    this.rejectWaiting(closedError());
    for (const batch of this.batches) for (const p of batch) rejectPending(p, closedError());
    for (const slot of Object.values(this.slots)) {
      slot.retired = true;
      slot.tracker.close();
    }
    this.slots = {};
    this.setStatus({ state: 'disconnected' });
  }

  send(record: OutRecord, opts: SendOptions): Promise<RecordMetadata> {
    return new Promise<RecordMetadata>((resolve, reject) => {
      this.post(record, opts, (err, meta) => (err ? reject(err) : resolve(meta as RecordMetadata)));
    });
  }

  /**
   * Queues one record in its lane; `callback` hears its offset or its error once. A record that
   * cannot be sent as given (closed, bad value, options) is answered at once, before post returns.
   */
  post(record: OutRecord, opts: SendOptions, callback: SendCallback): void {
    let message: Message;
    let lane: Lane;
    try {
      if (this.closed) throw closedError();
      message = this.toMessage(record);
      lane = this.laneFor(checkOptions(opts), record.topic);
    } catch (err) {
      callback(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const bytes = estimateBytes(message);
    lane.waiting.push({ message, bytes, callback, settled: false });
    lane.waitingBytes += bytes;
    const tuning = this.tuning();
    if (lane.waiting.length >= tuning.maxBatchRecords || lane.waitingBytes >= tuning.maxBatchBytes) {
      this.flushLane(lane);
    } else if (!lane.timer && !lane.immediate && !lane.busy) {
      const target = lane;
      // lingerMs 0: at the next turn of the event loop, so events that arrive together (a burst,
      // or Node-RED delivering several messages in one turn) still share a batch, without waiting.
      // While a batch is in flight, the next one fills up anyway (flushLane after each send).
      if (tuning.lingerMs > 0) lane.timer = setTimeout(() => this.flushLane(target), tuning.lingerMs);
      else lane.immediate = setImmediate(() => this.flushLane(target));
    }
  }

  private laneFor({ acks, compression }: SendOptions, topic: string): Lane {
    const last = this.lastLane;
    if (last && !last.removed && last.topic === topic && last.acks === acks && last.compression === compression) return last;
    const key = `${acks}|${compression}|${topic}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { acks, compression, topic, waiting: [], waitingBytes: 0, busy: false, removed: false };
      this.lanes.set(key, lane);
    }
    this.lastLane = lane;
    return lane;
  }

  private toMessage(record: OutRecord): Message {
    // Events of a node mostly share one topic: check a name once, not per event.
    if (record.topic !== this.checkedTopic) {
      checkTopicName(record.topic);
      this.checkedTopic = record.topic;
    }
    if (record.value !== null && !Buffer.isBuffer(record.value)) {
      throw new KafkaClientError('other', 'the record value must be a Buffer or null: encode the payload with encodePayload', {
        topic: record.topic,
      });
    }
    if (record.key !== undefined && record.key !== null && !Buffer.isBuffer(record.key)) {
      throw new KafkaClientError('other', 'the record key must be a Buffer or null: encode it with encodeKey', {
        topic: record.topic,
      });
    }
    if (record.partition !== undefined && !(Number.isInteger(record.partition) && record.partition >= 0)) {
      throw new KafkaClientError(
        'invalid-partition',
        `msg.partition must be a whole number from 0, not ${String(record.partition)}`,
        { topic: record.topic },
      );
    }
    const timestamp = record.timestamp ?? Date.now();
    if (!Number.isFinite(timestamp) || timestamp < 0) {
      throw new KafkaClientError('other', `msg.timestamp must be milliseconds since 1970, not ${String(record.timestamp)}`, {
        topic: record.topic,
      });
    }
    return {
      value: record.value,
      key: record.key ?? null,
      headers: record.headers,
      partition: record.partition,
      timestamp: String(Math.trunc(timestamp)),
    };
  }

  /** Read for every event, so merged once per settings object (new settings always come as a new object). */
  private tuning(): typeof DEFAULTS {
    const settings = this.deps.settings();
    if (settings !== this.tunedFor) {
      this.tuned = { ...DEFAULTS, ...settings.producer };
      this.tunedFor = settings;
    }
    return this.tuned;
  }

  private flushLane(lane: Lane): void {
    clearLaneTimers(lane);
    if (lane.busy || lane.waiting.length === 0) return;
    const { maxBatchRecords, maxBatchBytes } = this.tuning();
    let count = 0;
    let bytes = 0;
    while (count < lane.waiting.length && count < maxBatchRecords) {
      const next = lane.waiting[count].bytes;
      if (count > 0 && bytes + next > maxBatchBytes) break;
      bytes += next;
      count += 1;
    }
    const batch = lane.waiting.splice(0, count);
    lane.waitingBytes -= bytes;
    lane.busy = true;
    this.batches.add(batch);
    const run: Promise<void> = this.sendBatch(lane, batch).finally(() => {
      lane.busy = false;
      this.batches.delete(batch);
      this.runs.delete(run);
      if (lane.waiting.length > 0) this.flushLane(lane);
      else this.removeLane(lane);
    });
    this.runs.add(run);
  }

  private async sendBatch(lane: Lane, batch: Pending[]): Promise<void> {
    let slot: Slot;
    try {
      slot = await this.readySlot(lane.acks);
    } catch (err) {
      if (err instanceof SlotRetired && !this.closed) {
        lane.waiting.unshift(...batch);
        lane.waitingBytes += batch.reduce((n, p) => n + p.bytes, 0);
        return;
      }
      this.fail(lane, batch, err instanceof SlotRetired ? closedError() : err);
      return;
    }
    try {
      this.sentBatches += 1;
      const sent = slot.producer.sendBatch({
        acks: lane.acks,
        timeout: this.tuning().ackTimeoutMs,
        compression: compressionType(lane.compression),
        topicMessages: [{ topic: lane.topic, messages: batch.map((p) => p.message) }],
      });
      this.sending.add(sent);
      let results: KafkaRecordMetadata[];
      try {
        results = await sent;
      } finally {
        this.sending.delete(sent);
      }
      this.settle(lane, batch, results);
      if (!this.closed) this.setStatus({ state: 'connected' });
    } catch (err) {
      if (slot.kind === 'idempotent' && classifyKafkaError(err).transient) this.discardSlot(slot);
      this.fail(lane, batch, err);
    }
  }

  /**
   * After a failed sendBatch kafkajs hands the same sequence numbers to the next batch. If the
   * broker did append the failed one (its answer was lost), a resend of other records under those
   * numbers is refused for good (OUT_OF_ORDER_SEQUENCE_NUMBER) or, with the same count, taken as a
   * duplicate and silently dropped. A new producer (new producer id) starts its numbers afresh.
   */
  private discardSlot(slot: Slot): void {
    if (slot.retired) return;
    slot.retired = true;
    if (this.slots[slot.kind] === slot) delete this.slots[slot.kind];
    const inFlight = [...this.sending];
    void Promise.allSettled(inFlight).then(() => this.closeSlot(slot, 2000));
  }

  private fail(lane: Lane, batch: Pending[], err: unknown): void {
    const error = classifyKafkaError(err, { topic: lane.topic, brokers: this.deps.settings().brokers });
    for (const p of batch) rejectPending(p, error);
    if (!this.closed && (error.kind === 'auth-failed' || error.transient)) {
      this.setStatus({ state: 'error', reason: error.message, kind: error.kind });
    }
  }

  /** Maps kafkajs's per-partition base offsets back to each record (base + index within the partition). */
  private settle(lane: Lane, batch: Pending[], results: KafkaRecordMetadata[]): void {
    const byPartition = new Map<number, Pending[]>();
    for (const p of batch) {
      const placement = this.placements.get(p.message);
      if (!placement) {
        rejectPending(p, new KafkaClientError('other', 'the Kafka client did not assign the event to a partition', { topic: lane.topic }));
        continue;
      }
      const list = byPartition.get(placement.partition) ?? [];
      list.push(p);
      byPartition.set(placement.partition, list);
    }
    for (const [partition, list] of byPartition) {
      const placement = this.placements.get(list[0].message) as Placement;
      if (!placement.exists) {
        const error = new KafkaClientError(
          'invalid-partition',
          `partition ${partition} does not exist in topic "${lane.topic}" (it has ${placement.partitionCount}: 0 to ${placement.partitionCount - 1})`,
          { topic: lane.topic },
        );
        for (const p of list) rejectPending(p, error);
        continue;
      }
      if (lane.acks === 0) {
        for (const p of list) resolvePending(p, { topic: lane.topic, partition, offset: '-1', timestamp: Number(p.message.timestamp) });
        continue;
      }
      const meta = results.find((r) => r.topicName === lane.topic && r.partition === partition);
      const base = meta?.baseOffset ?? meta?.offset;
      if (meta === undefined || base === undefined) {
        const error = new KafkaClientError('other', `the broker did not acknowledge partition ${partition} of "${lane.topic}"`, {
          topic: lane.topic,
        });
        for (const p of list) rejectPending(p, error);
        continue;
      }
      const appendTime = meta.logAppendTime !== undefined && meta.logAppendTime !== '-1' ? Number(meta.logAppendTime) : undefined;
      // Offsets fit a double for 285 years at a million events per second; BigInt only beyond that.
      const first = Number(base);
      const exact = Number.isSafeInteger(first + list.length);
      list.forEach((p, i) =>
        resolvePending(p, {
          topic: lane.topic,
          partition,
          offset: exact ? String(first + i) : (BigInt(base) + BigInt(i)).toString(),
          timestamp: appendTime ?? Number(p.message.timestamp),
        }),
      );
    }
  }

  private async passBarrier(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.barrier;
      await seen;
    } while (seen !== this.barrier);
  }

  private async readySlot(acks: Acks): Promise<Slot> {
    await this.passBarrier();
    if (this.closed) throw closedError();
    const kind: SlotKind = acks === -1 && this.tuning().idempotent && !this.idempotenceRefused ? 'idempotent' : 'plain';
    const slot = this.slots[kind] ?? this.createSlot(kind);
    if (!slot.ready) {
      if (this.status.state !== 'connected') this.setStatus({ state: 'connecting' });
      slot.ready = slot.producer.connect().catch((err: unknown) => {
        if (this.slots[kind] === slot) delete this.slots[kind];
        void this.closeSlot(slot, 2000);
        throw err;
      });
    }
    try {
      await slot.ready;
    } catch (err) {
      // A connect cut short because new settings replaced this producer is not the caller's failure.
      if (slot.retired) throw new SlotRetired();
      if (kind === 'idempotent' && kafkaErrorType(err) === 'CLUSTER_AUTHORIZATION_FAILED') {
        // The identity may not write idempotently (no WRITE on any topic yet, or a policy without
        // idempotent writes): a plain producer still works, and each send gets its own topic error.
        this.idempotenceRefused = true;
        this.deps.settings().logger?.warn('the broker refused an idempotent producer for this identity: using a plain producer');
        return this.readySlot(acks);
      }
      throw err;
    }
    if (slot.retired) throw new SlotRetired();
    return slot;
  }

  private createSlot(kind: SlotKind): Slot {
    const settings = this.deps.settings();
    const tracker = new SocketTracker(this.deps.registry);
    const kafka = createKafkaClient(settings, tracker);
    const producer = kafka.producer({
      idempotent: kind === 'idempotent',
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: retryOptions(settings),
      createPartitioner: () => {
        const inner = Partitioners.DefaultPartitioner();
        return (args) => {
          const partition = inner(args);
          this.placements.set(args.message, {
            partition,
            exists: args.partitionMetadata.some((m) => m.partitionId === partition),
            partitionCount: args.partitionMetadata.length,
          });
          return partition;
        };
      },
    });
    const slot: Slot = { kind, producer, tracker, retired: false };
    this.slots[kind] = slot;
    return slot;
  }

  private connectInBackground(): void {
    this.readySlot(-1).then(
      () => this.setStatus({ state: 'connected' }),
      (err: unknown) => {
        if (err instanceof SlotRetired || this.closed || this.users.size === 0) return;
        const error = classifyKafkaError(err, { brokers: this.deps.settings().brokers });
        this.setStatus({ state: 'error', reason: error.message, kind: error.kind });
      },
    );
  }

  private async flushAndWait(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const lane of this.lanes.values()) this.flushLane(lane);
      if (this.runs.size === 0) return;
      const left = deadline - Date.now();
      if (left <= 0) return;
      await withTimeout(Promise.allSettled([...this.runs]), left);
    }
  }

  /** Lets in-flight sendBatch calls finish (bounded), then disconnects and drops every producer. */
  private async retireSlots(timeoutMs: number): Promise<void> {
    const op = async (): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      await withTimeout(Promise.allSettled([...this.sending]), timeoutMs / 2);
      const old = Object.values(this.slots);
      this.slots = {};
      for (const slot of old) slot.retired = true;
      await Promise.all(old.map((slot) => this.closeSlot(slot, Math.max(0, deadline - Date.now()))));
    };
    this.barrier = this.barrier.then(op, op);
    await this.barrier;
  }

  private async closeSlot(slot: Slot, timeoutMs: number): Promise<void> {
    try {
      await withTimeout(slot.producer.disconnect(), timeoutMs);
    } catch {
      // a failed disconnect is forced below
    }
    slot.tracker.close();
  }

  private rejectWaiting(error: KafkaClientError): void {
    for (const lane of this.lanes.values()) {
      clearLaneTimers(lane);
      const waiting = lane.waiting.splice(0);
      lane.waitingBytes = 0;
      for (const p of waiting) rejectPending(p, error);
    }
    for (const lane of [...this.lanes.values()]) if (!lane.busy) this.removeLane(lane);
  }

  private removeLane(lane: Lane): void {
    lane.removed = true;
    this.lanes.delete(laneKey(lane));
  }

  private setStatus(status: ConnectionStatus): void {
    if (status.state === this.status.state && status.reason === this.status.reason) return;
    this.status = status;
    this.deps.onStatus(status);
  }
}

function clearLaneTimers(lane: Lane): void {
  if (lane.timer) clearTimeout(lane.timer);
  if (lane.immediate) clearImmediate(lane.immediate);
  lane.timer = undefined;
  lane.immediate = undefined;
}

function laneKey(lane: Lane): string {
  return `${lane.acks}|${lane.compression}|${lane.topic}`;
}

function checkOptions(opts: SendOptions): SendOptions {
  if (opts.acks !== -1 && opts.acks !== 1 && opts.acks !== 0) {
    throw new KafkaClientError('other', `acks must be -1 (all), 1 (leader) or 0 (none), not ${String(opts.acks)}`);
  }
  if (!COMPRESSIONS.has(opts.compression)) {
    throw new KafkaClientError('other', `compression must be none, gzip, snappy or lz4, not "${String(opts.compression)}"`);
  }
  return opts;
}

function estimateBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES;
  if (Buffer.isBuffer(message.value)) bytes += message.value.length;
  if (Buffer.isBuffer(message.key)) bytes += message.key.length;
  if (!message.headers) return bytes;
  for (const [name, value] of Object.entries(message.headers)) {
    bytes += Buffer.byteLength(name) + 8;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) if (v !== undefined) bytes += typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  }
  return bytes;
}
