/** Order statistics for benchmark rounds and latency samples. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(values: number[]): Summary {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const sorted = [...finite].sort((a, b) => a - b);
  return { median: medianOfSorted(sorted), min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

function medianOfSorted(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100) of an already sorted array. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function latencySummary(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i += 1) sum += sorted[i];
  return {
    count: sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p99: percentileOfSorted(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

/** Ratio of medians, and the range of the per-round (paired) ratios. */
export interface Ratio {
  ofMedians: number;
  pairedMin: number;
  pairedMax: number;
}

export function ratio(a: number[], b: number[]): Ratio {
  const paired: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i]) && b[i] !== 0) paired.push(a[i] / b[i]);
  }
  const p = summarize(paired);
  return { ofMedians: summarize(a).median / summarize(b).median, pairedMin: p.min, pairedMax: p.max };
}
