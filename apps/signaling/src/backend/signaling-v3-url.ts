import type { Capabilities } from './capabilities';

const OLD_SIGNALING_PATHS = ['/spreed/api/v1/signaling/', '/spreed/api/v2/signaling/'] as const;
const V3_SIGNALING_PATH = '/spreed/api/v3/signaling/';

/**
 * `url` with the v1/v2 signaling API path segments replaced by the v3 ones (fact sheet 3.1,
 * upstream `PerformJSONRequest`). Only the path is touched; other URLs are returned unchanged.
 */
export function toSignalingV3Url(url: string): string {
  if (!OLD_SIGNALING_PATHS.some((p) => url.includes(p))) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  let path = parsed.pathname;
  for (const old of OLD_SIGNALING_PATHS) path = path.replaceAll(old, V3_SIGNALING_PATH);
  if (path === parsed.pathname) return url;
  parsed.pathname = path;
  return parsed.toString();
}

/**
 * The `BackendClient` URL hook: requests go to the v3 endpoints when Nextcloud's capabilities
 * for that URL (cache key = the URL before rewriting, as upstream) list `signaling-v3`.
 * URLs without a v1/v2 signaling path skip the lookup (upstream asks anyway; the result could
 * not change the URL).
 */
export function signalingV3Rewriter(capabilities: Pick<Capabilities, 'hasSignalingV3'>): (url: string) => Promise<string> {
  return async (url) => {
    const rewritten = toSignalingV3Url(url);
    if (rewritten === url) return url;
    return (await capabilities.hasSignalingV3(url)) ? rewritten : url;
  };
}
