/**
 * Produces over HTTPS: records sent in the same turn of the event loop (and those arriving while
 * requests are in flight) go out together through `records:batch`, at most 500 entries per
 * request and several requests in flight; each record is settled by its own entry's outcome.
 */
import type { OutRecord, RecordMetadata } from '../session/connection-types';
import { DEFAULT_RETRY, restRequest, RestError, withRetries, type RestContext, type RetryPolicy } from './http';
import { restRecord, type RestRecord } from './records';
import type { KafkaErrorKind } from '../kafka/errors';

export const MAX_BATCH_ENTRIES = 500;

export interface RestProducerOptions {
  ctx: RestContext;
  /** The caller's namespace: Kafka names are `<namespace>.<topic>`. */
  namespace: string;
  /** Requests in flight at once (default 4). */
  maxInFlight?: number;
  /** Most entries per request (default and ceiling 500). */
  maxEntries?: number;
  /** Most bytes of record data per request (default 1 MiB); a larger record travels alone. */
  maxBytes?: number;
  retry?: RetryPolicy;
  /** Every request's outcome, for the connection status: undefined = it worked. */
  onOutcome?: (error: RestError | undefined) => void;
}

interface Pending {
  entry: RestRecord;
  size: number;
  resolve: (meta: RecordMetadata) => void;
  reject: (err: Error) => void;
}

/** Entry overhead in the body beyond its data (ids, type names, braces), for the byte budget. */
const ENTRY_OVERHEAD = 64;

export class RestProducer {
  private readonly queues = new Map<string, Pending[]>();
  private inFlight = 0;
  private readonly requests = new Set<Promise<void>>();
  private scheduled = false;
  private closed = false;
  private readonly maxInFlight: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  /** Batch requests made so far. */
  sentBatches = 0;

  constructor(private readonly opts: RestProducerOptions) {
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 4);
    this.maxEntries = Math.min(MAX_BATCH_ENTRIES, Math.max(1, opts.maxEntries ?? MAX_BATCH_ENTRIES));
    this.maxBytes = opts.maxBytes ?? 1024 * 1024;
  }

  /** Records waiting for a request, and requests under way. */
  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n + this.inFlight;
  }

  send(record: OutRecord): Promise<RecordMetadata> {
    if (this.closed) return Promise.reject(new RestError('closed', 'the HTTPS producer is closed', 0, 0, false));
    let entry: RestRecord;
    try {
      entry = restRecord(record);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise((resolve, reject) => {
      const size = ENTRY_OVERHEAD + String(entry.value?.data ?? '').length + String(entry.key?.data ?? '').length + JSON.stringify(entry.headers ?? []).length;
      const queue = this.queues.get(record.topic) ?? [];
      queue.push({ entry, size, resolve, reject });
      this.queues.set(record.topic, queue);
      this.schedule();
    });
  }

  /** Sends what is queued, waits for the requests (bounded), then fails whatever is left. */
  async close(timeoutMs: number): Promise<void> {
    this.pump();
    this.closed = true;
    const deadline = Date.now() + timeoutMs;
    while (this.requests.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.requests]), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
      this.pump();
    }
    const closed = new RestError('closed', 'the HTTPS producer closed before the service answered', 0, 0, false);
    for (const queue of this.queues.values()) for (const p of queue.splice(0)) p.reject(closed);
    this.queues.clear();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      const next = this.takeBatch();
      if (!next) return;
      this.inFlight++;
      const request = this.post(next.topic, next.batch).finally(() => {
        this.inFlight--;
        this.requests.delete(request);
        this.pump();
      });
      this.requests.add(request);
    }
  }

  /** The oldest topic's next batch, within the entry and byte limits. */
  private takeBatch(): { topic: string; batch: Pending[] } | undefined {
    for (const [topic, queue] of this.queues) {
      if (queue.length === 0) {
        this.queues.delete(topic);
        continue;
      }
      let bytes = 0;
      let count = 0;
      while (count < queue.length && count < this.maxEntries && (count === 0 || bytes + queue[count].size <= this.maxBytes)) {
        bytes += queue[count].size;
        count++;
      }
      const batch = queue.splice(0, count);
      // Round-robin between topics: this one goes to the back.
      this.queues.delete(topic);
      if (queue.length > 0) this.queues.set(topic, queue);
      return { topic, batch };
    }
    return undefined;
  }

  private async post(kafkaTopic: string, batch: Pending[]): Promise<void> {
    let answer: unknown;
    try {
      const topic = shortTopic(kafkaTopic, this.opts.namespace);
      const url = `/api/v3/${encodeURIComponent(this.opts.namespace)}/topics/${encodeURIComponent(topic)}/records:batch`;
      const body = { entries: batch.map((p, i) => ({ id: String(i), ...p.entry })) };
      this.sentBatches++;
      answer = (
        await withRetries(
          () => restRequest(this.opts.ctx, { method: 'POST', url, body, what: `produce to "${topic}"` }),
          { ...(this.opts.retry ?? DEFAULT_RETRY), stopped: () => false },
        )
      ).body;
      this.opts.onOutcome?.(undefined);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (err instanceof RestError) this.opts.onOutcome?.(err);
      for (const p of batch) p.reject(error);
      return;
    }
    settleEntries(kafkaTopic, batch, answer);
  }
}

