import type { Registry } from 'prom-client';
import { clientIp, type IpAllowList } from '@talk-signaling/runtime';
import { sendJson, sendText, type HttpRoutes } from './http-routes';

export interface StatsSource {
  /** Current figures for `/api/v1/stats` (`rooms`, `sessions`, optional `mcu`). */
  stats(): Record<string, unknown>;
}

/** `/api/v1/stats` and `/metrics`, only for `[stats] allowed_ips` (default 127.0.0.1). */
export function addStatsRoutes(
  routes: HttpRoutes,
  opts: { allowed: IpAllowList; trustedProxies: IpAllowList; registry: Registry; source: StatsSource },
): void {
  const allowed = (req: Parameters<typeof clientIp>[0]) => opts.allowed.has(clientIp(req, opts.trustedProxies));
  routes.add('GET', '/api/v1/stats', (req, res) => {
    if (!allowed(req)) return sendText(res, 403, 'Authentication check failed');
    sendJson(res, 200, opts.source.stats(), true);
  });
  routes.add('GET', '/metrics', async (req, res) => {
    if (!allowed(req)) return sendText(res, 403, 'Authentication check failed');
    const body = await opts.registry.metrics();
    res.writeHead(200, { 'Content-Type': opts.registry.contentType });
    res.end(body);
  });
}
