import { EtcdClient, jsonValue, type EtcdOptions, type WatchedPrefix } from '@talk-signaling/cluster';
import type { Logger } from '@talk-signaling/runtime';
import { normaliseBaseUrl, type Backend } from './backend';
import type { BackendRegistry } from './backend-registry';

/** How long start-up waits for the first complete read of the prefix before serving anyway. */
const INITIAL_READ_WAIT_MS = 5_000;

/**
 * Decodes one etcd value of `[backend] backendprefix` (fact sheet 3.5.1 / 6.5): JSON with `urls`
 * (or the older `url`) and `secret` required, optional `maxstreambitrate`, `maxscreenbitrate`,
 * `sessionlimit`. The backend id is the full key. Throws on anything else (the value is ignored).
 */
export function backendFromEtcd(value: unknown, key: string): Backend {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
  const v = value as Record<string, unknown>;
  if (typeof v['secret'] !== 'string' || v['secret'] === '') throw new Error('secret missing');
  const raw = Array.isArray(v['urls']) && v['urls'].length > 0 ? v['urls'] : typeof v['url'] === 'string' && v['url'] !== '' ? [v['url']] : undefined;
  if (!raw) throw new Error('urls missing');
  const urls = [...new Set(raw.map((u) => {
    if (typeof u !== 'string' || !/^https?:\/\//i.test(u)) throw new Error(`invalid url ${String(u)}`);
    return normaliseBaseUrl(u);
  }))];
  const count = (name: string): number => {
    const n = v[name] ?? 0;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
    return n;
  };
  return {
    id: key,
    urls,
    secret: v['secret'],
    sessionLimit: count('sessionlimit'),
    maxStreamBitrate: count('maxstreambitrate'),
    maxScreenBitrate: count('maxscreenbitrate'),
    allowHttp: urls.some((u) => u.startsWith('http:')),
    compat: false,
  };
}

export interface EtcdBackendsOptions {
  registry: BackendRegistry;
  etcd: EtcdOptions;
  /** `[backend] backendprefix` */
  prefix: string;
  log: Logger;
  /** Called after every change of the registry (metrics). */
  changed: () => void;
}

/**
 * `[backend] backendtype = etcd`: the backends are the keys under `backendprefix`, watched —
 * added, changed and removed keys apply to new sessions and requests without a restart. Invalid
 * values are logged and ignored (a known key keeps its last valid value); while etcd is away the
 * known backends stay (libs/cluster `WatchedPrefix`).
 */
export class EtcdBackends {
  readonly #opts: EtcdBackendsOptions;
  #client: EtcdClient | undefined;
  #watch: WatchedPrefix<Backend> | undefined;

  constructor(opts: EtcdBackendsOptions) {
    this.#opts = opts;
  }

  /** `syncing`, `watching` or `closed` (self-check); undefined before start. */
  get state(): string | undefined {
    return this.#watch?.state;
  }

  /** The etcd endpoints in use (self-check). */
  get endpoints(): readonly string[] {
    return this.#client?.endpoints ?? [];
  }

  /** Connects and starts the watch; waits (bounded) for the first complete read. */
  async start(): Promise<void> {
    const { registry, log } = this.#opts;
    this.#client = await EtcdClient.create(this.#opts.etcd, log);
    if (!this.#client) throw new Error('[backend] backendtype = etcd needs [etcd] endpoints');
    const watch = this.#client.watchPrefix(this.#opts.prefix, { decode: jsonValue(backendFromEtcd) });
    this.#watch = watch;
    const apply = (key: string, backend: Backend) => {
      const what = registry.set(backend);
      log.info({ key, urls: backend.urls }, what === 'added' ? 'backend added' : 'backend updated');
      this.#opts.changed();
    };
    watch.on('added', apply);
    watch.on('changed', apply);
    watch.on('removed', (key) => {
      if (registry.remove(key)) log.info({ key }, 'backend removed');
      this.#opts.changed();
    });
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([
      watch.ready().then(() => 'ready' as const),
      new Promise<'waiting'>((resolve) => (timer = setTimeout(() => resolve('waiting'), INITIAL_READ_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (first === 'waiting') log.warn({ prefix: this.#opts.prefix }, 'etcd has not answered yet: starting without backends, they arrive when it does');
  }

  stop(): void {
    this.#client?.close();
  }
}
