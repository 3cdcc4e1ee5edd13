import { Backoff } from './backoff';

describe('Backoff', () => {
  it('doubles from the initial delay up to the maximum and resets', () => {
    const b = new Backoff({ initial: 1_000, max: 32_000 });
    expect([1, 2, 3, 4, 5, 6, 7].map(() => b.next())).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 32_000]);
    b.reset();
    expect(b.next()).toBe(1_000);
  });

  it('spreads delays within the jitter fraction', () => {
    const b = new Backoff({ initial: 1_000, max: 1_000, jitter: 0.2 });
    for (let i = 0; i < 50; i++) {
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(800);
      expect(d).toBeLessThanOrEqual(1_200);
    }
  });
});
