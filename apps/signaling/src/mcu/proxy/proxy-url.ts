/**
 * The WebSocket URL of a proxy from its configured base URL (fact sheet 5.6): `proxy` resolved
 * relative to the base (so `https://host/` → `wss://host/proxy`; a base without trailing slash
 * loses its last path segment, as in upstream), `http` → `ws`, `https` → `wss`.
 */
export function proxyWebSocketUrl(base: string): URL {
  const url = new URL('proxy', base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`unsupported proxy URL scheme ${url.protocol} in ${base}`);
  return url;
}

/** `url` with its host replaced by `ip` (DNS discovery: one connection per address). */
export function withAddress(url: URL, ip: string): URL {
  const copy = new URL(url);
  copy.hostname = ip.includes(':') ? `[${ip}]` : ip;
  return copy;
}
