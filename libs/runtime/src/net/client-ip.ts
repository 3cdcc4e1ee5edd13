import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { unmapIpv4, type IpAllowList } from './ip-allow-list';

/**
 * The client's address: `X-Real-IP`, else the first `X-Forwarded-For` entry, but only when the
 * TCP peer is a trusted proxy; otherwise the peer itself (upstream section 7.8).
 */
export function clientIp(req: IncomingMessage, trustedProxies: IpAllowList): string {
  const peer = unmapIpv4(req.socket.remoteAddress ?? '');
  if (!trustedProxies.has(peer)) return peer;
  const realIp = header(req, 'x-real-ip');
  if (realIp && isIP(stripPort(realIp))) return stripPort(realIp);
  const forwarded = header(req, 'x-forwarded-for');
  if (forwarded) {
    const first = stripPort(forwarded.split(',')[0]!.trim());
    if (isIP(first)) return first;
  }
  return peer;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function stripPort(value: string): string {
  const v = value.trim();
  if (v.startsWith('[')) return v.slice(1, v.indexOf(']') > 0 ? v.indexOf(']') : undefined);
  const colon = v.indexOf(':');
  return colon > 0 && v.indexOf(':', colon + 1) === -1 ? v.slice(0, colon) : v;
}
