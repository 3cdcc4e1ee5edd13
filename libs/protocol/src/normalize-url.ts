/**
 * Parses an absolute `http:`/`https:` URL and returns its normalised form, or `undefined` if
 * it is not one. Normalisation drops an explicit default port (`:80` for http, `:443` for
 * https), as upstream does before matching backends, and lowercases scheme and host.
 */
export function normalizeHttpUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  // WHATWG URL parsing already removes default ports; href is the canonical string.
  return url.href;
}

/** Like {@link normalizeHttpUrl} but accepts any absolute URL (e.g. `wss:` for federation). */
export function normalizeAbsoluteUrl(text: string): string | undefined {
  try {
    return new URL(text).href;
  } catch {
    return undefined;
  }
}
