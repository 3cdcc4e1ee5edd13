import type { MemorySample } from '../memory-probe';
import { judgeGrowth } from './growth-check';

const limits = { warmupMs: 60_000, maxGrowthMiB: 32 };

/** One sample every 10 s for `minutes`, RSS and heap from the given functions of the minute. */
function series(minutes: number, rss: (m: number, i: number) => number, heap?: (m: number, i: number) => number): MemorySample[] {
  const out: MemorySample[] = [];
  for (let i = 0; i <= minutes * 6; i++) {
    const m = i / 6;
    out.push({ atMs: i * 10_000, rssMiB: rss(m, i), ...(heap ? { heapMiB: heap(m, i) } : {}) });
  }
  return out;
}

describe('judgeGrowth', () => {
  it('passes a level that saw-tooths around a constant after a warm-up climb', () => {
    const s = series(30, (m, i) => (m < 1 ? 60 + m * 40 : 100 + (i % 5) * 6), (_m, i) => 30 + (i % 4) * 5);
    const v = judgeGrowth(s, limits);
    expect(v).toMatchObject({ judged: true, growing: false, reason: 'memory level stable' });
    expect(Math.abs(v.rssGrowthMiB!)).toBeLessThan(5);
  });

  it('fails a steady RSS climb of 2 MiB a minute', () => {
    const v = judgeGrowth(series(30, (m) => 100 + 2 * m), limits);
    expect(v.growing).toBe(true);
    expect(v.rssGrowthMiB).toBeGreaterThan(32);
    expect(v.reason).toMatch(/RSS level rose/);
  });

  it('fails a heap that keeps growing while RSS looks flat', () => {
    const v = judgeGrowth(series(30, () => 200, (m) => 40 + m), limits);
    expect(v.growing).toBe(true);
    expect(v.reason).toMatch(/heap level rose/);
  });

  it('ignores single peaks', () => {
    const v = judgeGrowth(series(30, (_m, i) => (i % 37 === 0 ? 400 : 100)), limits);
    expect(v.growing).toBe(false);
  });

  it('gives no verdict on too few samples after the warm-up', () => {
    const v = judgeGrowth(series(1.5, (m) => 100 + 100 * m), limits);
    expect(v).toMatchObject({ judged: false, growing: false });
  });
});
