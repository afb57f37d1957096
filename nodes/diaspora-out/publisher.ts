/**
 * The send path of one diaspora-out node, free of Node-RED: straight to the shared producer when
 * the session is ready, otherwise a bounded queue (flushed in order on `ready`), the node's spool
 * on disk (drained in order on `ready`) or an immediate failure. Every event ends in exactly one
 * `settle` call; nothing is dropped silently.
 */
import type { Connections, OutRecord, ProducerHandle, RecordMetadata, SendOptions } from '../../lib/session/connection-types';
import { isKafkaClientError, type KafkaClientError } from '../../lib/kafka/errors';
import { isReady, isWorthWaiting } from '../../lib/session/machine';
import type { SessionState } from '../../lib/session/types';
import { Drainer, type Delivery } from '../../lib/spool/drain';
import { SpoolFullError, type Spool } from '../../lib/spool/spool';
import { withTimeout } from '../../lib/with-timeout';
import type { Substitutions } from '../shared/catalog';
import type { OutgoingEvent } from './record';
import { decodeSpooledEvent, encodeSpooledEvent } from './spooled-event';
import type { OutSettings } from './settings';

/**
 * Called once per event: with the broker's metadata, with the error to give to `done`, or (spool
 * mode) with neither once the event is durably in the spool.
 */
export type Settle = (err: Error | null, meta?: RecordMetadata) => void;

/** What the publisher needs of the session (DiasporaSession has it). */
export interface SessionView {
  readonly state: SessionState;
  readonly connections: Connections | undefined;
  on(event: 'state', listener: (state: SessionState) => void): unknown;
  off(event: 'state', listener: (state: SessionState) => void): unknown;
}

export interface PublisherDeps {
  session: SessionView;
  /** The Kafka name of a user-facing topic (config node's `kafkaTopic`). */
  kafkaTopic(topic: string): string;
  /** The producer user id (the node's id). */
  userId: string;
  settings: Pick<OutSettings, 'acks' | 'compression' | 'whenNotReady' | 'queueSize' | 'spoolSizeMB'>;
  /** Called after every change of the queue length, and on state changes while messages wait. */
  onQueue(length: number): void;
  /** Spool mode: the node's spool (opened by the publisher). */
  spool?: Spool;
  /** After every change of the spool (depth, size), or with the error the spool or its drain hit. */
  onSpool?(depth: number, bytes: number, problem?: Error): void;
  /** A spooled event the broker refused for good (e.g. too large): removed from the spool, reported here. */
  onSpoolRejected?(err: Error): void;
  t(key: string, subs?: Substitutions): string;
}

export class NotReadyError extends Error {
  override name = 'NotReadyError';
}

interface Queued {
  event: OutgoingEvent;
  settle: Settle;
  /** Arrival order, so events sent back to the queue after a failed send keep their place. */
  order: number;
}

/** After a send failed because the broker could not be reached, queued events are tried again this soon (doubling). */
const RESEND_FIRST_MS = 1_000;
const RESEND_MAX_MS = 10_000;

export class Publisher {
  private readonly queue: Queued[] = [];
  /** Settles of sends the broker has not answered yet (a bounded close waits for them). */
  private readonly inFlight = new Set<Settle>();
  /** close() waiting for the last in-flight send to be answered. */
  private onDrained: (() => void) | undefined;
  /** The same for every event of the node: made once. */
  private readonly sendOptions: SendOptions;
  private handle: ProducerHandle | undefined;
  private owner: Connections | undefined;
  private closed = false;
  private arrivals = 0;
  private resendTimer: NodeJS.Timeout | undefined;
  private resendDelayMs = 0;
  private readonly drainer: Drainer | undefined;
  /** Until the spool is open, what an earlier run left in it is unknown: events go through it. */
  private spoolOpen = false;
  /** The last spool problem (full, disk, drain); shown until an append or a delivery succeeds. */
  private spoolProblem: Error | undefined;

