import { Counters, LatencyHistogram, bucketOf, formatMs, formatStatsLine, median, ratePerSec, round, upperEdge } from './stats';

describe('LatencyHistogram', () => {
  it('is exact below 64 µs and within 1/64 above', () => {
    for (const v of [0, 1, 63, 64, 65, 100, 1_000, 12_345, 1e6, 3.7e9]) {
      const edge = upperEdge(bucketOf(v));
      expect(edge).toBeGreaterThan(v);
      expect(edge - v).toBeLessThanOrEqual(Math.max(1, v / 64) + 1e-9);
    }
  });

  it('has contiguous buckets', () => {
    for (let i = 64; i < 64 * 20; i++) expect(upperEdge(i - 1)).toBeLessThanOrEqual(upperEdge(i));
  });

  it('computes percentiles, max and mean', () => {
    const h = new LatencyHistogram();
    expect(h.percentile(99)).toBe(0);
    for (let i = 1; i <= 1_000; i++) h.record(i * 1_000); // 1 ms … 1000 ms
    expect(h.count).toBe(1_000);
    expect(h.max).toBe(1_000_000);
    expect(h.mean).toBeCloseTo(500_500, 0);
    const p50 = h.percentile(50);
    expect(p50).toBeGreaterThanOrEqual(500_000);
    expect(p50).toBeLessThanOrEqual(500_000 * (1 + 1 / 64));
    const p99 = h.percentile(99);
    expect(p99).toBeGreaterThanOrEqual(990_000);
    expect(p99).toBeLessThanOrEqual(990_000 * (1 + 1 / 64));
    expect(h.percentile(100)).toBe(1_000_000);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.max).toBe(0);
  });

  it('counts negative values (clock skew) as zero', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    expect(h.percentile(50)).toBe(0);
  });
});

describe('Stats line', () => {
  it('has upstream shape with rates over the interval and delta = expected - received', () => {
    const prev = { at: 0, sent: 100, recv: 90, expected: 100 };
    const now = { at: 10_000, sent: 1_100, recv: 1_050, expected: 1_100 };
    expect(formatStatsLine(prev, now)).toBe('Stats: sent=1100 (100/sec), recv=1050 (96/sec), delta=50');
  });

  it('appends latency when there is some', () => {
    const h = new LatencyHistogram();
    h.record(1_500);
    expect(formatStatsLine({ at: 0, sent: 0, recv: 0, expected: 0 }, { at: 1_000, sent: 1, recv: 1, expected: 1 }, h)).toMatch(
      /delta=0, latency p50=1\.5\dms p99=1\.5\dms max=1\.50ms$/,
    );
  });

  it('computes rates, medians and rounding', () => {
    expect(ratePerSec(50, 2_000)).toBe(25);
    expect(ratePerSec(50, 0)).toBe(0);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(round(123_456.7)).toBe(123_500);
    expect(round(0.0123456)).toBe(0.01235);
    expect(formatMs(420)).toBe('0.42ms');
    expect(formatMs(12_340)).toBe('12.3ms');
    expect(formatMs(1_534_000)).toBe('1534ms');
  });

  it('counts errors by code', () => {
    const c = new Counters();
    c.countError('x');
    c.countError('x');
    expect(Object.fromEntries(c.errors)).toEqual({ x: 2 });
  });
});
