/**
 * Sends a spool's records, oldest first, through any transport that can "send these records and
 * say which were acknowledged" (`Deliver`), and removes each record only after its acknowledgement.
 * One batch at a time, so the order on the wire is the spool's order.
 */
import type { Spool } from './spool';

/** The outcome of one record: acknowledged, or failed (`retry`: worth sending again later; otherwise it never will be). */
export type Delivery = { ok: true } | { ok: false; error: Error; retry: boolean };

/** Sends the records (in order) and answers one Delivery per record, in the same order. Must not reject. */
export type Deliver = (records: Buffer[]) => Promise<Delivery[]>;

export interface DrainerDeps {
  spool: Spool;
  deliver: Deliver;
  /** Whether the transport is worth trying now (e.g. the session is ready). */
  canSend(): boolean;
  /** A record the transport refused for good (it is removed: it would block every record behind it). */
  onRejected(record: Buffer, error: Error): void;
  /** A transient failure (of the transport or of the disk); the drain is tried again after a backoff. */
  onRetry(error: Error, delayMs: number): void;
  /** After every removal (depth changed). */
  onProgress(): void;
  batchRecords?: number;
  batchBytes?: number;
}

const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 10_000;
const DEFAULT_BATCH_RECORDS = 500;
const DEFAULT_BATCH_BYTES = 1024 * 1024;

export class Drainer {
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private stopped = false;

  constructor(private readonly deps: DrainerDeps) {}

  /** True while a batch is being read, sent or removed. */
  get active(): boolean {
    return this.running !== undefined;
  }

  /** Starts draining now if there is something to send and the transport is ready (no-op while draining). */
  kick(): void {
    if (this.stopped || this.running || !this.deps.canSend() || this.deps.spool.depth === 0) return;
    this.clearRetry();
    this.running = this.run().finally(() => {
      this.running = undefined;
      // Records that became durable while the last batch was out.
      if (this.retryTimer === undefined) this.kick();
    });
  }

  /** No new batches; waits for the one in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearRetry();
    await this.running;
  }

  private async run(): Promise<void> {
    const { spool } = this.deps;
    while (!this.stopped && spool.depth > 0 && this.deps.canSend()) {
      let failure: Error | undefined;
      try {
        const records = await spool.read(this.deps.batchRecords ?? DEFAULT_BATCH_RECORDS, this.deps.batchBytes ?? DEFAULT_BATCH_BYTES);
        const results = await this.deps.deliver(records);
        let settled = 0;
        for (const result of results) {
          if (!result.ok && result.retry) {
            failure = result.error;
            break;
          }
          if (!result.ok) this.deps.onRejected(records[settled], result.error);
          settled += 1;
        }
        await spool.remove(settled);
        if (settled > 0) this.deps.onProgress();
        if (!failure && settled < records.length) failure = new Error(`the transport answered ${results.length} of ${records.length} records`);
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      }
      if (failure) {
        this.scheduleRetry(failure);
        return;
      }
      this.retryDelayMs = 0;
    }
  }

  private scheduleRetry(error: Error): void {
    if (this.stopped) return;
    this.retryDelayMs = Math.min(RETRY_MAX_MS, Math.max(RETRY_FIRST_MS, this.retryDelayMs * 2));
    this.deps.onRetry(error, this.retryDelayMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.retryDelayMs);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