  constructor(private readonly deps: PublisherDeps) {
    this.sendOptions = { acks: deps.settings.acks, compression: deps.settings.compression };
    deps.session.on('state', this.onState);
    if (deps.session.state.state === 'ready') this.acquire();
    const spool = deps.spool;
    if (spool) {
      this.drainer = new Drainer({
        spool,
        deliver: (records) => this.deliverSpooled(records),
        canSend: () => !this.closed && isReady(this.deps.session.state),
        onRejected: (_record, err) => this.deps.onSpoolRejected?.(err),
        onRetry: (err) => this.spoolChanged(err),
        onProgress: () => {
          this.spoolProblem = undefined;
          this.spoolChanged();
        },
      });
      spool.open().then(
        () => {
          this.spoolOpen = true;
          this.spoolChanged();
          this.drainer?.kick();
        },
        (err: unknown) => this.spoolChanged(asError(err)),
      );
    }
  }

  get queued(): number {
    return this.queue.length;
  }

  get pending(): number {
    return this.inFlight.size;
  }

  publish(event: OutgoingEvent, settle: Settle): void {
    if (this.closed) {
      settle(new NotReadyError(this.deps.t('errors.closed-before-ready')));
      return;
    }
    const order = this.arrivals++;
    const state = this.deps.session.state;
    // Behind events waiting for a resend (or in the spool), a new one waits too: the order of a node's events is kept.
    if (isReady(state) && this.queue.length === 0 && this.spoolIdle()) {
      this.dispatch(event, settle, order);
      return;
    }
    if (this.deps.spool) {
      this.toSpool(this.deps.spool, event, settle);
      return;
    }
    if (this.deps.settings.whenNotReady === 'fail' || !isWorthWaiting(state)) {
      settle(this.notReady(state));
      return;
    }
    if (this.queue.length >= this.deps.settings.queueSize) {
      settle(new NotReadyError(this.deps.t('errors.queue-full', { size: this.deps.settings.queueSize, state: this.describe(state) })));
      return;
    }
    this.queue.push({ event, settle, order });
    this.deps.onQueue(this.queue.length);
  }

  /**
   * Fails what is queued, waits (at most `timeoutMs`) for the broker to answer what is in flight,
   * fails what it did not answer, then releases the shared producer. Never rejects.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.session.off('state', this.onState);
    this.stopResend();
    const deadline = Date.now() + timeoutMs;
    this.failQueue(new NotReadyError(this.deps.t('errors.closed-before-ready')));
    // What the drain has out stays in the spool unless the broker acknowledges it before this.
    if (this.drainer) await withTimeout(this.drainer.stop(), Math.max(0, deadline - Date.now()));
    if (this.inFlight.size > 0) {
      await withTimeout(new Promise<void>((resolve) => (this.onDrained = resolve)), Math.max(0, deadline - Date.now()));
      this.onDrained = undefined;
    }
    for (const settle of [...this.inFlight]) {
      this.inFlight.delete(settle);
      settle(new Error(this.deps.t('errors.closed-before-ack')));
    }
    const owner = this.owner;
    this.owner = undefined;
    this.handle = undefined;
    if (owner) {
      await withTimeout(
        owner.releaseProducer(this.deps.userId).catch(() => undefined),
        Math.max(0, deadline - Date.now()),
      );
    }
    // Appends already accepted finish (their messages hear the outcome); the files stay for the next start.
    if (this.deps.spool) await withTimeout(this.deps.spool.close(), Math.max(0, deadline - Date.now()));
  }

  private readonly onState = (state: SessionState): void => {
    if (this.closed) return;
    if (isReady(state)) {
      this.acquire();
      this.flush();
      this.drainer?.kick();
    } else if (!isWorthWaiting(state) && this.queue.length > 0) {
      this.failQueue(this.notReady(state));
    } else if (this.queue.length > 0) {
      this.deps.onQueue(this.queue.length);
    }
    this.spoolChanged();
  };

  /** Takes the shared producer of the session's current connection manager (it may have been replaced). */
  private acquire(): void {
    const manager = this.deps.session.connections;
    if (!manager || manager === this.owner) return;
    const previous = this.owner;
    this.handle = manager.acquireProducer(this.deps.userId);
    this.owner = manager;
    if (previous) void previous.releaseProducer(this.deps.userId).catch(() => undefined);
  }

