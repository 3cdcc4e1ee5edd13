import { silentLogger } from '@talk-signaling/runtime';
import { proxyAddress } from './proxy-etcd-targets';
import type { ProxyTarget } from './proxy-sfu';
import { StaticProxyTargets } from './proxy-targets';

describe('static proxy targets', () => {
  it('are the URLs themselves without DNS discovery', () => {
    const seen: ProxyTarget[][] = [];
    new StaticProxyTargets({ urls: ['https://a/', 'https://b/'], dnsDiscovery: false, onTargets: (t) => seen.push(t), log: silentLogger() }).start();
    expect(seen).toEqual([[{ url: 'https://a/' }, { url: 'https://b/' }]]);
  });

  it('with DNS discovery: one target per address, changes reported, failed lookups keep the last addresses', async () => {
    const answers: (string[] | Error)[] = [['10.0.0.2', '10.0.0.1', '10.0.0.1'], ['10.0.0.1', '10.0.0.2'], new Error('SERVFAIL'), ['10.0.0.3']];
    const seen: ProxyTarget[][] = [];
    const targets = new StaticProxyTargets({
      urls: ['https://proxy.example:8443/', 'http://127.0.0.1:9/'],
      dnsDiscovery: true,
      onTargets: (t) => seen.push(t),
      log: silentLogger(),
      lookup: async (host) => {
        expect(host).toBe('proxy.example');
        const next = answers.shift()!;
        if (next instanceof Error) throw next;
        return next;
      },
    });
    for (let i = 0; i < 4; i++) await targets.refresh();
    const url = 'https://proxy.example:8443/';
    expect(seen).toEqual([
      [{ url, ip: '10.0.0.1' }, { url, ip: '10.0.0.2' }, { url: 'http://127.0.0.1:9/' }],
      [{ url, ip: '10.0.0.3' }, { url: 'http://127.0.0.1:9/' }],
    ]);
  });
});

describe('etcd proxy entries', () => {
  it('take `address`, adding the trailing slash; anything else is rejected', () => {
    expect(proxyAddress({ address: 'https://p1.example' })).toBe('https://p1.example/');
    expect(proxyAddress({ address: 'https://p1.example/x/' })).toBe('https://p1.example/x/');
    for (const bad of [null, 'x', {}, { address: '' }, { address: 7 }, { address: 'not a url' }]) expect(() => proxyAddress(bad)).toThrow();
  });
});
