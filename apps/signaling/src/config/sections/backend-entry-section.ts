/** `[<backend id>]`: one Nextcloud instance listed in `[backend] backends`. */
import { z } from 'zod';
import { intOption, listOption, stringOption } from '@talk-signaling/runtime';

/** `[<backend id>]` (raw fields; {@link normalizeBackendUrl} and the loader finish the job). */
export const BackendEntrySection = z.object({
  /**
   * Comma-separated base URLs of the instance (upstream 2.0.4; sorted and de-duplicated as
   * upstream). Takes precedence over `url`. Default: none. `$(VAR)` references are resolved.
   */
  urls: listOption('comma').transform((urls) => [...new Set(urls)].sort()),
  /** Base URL of the instance (the older single-URL form). Default: none. `$(VAR)` resolved. */
  url: stringOption().transform((value) => value.trim()),
  /** Shared secret; falls back to `[backend] secret`. Default: none. `$(VAR)` resolved. */
  secret: stringOption(),
  /** Maximum client sessions; < 0 means 0. Default: 0 (unlimited). */
  sessionlimit: intOption(0, 'nonNegative'),
  /** Maximum bitrate per published stream in bit/s; < 0 means 0. Default: 0 (the MCU's). */
  maxstreambitrate: intOption(0, 'nonNegative'),
  /** Maximum bitrate per screen share in bit/s; < 0 means 0. Default: 0 (the MCU's). */
  maxscreenbitrate: intOption(0, 'nonNegative'),
});

const DEFAULT_PORTS: Readonly<Record<string, string>> = Object.freeze({ http: '80', https: '443' });
const URL_HEAD = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)(?::([0-9]*))?/;

/** Result of {@link normalizeBackendUrl}. */
export type NormalizedBackendUrl = { ok: true; url: string } | { ok: false; reason: string };

/**
 * Normalises a configured backend URL as upstream `getConfiguredHosts` does: `/` appended if
 * missing, an explicit default port (`:443` for https, `:80` for http) removed. Anything else
 * about the text is kept as written. Only `http` and `https` URLs are accepted.
 */
export function normalizeBackendUrl(raw: string): NormalizedBackendUrl {
  let url = raw.endsWith('/') ? raw : `${raw}/`;
  try {
    new URL(url);
  } catch {
    return { ok: false, reason: `"${raw}" is not a valid URL` };
  }
  const head = URL_HEAD.exec(url);
  const scheme = head?.[1]?.toLowerCase() ?? '';
  if (!head || (scheme !== 'http' && scheme !== 'https')) {
    return { ok: false, reason: `"${raw}" is not an http(s) URL` };
  }
  if (head[4] !== undefined && head[4] === DEFAULT_PORTS[scheme]) {
    url = `${head[1]}://${head[2] ?? ''}${head[3]}${url.slice(head[0].length)}`;
  }
  return { ok: true, url };
}