  private flush(): void {
    this.stopResend();
    if (this.queue.length === 0) return;
    const waiting = this.queue.splice(0);
    for (const { event, settle, order } of waiting) this.dispatch(event, settle, order);
    this.deps.onQueue(0);
  }

  /**
   * Queue mode: an event whose send failed because the broker could not be reached or refused the
   * key goes back to the queue, in arrival order, instead of failing: it is sent when the session
   * is ready again (or, if the session has not noticed the outage, after a backoff).
   */
  private requeue(entry: Queued): void {
    let at = this.queue.length;
    while (at > 0 && this.queue[at - 1].order > entry.order) at -= 1;
    this.queue.splice(at, 0, entry);
    this.deps.onQueue(this.queue.length);
    if (isReady(this.deps.session.state) && !this.resendTimer) {
      this.resendDelayMs = Math.min(RESEND_MAX_MS, Math.max(RESEND_FIRST_MS, this.resendDelayMs * 2));
      this.resendTimer = setTimeout(() => {
        this.resendTimer = undefined;
        if (!this.closed && isReady(this.deps.session.state)) this.flush();
      }, this.resendDelayMs);
    }
  }

  private stopResend(): void {
    if (this.resendTimer) clearTimeout(this.resendTimer);
    this.resendTimer = undefined;
  }

  private failQueue(err: Error): void {
    if (this.queue.length === 0) return;
    const waiting = this.queue.splice(0);
    for (const { settle } of waiting) settle(err);
    this.deps.onQueue(0);
  }

  private dispatch(event: OutgoingEvent, settle: Settle, order: number): void {
    let topic: string;
    let handle: ProducerHandle;
    try {
      this.acquire();
      if (!this.handle) throw this.notReady(this.deps.session.state);
      handle = this.handle;
      topic = this.deps.kafkaTopic(event.topic);
    } catch (err) {
      settle(asError(err));
      return;
    }
    // In flight before post: the producer may answer before post returns.
    this.inFlight.add(settle);
    handle.post(outRecord(event, topic), this.sendOptions, (err, meta) => {
      if (!err) {
        this.resendDelayMs = 0;
        this.finish(settle, null, meta);
        return;
      }
      if (this.deps.spool && !this.closed && resendable(err) && this.leaveFlight(settle)) {
        this.toSpool(this.deps.spool, event, settle);
        return;
      }
      if (this.worthResending(err) && this.leaveFlight(settle)) {
        this.requeue({ event, settle, order });
        return;
      }
      this.finish(settle, this.actionable(err));
    });
  }

  /** False when a close already gave up on this send (and failed it). */
  private leaveFlight(settle: Settle): boolean {
    if (!this.inFlight.delete(settle)) return false;
    if (this.inFlight.size === 0) this.onDrained?.();
    return true;
  }

  /** Failures that end with the broker back or a new key, in queue mode. Others are the message's own. */
  private worthResending(err: unknown): boolean {
    return !this.closed && this.deps.settings.whenNotReady === 'queue' && resendable(err);
  }

  /** The spool path is idle: open, empty, nothing being written or drained. Only then may an event bypass it. */
  private spoolIdle(): boolean {
    const spool = this.deps.spool;
    if (!spool) return true;
    return this.spoolOpen && spool.depth === 0 && spool.appending === 0 && !this.drainer?.active;
  }

