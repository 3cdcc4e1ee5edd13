import { clientIp, type IpAllowList } from '@talk-signaling/runtime';
import { sendJson, sendText, type HttpRoutes } from '../http/http-routes';
import type { SelfCheck } from './self-check';

/** `GET /api/v1/selfcheck`, only for `[stats] allowed_ips`: 200 when nothing failed, else 503. */
export function addSelfCheckRoute(routes: HttpRoutes, opts: { allowed: IpAllowList; trustedProxies: IpAllowList; selfCheck: SelfCheck }): void {
  routes.add('GET', '/api/v1/selfcheck', async (req, res) => {
    if (!opts.allowed.has(clientIp(req, opts.trustedProxies))) return sendText(res, 403, 'Authentication check failed');
    const report = await opts.selfCheck.run();
    sendJson(res, report.ok ? 200 : 503, report, true);
  });
}
