import type { SrvRecord } from 'node:dns';
import { discoverEtcdEndpoints, etcdSrvNames } from './srv-discovery';

// The resolver is injected: these check which names are asked for and how answers become
// endpoints; node's own resolver is used in production.
describe('etcd DNS SRV discovery', () => {
  it('builds the SRV names of the Go etcd client', () => {
    expect(etcdSrvNames('example.com', '')).toEqual({
      https: '_etcd-client-ssl._tcp.example.com',
      http: '_etcd-client._tcp.example.com',
    });
    expect(etcdSrvNames('example.com', 'prod')).toEqual({
      https: '_etcd-client-ssl-prod._tcp.example.com',
      http: '_etcd-client-prod._tcp.example.com',
    });
  });

  it('returns https endpoints first, strips the trailing dot, brackets IPv6', async () => {
    const answers: Record<string, SrvRecord[]> = {
      '_etcd-client-ssl._tcp.example.com': [{ name: 'etcd1.example.com.', port: 2379, priority: 0, weight: 0 }],
      '_etcd-client._tcp.example.com': [{ name: '::1', port: 2380, priority: 0, weight: 0 }],
    };
    const resolve = async (name: string): Promise<SrvRecord[]> => answers[name] ?? Promise.reject(new Error(`ENOTFOUND ${name}`));
    expect(await discoverEtcdEndpoints('example.com', '', resolve)).toEqual(['https://etcd1.example.com:2379', 'http://[::1]:2380']);
  });

  it('tolerates one failed lookup and fails when both fail', async () => {
    const onlyHttp = async (name: string): Promise<SrvRecord[]> =>
      name.startsWith('_etcd-client._tcp') ? [{ name: 'e', port: 1, priority: 0, weight: 0 }] : Promise.reject(new Error('ENOTFOUND'));
    expect(await discoverEtcdEndpoints('d', '', onlyHttp)).toEqual(['http://e:1']);
    await expect(discoverEtcdEndpoints('d', '', () => Promise.reject(new Error('ENOTFOUND')))).rejects.toThrow(/DNS SRV lookups failed/);
  });
});
