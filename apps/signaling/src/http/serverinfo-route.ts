import { clientIp, type IpAllowList } from '@talk-signaling/runtime';
import { sendText, type HttpRoutes } from './http-routes';

/** Parts of `GET /api/v1/serverinfo` (upstream 2.0.3, feature `serverinfo`). */
export interface ServerInfoSource {
  version: string;
  /** The welcome feature list. */
  features(): readonly string[];
  /** The message bus (upstream's `BackendServerInfoNats`: urls, connected, serverurl, serverid, version, clustername). */
  nats?(): { urls: string[]; connected: boolean; serverurl?: string; serverid?: string; version?: string; clustername?: string } | undefined;
  /** gRPC peers (upstream's `BackendServerInfoGrpc`: target, ip, connected, version), when `[grpc]` is set. */
  grpc?(): { target: string; ip?: string; connected: boolean; version?: string }[] | undefined;
  /** The SFU (`mode` and its Janus or proxies), when there is one. */
  sfu?(): Record<string, unknown> | undefined;
  /** Dialout-capable internal clients. */
  dialout?(): { sessionid: string; connected: boolean; address?: string; useragent?: string; features?: string[] }[];
}

/** Serves the server info to `[stats] allowed_ips` only, pretty-printed like upstream. */
export function addServerInfoRoute(
  routes: HttpRoutes,
  opts: { allowed: IpAllowList; trustedProxies: IpAllowList; source: ServerInfoSource },
): void {
  routes.add('GET', '/api/v1/serverinfo', (req, res) => {
    if (!opts.allowed.has(clientIp(req, opts.trustedProxies))) return sendText(res, 403, 'Authentication check failed');
    const info: Record<string, unknown> = { version: opts.source.version, features: opts.source.features() };
    const dialout = opts.source.dialout?.() ?? [];
    if (dialout.length > 0) info['dialout'] = dialout;
    const sfu = opts.source.sfu?.();
    if (sfu) info['sfu'] = sfu;
    const nats = opts.source.nats?.();
    if (nats) info['nats'] = nats;
    const grpc = opts.source.grpc?.();
    if (grpc && grpc.length > 0) info['grpc'] = grpc;
    const body = JSON.stringify(info, null, 2);
    res.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  });
}
