import { parseCpuSec, parseRssKiB, sampleServer } from './server-probe';

describe('server probe', () => {
  it('parses VmRSS', () => {
    expect(parseRssKiB('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t   12345 kB\n')).toBe(12_345);
    expect(() => parseRssKiB('Name: x\n')).toThrow();
  });

  it('parses utime + stime behind a command name with spaces and parentheses', () => {
    const stat = '1234 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0';
    expect(parseCpuSec(stat)).toBe(3);
  });

  it('samples this process and tolerates a missing one', () => {
    const s = sampleServer(process.pid);
    expect(s?.rssKiB).toBeGreaterThan(0);
    expect(s?.cpuSec).toBeGreaterThan(0);
    expect(sampleServer(undefined)).toBeUndefined();
    expect(sampleServer(2 ** 30)).toBeUndefined();
  });
});
