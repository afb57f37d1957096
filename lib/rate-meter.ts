/**
 * Events per second for a live status: `mark()` is one integer addition on the hot path; the
 * rate is worked out only when someone looks (`sample()`, about once a second), from the events
 * counted since the previous sample. The last samples are kept for a sparkline.
 */

export interface RateSample {
  /** Milliseconds since the epoch. */
  at: number;
  /** Events per second since the previous sample. */
  rate: number;
}

export class RateMeter {
  private count = 0;
  private sampledCount = 0;
  private sampledAt: number;
  private readonly samples: RateSample[] = [];

  constructor(
    private readonly keep = 60,
    private readonly now: () => number = Date.now,
  ) {
    this.sampledAt = now();
  }

  mark(events = 1): void {
    this.count += events;
  }

  /** Events counted since the meter started. */
  get total(): number {
    return this.count;
  }

  /** The rate since the previous sample (0 when no time passed), kept in the history. */
  sample(): RateSample {
    const at = this.now();
    const elapsed = at - this.sampledAt;
    const rate = elapsed > 0 ? ((this.count - this.sampledCount) * 1000) / elapsed : 0;
    this.sampledAt = at;
    this.sampledCount = this.count;
    const sample = { at, rate };
    this.samples.push(sample);
    if (this.samples.length > this.keep) this.samples.shift();
    return sample;
  }

  /** The last samples, oldest first. */
  history(): readonly RateSample[] {
    return this.samples;
  }
}

/** A rate as a status shows it: whole numbers, thousands as `12.3k`. */
export function formatRate(rate: number): string {
  if (!Number.isFinite(rate) || rate < 0) return '0';
  if (rate >= 9_999.5) return `${(rate / 1000).toFixed(rate >= 99_950 ? 0 : 1)}k`;
  if (rate > 0 && rate < 1) return rate.toFixed(1);
  return String(Math.round(rate));
}
