import { Registry } from 'prom-client';
import { Throttler } from './throttler';

describe('Throttler', () => {
  it('delays failures 100 ms doubling and blocks after ten', async () => {
    const delays: number[] = [];
    const registry = new Registry();
    const throttler = new Throttler(registry, { sleep: async (ms) => void delays.push(ms) });
    for (let i = 0; i < 10; i++) {
      const check = throttler.check('192.0.2.1', 'HelloInternal');
      expect(check.blocked).toBe(false);
      await check.failed();
    }
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12800, 25000, 25000]);
    expect(throttler.check('192.0.2.1', 'HelloInternal').blocked).toBe(true);
    expect(throttler.check('192.0.2.1', 'HelloResume').blocked).toBe(false);
    expect(throttler.check('192.0.2.2', 'HelloInternal').blocked).toBe(false);
    const text = await registry.metrics();
    expect(text).toContain('signaling_throttle_bruteforce_total{action="HelloInternal"} 1');
    expect(text).toContain('signaling_throttle_delayed_total{action="HelloInternal",delay="100"} 1');
    throttler.close();
  });

  it('throttles IPv6 clients per /64', async () => {
    const throttler = new Throttler(new Registry(), { sleep: async () => undefined });
    for (let i = 0; i < 10; i++) await throttler.check(`2001:db8:1:2::${i + 1}`, 'HelloResume').failed();
    expect(throttler.check('2001:db8:1:2:ffff::1', 'HelloResume').blocked).toBe(true);
    expect(throttler.check('2001:db8:1:3::1', 'HelloResume').blocked).toBe(false);
    throttler.close();
  });
});
