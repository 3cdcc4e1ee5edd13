/** One Nextcloud instance (or, for `allowall`/`allowed`, the compat catch-all) we accept. */
export interface Backend {
  /** Section id from `[backend] backends`, or `compat`. Rooms and sessions are isolated per id. */
  readonly id: string;
  /** Normalised base URLs (trailing `/`, no default port); empty for the compat backend. */
  readonly urls: readonly string[];
  readonly secret: string;
  /** Max client sessions on this backend; 0 = unlimited. */
  readonly sessionLimit: number;
  /** Per-backend publisher bitrate caps in bit/s; 0 = MCU default. */
  readonly maxStreamBitrate: number;
  readonly maxScreenBitrate: number;
  /** Whether plain `http://` URLs are accepted for this backend. */
  readonly allowHttp: boolean;
  /** True for the compat backend, which matches any path (and with allowall, any host). */
  readonly compat: boolean;
}

/** Strips an explicit default port (`:443` for https, `:80` for http), as upstream does. */
export function normaliseUrl(url: URL): URL {
  if ((url.protocol === 'https:' && url.port === '443') || (url.protocol === 'http:' && url.port === '80')) {
    const copy = new URL(url.href);
    copy.port = '';
    return copy;
  }
  return url;
}

/** Base URL form used for prefix matching: normalised, trailing slash. */
export function normaliseBaseUrl(raw: string): string {
  const url = normaliseUrl(new URL(raw));
  const href = url.href;
  return href.endsWith('/') ? href : `${href}/`;
}
