import { DEFAULT_ADDR, DEFAULT_MAX_CLIENTS, UsageError, parseArgs, parseDuration, readBackendSecret, usage } from './cli';

describe('parseArgs', () => {
  it('has upstream defaults (except -addr, which points at the development server)', () => {
    const o = parseArgs([]);
    expect(o.addrs).toEqual([DEFAULT_ADDR]);
    expect(o.maxClients).toBe(DEFAULT_MAX_CLIENTS);
    expect(o.config).toBe('server.conf');
    expect(o.configExplicit).toBe(false);
    expect(o.scenario).toBe('messages');
    expect(o.durationMs).toBe(30_000);
    expect(o.intervalMs).toBe(10_000);
    expect(o.window).toBe(1);
    expect(o.rateExplicit).toBe(false);
    expect(o.serverPid).toBeUndefined();
  });

  it('reads Go-style single-dash flags with separate or = values, and double dashes', () => {
    const o = parseArgs(['-maxClients', '500', '-addr=a:1, b:2,c:3', '--scenario', 'rate', '-rate=2000', '-duration', '1m30s', '-quiet', '-serverPid', '42', '-config', 'x.conf']);
    expect(o.maxClients).toBe(500);
    expect(o.addrs).toEqual(['a:1', 'b:2', 'c:3']);
    expect(o.scenario).toBe('rate');
    expect(o.rate).toBe(2000);
    expect(o.rateExplicit).toBe(true);
    expect(o.durationMs).toBe(90_000);
    expect(o.quiet).toBe(true);
    expect(o.serverPid).toBe(42);
    expect(o.config).toBe('x.conf');
    expect(o.configExplicit).toBe(true);
  });

  it('rejects what upstream rejects and unbounded runs', () => {
    expect(() => parseArgs(['-maxClients', '1'])).toThrow(/at least 2/);
    expect(() => parseArgs(['-maxClients', 'many'])).toThrow(UsageError);
    expect(() => parseArgs(['-nope'])).toThrow(/not defined: -nope/);
    expect(() => parseArgs(['-addr'])).toThrow(/needs an argument/);
    expect(() => parseArgs(['stray'])).toThrow(/unexpected argument/);
    expect(() => parseArgs(['-scenario', 'chaos'])).toThrow(/unknown scenario/);
    expect(() => parseArgs(['-duration', '0s'])).toThrow(/positive/);
    expect(() => parseArgs(['-roomSize', '1'])).toThrow(/roomSize/);
    expect(() => parseArgs(['-backend', 'ftp://x'])).toThrow(/http/);
    expect(() => parseArgs(['-quiet=maybe'])).toThrow(/boolean/);
  });

  it('documents every flag', () => {
    expect(usage()).toMatch(/-maxClients int/);
    expect(usage()).toMatch(/-scenario string/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5_000],
    ['1.5s', 1_500],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['7', 7_000],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 's', '5x', '5s3', '-1s'])('rejects %j', (text) => expect(() => parseDuration(text)).toThrow(UsageError));
});

describe('readBackendSecret', () => {
  it('reads [backend] secret only', () => {
    const text = ['[clients]', 'secret = wrong', '# [backend]', '[backend]', '; secret = commented', 'allowall = true', 'secret =  the-secret  ', '[nats]', 'secret = other'].join('\n');
    expect(readBackendSecret(text)).toBe('the-secret');
  });

  it('is undefined without one', () => {
    expect(readBackendSecret('[backend]\nallowall = true\n')).toBeUndefined();
    expect(readBackendSecret('[backend]\nsecret =\n')).toBeUndefined();
  });
});
