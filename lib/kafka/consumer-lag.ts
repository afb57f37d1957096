/**
 * How far a consumer group is behind: for each partition, the high watermark (the offset the next
 * event will get) minus the group's committed offset, summed. Polled at a modest interval, one
 * request at a time, so a slow or unreachable broker costs nothing but a stale answer.
 */

export interface PartitionOffsets {
  topic: string;
  partition: number;
  /** The high watermark. */
  high: number;
  /** The group's committed offset; negative when the group has committed nothing there yet. */
  committed: number;
}

/**
 * The events the group has not committed yet. A partition without a commit counts as 0: where
 * the group will start (earliest or latest) is not known from the offsets alone.
 */
export function lagOf(partitions: readonly PartitionOffsets[]): number {
  let lag = 0;
  for (const p of partitions) if (p.committed >= 0) lag += Math.max(0, p.high - p.committed);
  return lag;
}

export interface LagSample {
  at: number;
  lag: number;
}

export interface LagPollerOptions {
  /** Reads the offsets; undefined when there is nothing to ask about (not consuming). */
  read: () => Promise<readonly PartitionOffsets[]> | undefined;
  intervalMs?: number;
  /** How many samples to keep for a sparkline. */
  keep?: number;
  now?: () => number;
}

export const DEFAULT_LAG_INTERVAL_MS = 5_000;

export class LagPoller {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private latest: LagSample | undefined;
  private readonly samples: LagSample[] = [];
  private readonly intervalMs: number;
  private readonly keep: number;
  private readonly now: () => number;

  constructor(private readonly options: LagPollerOptions) {
    this.intervalMs = options.intervalMs ?? DEFAULT_LAG_INTERVAL_MS;
    this.keep = options.keep ?? 60;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
    void this.poll();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The last lag read, if it is recent (at most two intervals old); else undefined. */
  get lag(): number | undefined {
    if (!this.latest || this.now() - this.latest.at > 2 * this.intervalMs) return undefined;
    return this.latest.lag;
  }

  history(): readonly LagSample[] {
    return this.samples;
  }

  /** One reading; skipped while the previous one is still under way. Never throws. */
  async poll(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      // Inside the try: a reader that throws at once must not become an unhandled rejection.
      const reading = this.options.read();
      if (!reading) {
        this.latest = undefined;
        return;
      }
      const sample = { at: this.now(), lag: lagOf(await reading) };
      if (!this.timer) return; // stopped meanwhile
      this.latest = sample;
      this.samples.push(sample);
      if (this.samples.length > this.keep) this.samples.shift();
    } catch {
      // A stale lag shows as unknown; the consumer's own status reports broker trouble.
    } finally {
      this.inFlight = false;
    }
  }
}
