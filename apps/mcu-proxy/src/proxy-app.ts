import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { DEFAULT_STATS_ALLOWED, DEFAULT_TRUSTED_PROXIES, IpAllowList, type Logger } from '@talk-signaling/runtime';
import type { ProxyConfig } from './config/proxy-config';
import { ProxyHttpServer } from './http/proxy-http-server';
import { JanusBackend } from './janus/janus-backend';
import { RemoteSubscribers } from './remote/remote-subscribers';
import { EtcdClient } from '@talk-signaling/cluster';
import { ProxyServer } from './server/proxy-server';
import { EtcdTokenStore } from './tokens/etcd-token-store';
import { StaticTokenStore } from './tokens/static-token-store';
import type { TokenStore } from './tokens/token-store';
import { PROXY_VERSION } from './version';

export interface ProxyAppOptions {
  log: Logger;
  /** Overrides for tests (short timers). */
  sessionExpiryMs?: number;
  expireIntervalMs?: number;
  loadIntervalMs?: number;
  pingIntervalMs?: number;
  reconcileIntervalMs?: number;
  janusReconnect?: { initialMs: number; maxMs: number };
  /** Connections to other proxies (remote streams): reconnect back-off and grace. */
  remoteReconnect?: { initialMs: number; maxMs: number };
  remoteResumeGraceMs?: number;
  /** Go runtime-like process metrics on `/metrics` (off in tests: one registry per process). */
  processMetrics?: boolean;
}

/**
 * Composition root of the proxy, in build order: metrics registry → token store → Janus
 * backend → proxy protocol → HTTP. `main.ts` adds flags and signals; tests use it in-process.
 */
export class ProxyApp {
  readonly config: ProxyConfig;
  readonly registry = new Registry();
  readonly tokens: TokenStore;
  readonly backend: JanusBackend;
  readonly proxy: ProxyServer;
  /** Subscribing side of remote streams; undefined without `[app] token_id`. */
  readonly remote: RemoteSubscribers | undefined;
  readonly http: ProxyHttpServer;
  readonly #log: Logger;
  addresses: AddressInfo[] = [];

  /** Builds the app; `tokentype = etcd` needs the etcd client first. */
  static async create(config: ProxyConfig, options: ProxyAppOptions): Promise<ProxyApp> {
    if (config.app.tokentype === 'static') return new ProxyApp(config, options, new StaticTokenStore(config.tokens, options.log));
    // Upstream falls back to etcd options in [tokens] when [etcd] names no endpoints.
    const etcdOptions = config.etcd.endpoints.length > 0 || config.etcd.discoverysrv ? config.etcd : config.tokensEtcd;
    const etcd = await EtcdClient.create(etcdOptions, options.log);
    if (!etcd) throw new Error('tokentype = etcd: no etcd endpoints configured ([etcd] endpoints or discoverysrv)');
    return new ProxyApp(config, options, new EtcdTokenStore(etcd, config.tokenKeyFormats, options.log));
  }

  private constructor(config: ProxyConfig, options: ProxyAppOptions, tokens: TokenStore) {
    this.config = config;
    this.#log = options.log;
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.tokens = tokens;
    this.backend = new JanusBackend({
      url: config.mcu.url,
      timeoutMs: config.mcu.timeout * 1000,
      log: options.log,
      registry: this.registry,
      ...(options.reconcileIntervalMs !== undefined ? { reconcileIntervalMs: options.reconcileIntervalMs } : {}),
      ...(options.janusReconnect ? { reconnect: options.janusReconnect, startRetry: options.janusReconnect } : {}),
    });
    this.remote = RemoteSubscribers.create({
      config,
      backend: this.backend,
      log: options.log,
      ...(options.remoteReconnect ? { reconnect: options.remoteReconnect } : {}),
      ...(options.remoteResumeGraceMs !== undefined ? { resumeGraceMs: options.remoteResumeGraceMs } : {}),
    });
    this.proxy = new ProxyServer({
      config,
      version: PROXY_VERSION,
      log: options.log,
      registry: this.registry,
      tokens: this.tokens,
      backend: this.backend,
      ...(this.remote ? { remote: this.remote } : {}),
      ...(options.sessionExpiryMs !== undefined ? { sessionExpiryMs: options.sessionExpiryMs } : {}),
      ...(options.expireIntervalMs !== undefined ? { expireIntervalMs: options.expireIntervalMs } : {}),
      ...(options.loadIntervalMs !== undefined ? { loadIntervalMs: options.loadIntervalMs } : {}),
    });
    this.http = new ProxyHttpServer({
      proxy: this.proxy,
      registry: this.registry,
      log: options.log,
      statsAllowed: new IpAllowList(config.stats.allowed_ips.length > 0 ? config.stats.allowed_ips : DEFAULT_STATS_ALLOWED),
      trustedProxies: new IpAllowList(config.app.trustedproxies.length > 0 ? config.app.trustedproxies : DEFAULT_TRUSTED_PROXIES),
      readTimeoutS: config.http.readtimeout,
      ...(options.pingIntervalMs !== undefined ? { pingIntervalMs: options.pingIntervalMs } : {}),
    });
  }

  /** Starts Janus connecting (in the background) and the listeners. */
  async start(): Promise<AddressInfo[]> {
    this.backend.start();
    this.proxy.start();
    this.addresses = await this.http.listen(this.config.http.listen);
    return this.addresses;
  }

  /** Closes listeners and sessions (destroying our Janus objects), then the Janus connection. */
  async stop(): Promise<void> {
    await this.http.close();
    await this.proxy.stop();
    await this.remote?.closeAll();
    await this.backend.stop();
    this.tokens.close();
    this.#log.info('proxy stopped');
  }
}