  /** Durable in the spool, then settled (no metadata: the broker has not seen it yet); the drain sends it. */
  private toSpool(spool: Spool, event: OutgoingEvent, settle: Settle): void {
    let record: Buffer;
    try {
      record = encodeSpooledEvent(event);
    } catch (err) {
      settle(asError(err));
      return;
    }
    spool.append(record).then(
      () => {
        settle(null);
        this.spoolProblem = undefined;
        this.spoolChanged();
        this.drainer?.kick();
      },
      (err: unknown) => {
        const error =
          err instanceof SpoolFullError
            ? new Error(this.deps.t('errors.spool-full', { size: this.deps.settings.spoolSizeMB, detail: err.message }), { cause: err })
            : new Error(this.deps.t('errors.spool-disk', { message: asError(err).message }), { cause: err });
        error.name = asError(err).name;
        settle(error);
        this.spoolChanged(error);
      },
    );
    this.spoolChanged();
  }

  private spoolChanged(problem?: Error): void {
    if (problem) this.spoolProblem = problem;
    const spool = this.deps.spool;
    if (spool && !this.closed) this.deps.onSpool?.(spool.depth + spool.appending, spool.bytes, this.spoolProblem);
  }

  /** The drain's transport: the shared producer. A record the broker can never take is refused for good; anything else is tried again. */
  private async deliverSpooled(records: Buffer[]): Promise<Delivery[]> {
    this.acquire();
    const handle = this.handle;
    if (!handle) {
      const error = this.notReady(this.deps.session.state);
      return records.map(() => ({ ok: false, error, retry: true }));
    }
    const options = this.sendOptions;
    return Promise.all(
      records.map(async (record): Promise<Delivery> => {
        let event: OutgoingEvent;
        let topic: string;
        try {
          event = decodeSpooledEvent(record);
          topic = this.deps.kafkaTopic(event.topic);
        } catch (err) {
          return { ok: false, error: asError(err), retry: false };
        }
        try {
          await handle.send(outRecord(event, topic), options);
          return { ok: true };
        } catch (err) {
          return { ok: false, error: this.actionable(err), retry: !refusedForGood(err) };
        }
      }),
    );
  }

  /** Settles once: a close that gave up on this send has already failed it. */
  private finish(settle: Settle, err: Error | null, meta?: RecordMetadata): void {
    if (!this.leaveFlight(settle)) return;
    settle(err, meta);
  }

  private actionable(err: unknown): Error {
    if (isKafkaClientError(err) && err.kind === 'auth-failed') {
      const wrapped = new Error(this.deps.t('errors.key-rejected', { message: err.message }), { cause: err });
      wrapped.name = err.name;
      return wrapped;
    }
    return asError(err);
  }

  private notReady(state: SessionState): NotReadyError {
    if (state.state === 'error' && state.reason === 'timed-out') {
      return new NotReadyError(this.deps.t('errors.not-ready-in-time', { detail: state.message ?? state.reason }));
    }
    return new NotReadyError(this.deps.t('errors.not-ready', { state: this.describe(state) }));
  }

  private describe(state: SessionState): string {
    switch (state.state) {
      case 'waiting-key':
        return this.deps.t('state.waiting-key', { seconds: state.waitingSeconds ?? 0 });
      case 'signin-required':
        return this.deps.t('state.signin-required');
      case 'error':
        return `${state.reason ?? 'error'}${state.message ? `: ${state.message}` : ''}`;
      default:
        return state.state;
    }
  }
}

function outRecord(event: OutgoingEvent, topic: string): OutRecord {
  // Absent fields stay absent (no spread of a temporary object per field).
  const record: OutRecord = { topic, value: event.value, key: event.key };
  if (event.headers) record.headers = event.headers;
  if (event.partition !== undefined) record.partition = event.partition;
  if (event.timestamp !== undefined) record.timestamp = event.timestamp;
  return record;
}

function resendable(err: unknown): boolean {
  return isKafkaClientError(err) && (err.transient || err.kind === 'auth-failed');
}

/** What the broker will refuse however often the record is sent: it must not block the spool behind it. */
const REFUSED_FOR_GOOD: ReadonlySet<KafkaClientError['kind']> = new Set(['too-large', 'invalid-topic', 'invalid-partition']);

function refusedForGood(err: unknown): boolean {
  return isKafkaClientError(err) && REFUSED_FOR_GOOD.has(err.kind);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
