// Counters, the latency histogram and the arithmetic behind the Stats lines and the summary.

/** Sub-buckets per power of two: relative error of a recorded value below 1/64 ≈ 1.6 %. */
const SUB_BUCKETS = 64;
/** Values are recorded in microseconds; 2^36 µs ≈ 19 hours is the largest bucket. */
const MAX_EXPONENT = 36;

/**
 * Log-linear latency histogram (HdrHistogram's idea, fixed precision): bounded memory however
 * many values are recorded. Values in microseconds; percentiles are reported as the upper edge
 * of the bucket (capped at the exact maximum).
 */
export class LatencyHistogram {
  readonly #counts = new Float64Array((MAX_EXPONENT + 1) * SUB_BUCKETS);
  #count = 0;
  #max = 0;
  #sum = 0;

  /** Number of recorded values. */
  get count(): number {
    return this.#count;
  }

  /** Largest recorded value (exact), 0 when empty. */
  get max(): number {
    return this.#max;
  }

  /** Mean of the recorded values, 0 when empty. */
  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /** Records one value in microseconds (negative values count as 0). */
  record(us: number): void {
    const v = us > 0 ? us : 0;
    this.#counts[bucketOf(v)]! += 1;
    this.#count++;
    this.#sum += v;
    if (v > this.#max) this.#max = v;
  }

  /** The value below which `p` percent of the recorded values lie (upper bucket edge), 0 when empty. */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(upperEdge(i), this.#max);
    }
    return this.#max;
  }

  /** Forgets everything recorded. */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#max = 0;
    this.#sum = 0;
  }
}

/** Bucket index of a value: exact below SUB_BUCKETS, then SUB_BUCKETS linear steps per power of two. */
export function bucketOf(v: number): number {
  if (v < SUB_BUCKETS) return Math.floor(v);
  const exp = Math.floor(Math.log2(v)) - 5; // 2^6 = SUB_BUCKETS starts exponent 1
  if (exp > MAX_EXPONENT) return (MAX_EXPONENT + 1) * SUB_BUCKETS - 1;
  const base = 2 ** (exp + 5);
  const sub = Math.floor(((v - base) / base) * SUB_BUCKETS);
  return exp * SUB_BUCKETS + Math.min(sub, SUB_BUCKETS - 1);
}

/** Upper edge (exclusive) of a bucket. */
export function upperEdge(index: number): number {
  if (index < SUB_BUCKETS) return index + 1;
  const exp = Math.floor(index / SUB_BUCKETS);
  const sub = index % SUB_BUCKETS;
  const base = 2 ** (exp + 5);
  return base + ((sub + 1) * base) / SUB_BUCKETS;
}

/** Global counters of a run (one process, so plain numbers). */
export class Counters {
  /** Messages sent (a room message counts once). */
  sent = 0;
  /** Deliveries received (a room message counts once per receiver). */
  recv = 0;
  /** Deliveries expected for what was sent (sent × receivers per message). */
  expected = 0;
  /** Errors received from the server, by code. */
  readonly errors = new Map<string, number>();
  /** Messages not sent because the client's socket was backed up (fixed-rate scenarios). */
  skipped = 0;

  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}

/** Snapshot of the counters for interval arithmetic. */
export interface CounterSnapshot {
  at: number;
  sent: number;
  recv: number;
  expected: number;
}

/** Per-second rate between two snapshots (0 for an empty interval). */
export function ratePerSec(count: number, ms: number): number {
  return ms <= 0 ? 0 : (count * 1_000) / ms;
}

/**
 * Upstream's line `Stats: sent=<total> (<per sec>/sec), recv=<total> (<per sec>/sec), delta=<…>`
 * with rates over the last interval. `delta` is deliveries expected minus received (for session
 * messages that is upstream's sent − recv). Latency percentiles of the interval are appended.
 */
export function formatStatsLine(prev: CounterSnapshot, now: CounterSnapshot, latency?: LatencyHistogram): string {
  const ms = now.at - prev.at;
  const sentRate = Math.round(ratePerSec(now.sent - prev.sent, ms));
  const recvRate = Math.round(ratePerSec(now.recv - prev.recv, ms));
  let line = `Stats: sent=${now.sent} (${sentRate}/sec), recv=${now.recv} (${recvRate}/sec), delta=${now.expected - now.recv}`;
  if (latency !== undefined && latency.count > 0) {
    line += `, latency p50=${formatMs(latency.percentile(50))} p99=${formatMs(latency.percentile(99))} max=${formatMs(latency.max)}`;
  }
  return line;
}

/** Microseconds as a short millisecond string (`0.42ms`, `12.3ms`, `1534ms`). */
export function formatMs(us: number): string {
  const ms = us / 1_000;
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 100) return `${ms.toFixed(1)}ms`;
  return `${Math.round(ms)}ms`;
}

/** Median of a list (mean of the two middle values for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Rounds to `digits` significant digits (for the JSON summary). */
export function round(value: number, digits = 4): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(value))));
  return Math.round(value * scale) / scale;
}
