import type { IncomingMessage } from 'node:http';
import { clientIp } from './client-ip';
import { DEFAULT_TRUSTED_PROXIES, IpAllowList } from './ip-allow-list';

describe('IpAllowList', () => {
  it('matches addresses and CIDR ranges of both families', () => {
    const list = new IpAllowList(['127.0.0.1', '10.0.0.0/8', '2001:db8::/32']);
    expect(list.has('127.0.0.1')).toBe(true);
    expect(list.has('::ffff:127.0.0.1')).toBe(true);
    expect(list.has('127.0.0.2')).toBe(false);
    expect(list.has('10.200.1.1')).toBe(true);
    expect(list.has('2001:db8::1')).toBe(true);
    expect(list.has('2001:db9::1')).toBe(false);
    expect(list.has('garbage')).toBe(false);
  });

  it('rejects invalid entries', () => {
    expect(() => new IpAllowList(['nope'])).toThrow(/invalid IP/);
  });
});

describe('clientIp', () => {
  const trusted = new IpAllowList(DEFAULT_TRUSTED_PROXIES);
  const req = (peer: string, headers: Record<string, string> = {}) =>
    ({ socket: { remoteAddress: peer }, headers }) as unknown as IncomingMessage;

  it('uses X-Real-IP, then X-Forwarded-For, only from trusted proxies', () => {
    expect(clientIp(req('127.0.0.1', { 'x-real-ip': '203.0.113.5' }), trusted)).toBe('203.0.113.5');
    expect(clientIp(req('10.1.2.3', { 'x-forwarded-for': '203.0.113.6:1234, 10.1.1.1' }), trusted)).toBe('203.0.113.6');
    expect(clientIp(req('198.51.100.1', { 'x-real-ip': '203.0.113.5' }), trusted)).toBe('198.51.100.1');
    expect(clientIp(req('::ffff:127.0.0.1'), trusted)).toBe('127.0.0.1');
  });
});
