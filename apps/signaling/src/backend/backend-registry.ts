import type { ServerConfig } from '../config';
import { normaliseBaseUrl, normaliseUrl, type Backend } from './backend';

const COMPAT_ID = 'compat';

/**
 * Resolves a URL announced by a client (hello `auth.url`, internal `params.backend`) or by
 * Nextcloud (`Spreed-Signaling-Backend`) to a configured backend (static configuration).
 */
export class BackendRegistry {
  /** host (with non-default port) -> backends serving it */
  readonly #byHost = new Map<string, Backend[]>();
  readonly #byId = new Map<string, Backend>();
  /** The catch-all backend for `allowall = true`. */
  #allowAll: Backend | undefined;
  /** The shared backend of the deprecated `allowed = host, ...` list. */
  #compat: Backend | undefined;
  /** `backendtype = etcd`: backends come and go through {@link set} / {@link remove} only. */
  readonly #dynamic: boolean;

  constructor(config: Pick<ServerConfig, 'backend' | 'backends'>) {
    this.#dynamic = config.backend.backendtype === 'etcd';
    // With etcd, static sections and the compat forms are not read at all (as upstream).
    if (!this.#dynamic) this.#load(config);
  }

  /** Adds or replaces a backend by id (etcd: the key); sessions keep the one they authenticated with. */
  set(backend: Backend): 'added' | 'changed' {
    const known = this.#byId.has(backend.id);
    if (known) this.remove(backend.id);
    this.#byId.set(backend.id, backend);
    for (const u of backend.urls) this.#add(new URL(u).host, backend);
    return known ? 'changed' : 'added';
  }

  /** Forgets a backend by id; true when it was known. */
  remove(id: string): boolean {
    const backend = this.#byId.get(id);
    if (!backend) return false;
    this.#byId.delete(id);
    for (const [host, list] of this.#byHost) {
      const rest = list.filter((b) => b !== backend);
      if (rest.length === 0) this.#byHost.delete(host);
      else if (rest.length !== list.length) this.#byHost.set(host, rest);
    }
    return true;
  }

  /**
   * SIGHUP (upstream 7.3): takes the `backends` sections of a re-read configuration — added,
   * changed and removed backends apply to new sessions and requests; sessions keep the backend
   * they authenticated with. The compat forms (`allowall`, `allowed`) are not reloadable, as
   * upstream; they stay as they were. Returns the ids added and removed.
   */
  reload(config: Pick<ServerConfig, 'backend' | 'backends'>): { added: string[]; removed: string[] } {
    if (this.#allowAll || this.#compat || this.#dynamic) return { added: [], removed: [] };
    const before = new Set(this.#byId.keys());
    this.#byHost.clear();
    this.#byId.clear();
    this.#load({ backend: { ...config.backend, allowall: false, allowed: [] }, backends: config.backends });
    const after = new Set(this.#byId.keys());
    return { added: [...after].filter((id) => !before.has(id)), removed: [...before].filter((id) => !after.has(id)) };
  }

  #load(config: Pick<ServerConfig, 'backend' | 'backends'>): void {
    const section = config.backend;
    const compat: Backend = {
      id: COMPAT_ID,
      urls: [],
      secret: section.secret,
      sessionLimit: section.sessionlimit,
      maxStreamBitrate: 0,
      maxScreenBitrate: 0,
      allowHttp: section.allowhttp,
      compat: true,
    };
    // Upstream's precedence: allowall, else the `backends` sections, else the deprecated list.
    if (section.allowall) {
      this.#allowAll = compat;
      this.#byId.set(COMPAT_ID, compat);
      return;
    }
    for (const b of Object.values(config.backends)) {
      const urls = b.urls.map(normaliseBaseUrl);
      const backend: Backend = {
        id: b.id,
        urls,
        secret: b.secret,
        sessionLimit: b.sessionlimit,
        maxStreamBitrate: b.maxstreambitrate,
        maxScreenBitrate: b.maxscreenbitrate,
        allowHttp: urls.some((u) => u.startsWith('http:')),
        compat: false,
      };
      this.#byId.set(backend.id, backend);
      for (const u of urls) this.#add(new URL(u).host, backend);
    }
    if (this.#byId.size === 0 && section.allowed.length > 0) {
      this.#compat = compat;
      this.#byId.set(COMPAT_ID, compat);
      for (const entry of section.allowed) {
        const host = entry.split('/')[0]!.trim().toLowerCase();
        if (host) this.#add(host, compat);
      }
    }
  }

  /** Number of configured backends (`signaling_backend_current`). */
  get size(): number {
    return this.#byId.size;
  }

  all(): Backend[] {
    return [...this.#byId.values()];
  }

  getById(id: string): Backend | undefined {
    return this.#byId.get(id);
  }

  /** The compat backend when one is configured (allowall or `allowed`). */
  compatBackend(): Backend | undefined {
    return this.#allowAll ?? this.#compat;
  }

  /** Finds the backend serving `rawUrl`, or undefined when the URL is not accepted. */
  lookup(rawUrl: string): Backend | undefined {
    let url: URL;
    try {
      url = normaliseUrl(new URL(rawUrl));
    } catch {
      return undefined;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    const candidates = this.#byHost.get(url.host);
    if (candidates) {
      const withSlash = url.href.endsWith('/') ? url.href : `${url.href}/`;
      for (const backend of candidates) {
        if (url.protocol === 'http:' && !backend.allowHttp) continue;
        if (backend.compat) return backend;
        if (backend.urls.some((base) => withSlash.startsWith(base))) return backend;
      }
    }
    const all = this.#allowAll;
    if (all && (url.protocol === 'https:' || all.allowHttp)) return all;
    return undefined;
  }

  #add(host: string, backend: Backend): void {
    const list = this.#byHost.get(host);
    if (list) list.push(backend);
    else this.#byHost.set(host, [backend]);
  }
}
