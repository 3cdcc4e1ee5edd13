import { promises as dns, type SrvRecord } from 'node:dns';

/** Resolves SRV records for a name (node's `dns.resolveSrv`; injectable for tests). */
export type SrvResolver = (name: string) => Promise<SrvRecord[]>;

/**
 * The SRV names upstream's etcd client looks up for `discoverysrv`/`discoveryservice` (the Go etcd
 * client's `srv.GetClient("etcd-client", …)`): `_etcd-client-ssl[-<service>]._tcp.<domain>`
 * for https endpoints and `_etcd-client[-<service>]._tcp.<domain>` for http ones.
 */
export function etcdSrvNames(domain: string, service: string): { https: string; http: string } {
  const suffix = service === '' ? '' : `-${service}`;
  return {
    https: `_etcd-client-ssl${suffix}._tcp.${domain}`,
    http: `_etcd-client${suffix}._tcp.${domain}`,
  };
}

/**
 * Endpoints (`https://host:port` first, then `http://host:port`) found by DNS SRV. Fails only if
 * both lookups fail, like upstream; an empty answer set yields an empty list.
 */
export async function discoverEtcdEndpoints(
  domain: string,
  service: string,
  resolve: SrvResolver = (name) => dns.resolveSrv(name),
): Promise<string[]> {
  const names = etcdSrvNames(domain, service);
  const [https, http] = await Promise.allSettled([resolve(names.https), resolve(names.http)]);
  if (https.status === 'rejected' && http.status === 'rejected') {
    throw new Error(`DNS SRV lookups failed: ${errorText(https.reason)} and ${errorText(http.reason)}`);
  }
  const toUrls = (scheme: string, result: PromiseSettledResult<SrvRecord[]>): string[] =>
    result.status === 'fulfilled'
      ? result.value.map((r) => `${scheme}://${hostPort(r.name.replace(/\.$/, ''), r.port)}`)
      : [];
  return [...toUrls('https', https), ...toUrls('http', http)];
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