function settleEntries(kafkaTopic: string, batch: Pending[], answer: unknown): void {
  const { successes, failures } = (answer ?? {}) as { successes?: unknown; failures?: unknown };
  const byId = new Map<string, { ok: true; meta: RecordMetadata } | { ok: false; error: RestError }>();
  if (Array.isArray(successes)) {
    for (const s of successes as Array<Record<string, unknown>>) {
      byId.set(String(s.id), {
        ok: true,
        meta: {
          topic: kafkaTopic,
          partition: typeof s.partition_id === 'number' ? s.partition_id : 0,
          offset: String(s.offset),
          timestamp: typeof s.timestamp === 'number' ? s.timestamp : Date.parse(String(s.timestamp)),
        },
      });
    }
  }
  if (Array.isArray(failures)) {
    for (const f of failures as Array<Record<string, unknown>>) {
      const code = typeof f.error_code === 'number' ? f.error_code : 0;
      const text = typeof f.message === 'string' ? f.message : '';
      byId.set(String(f.id), { ok: false, error: entryError(code, text, kafkaTopic) });
    }
  }
  batch.forEach((p, i) => {
    const outcome = byId.get(String(i));
    if (!outcome) p.reject(new RestError('other', 'the Diaspora service answered the batch without this event: it may or may not have been written', 207, 0, false));
    else if (outcome.ok) p.resolve(outcome.meta);
    else p.reject(outcome.error);
  });
}

/** A failed entry, with the service's code and message. */
function entryError(code: number, message: string, topic: string): RestError {
  const status = Math.floor(code / 100);
  const kind: KafkaErrorKind = status === 403 ? 'topic-not-authorized' : status === 404 ? 'unknown-topic' : status === 413 ? 'too-large' : 'other';
  return new RestError(kind, `the Diaspora service refused the event for "${topic}" (${code}${message ? `: ${message}` : ''})`, status, code, false);
}

/** `<namespace>.<topic>` → `<topic>`; a name outside the namespace cannot be produced to over HTTPS. */
export function shortTopic(kafkaTopic: string, namespace: string): string {
  const prefix = `${namespace}.`;
  if (!kafkaTopic.startsWith(prefix) || kafkaTopic.length === prefix.length) {
    throw new RestError('topic-not-authorized', `topic "${kafkaTopic}" is not in your namespace ${namespace}: over HTTPS only its topics can be used`, 0, 0, false);
  }
  return kafkaTopic.slice(prefix.length);
}
