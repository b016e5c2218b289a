/**
 * A log-linear latency histogram (HdrHistogram's idea, simplified): values in
 * microseconds, 128 sub-buckets per power of two, so any percentile is within
 * 1 % of the recorded value. Cheap to record into and to merge across processes.
 */
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
const MAX_EXP = 40;

export interface HistogramSnapshot {
  /** bucket index -> count, sparse */
  counts: Record<string, number>;
  total: number;
  min: number;
  max: number;
  sum: number;
}

export class Histogram {
  private counts = new Float64Array((MAX_EXP + 1) * SUB);
  total = 0;
  min = Infinity;
  max = 0;
  sum = 0;

  record(us: number): void {
    const v = us < 0 ? 0 : us;
    this.counts[indexOf(v)]!++;
    this.total++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.min = Infinity;
    this.max = 0;
    this.sum = 0;
  }

  merge(other: HistogramSnapshot): void {
    for (const [k, n] of Object.entries(other.counts)) this.counts[Number(k)]! += n;
    this.total += other.total;
    this.sum += other.sum;
    if (other.total > 0) {
      this.min = Math.min(this.min, other.min);
      this.max = Math.max(this.max, other.max);
    }
  }

  snapshot(): HistogramSnapshot {
    const counts: Record<string, number> = {};
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) counts[i] = this.counts[i]!;
    return { counts, total: this.total, min: this.total ? this.min : 0, max: this.max, sum: this.sum };
  }

  /** The value at percentile p (0..100), in microseconds. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    if (p >= 100) return this.max;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(valueOf(i), this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.total ? this.sum / this.total : 0;
  }

  static from(snapshot: HistogramSnapshot): Histogram {
    const h = new Histogram();
    h.merge(snapshot);
    return h;
  }
}

function indexOf(v: number): number {
  const n = Math.floor(v);
  if (n < SUB) return n;
  const exp = 31 - Math.clz32(n) - SUB_BITS + 1; // >= 1
  if (exp > MAX_EXP) return (MAX_EXP + 1) * SUB - 1;
  const mantissa = (n / 2 ** exp) | 0; // SUB/2 .. SUB-1
  return exp * SUB + mantissa;
}

/** The upper edge of a bucket. */
function valueOf(index: number): number {
  const exp = Math.floor(index / SUB);
  const mantissa = index % SUB;
  if (exp === 0) return mantissa;
  return (mantissa + 1) * 2 ** exp - 1;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

export function summarize(h: Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.total,
    p50Ms: ms(h.percentile(50)),
    p99Ms: ms(h.percentile(99)),
    p999Ms: ms(h.percentile(99.9)),
    maxMs: ms(h.max),
    meanMs: ms(h.mean()),
  };
}

/** The value at percentile p (0..100) of samples sorted ascending; undefined when there are none. */
export function sortedPercentile(sorted: ArrayLike<number>, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
