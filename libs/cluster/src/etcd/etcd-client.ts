import { readFile } from 'node:fs/promises';
import type { Logger } from '@talk-signaling/runtime';
import { ExponentialBackoff, noop } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';
import { ETCD_CALL_TIMEOUT_MS, type EtcdOptions } from './etcd-options';
import { discoverEtcdEndpoints, type SrvResolver } from './srv-discovery';
import { WatchedPrefix, type WatchedPrefixOptions } from './watched-prefix';

/** One key and its raw value, as read from etcd. */
export interface EtcdEntry {
  readonly key: string;
  readonly value: Buffer;
}

/** A consistent read of a prefix: its entries and the store revision they were read at. */
export interface EtcdSnapshot {
  /** Store revision (decimal string: etcd revisions are int64). */
  readonly revision: string;
  readonly entries: readonly EtcdEntry[];
}

/** Extra knobs for {@link EtcdClient.create} (tests). */
export interface EtcdClientCreateOptions {
  /** DNS SRV resolver for `discoverysrv` (default: node's resolver). */
  resolveSrv?: SrvResolver;
}

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/** Keepalive pings on the etcd connection, so a silent network partition is noticed (ms). */
const KEEPALIVE_TIME_MS = 10_000;
const KEEPALIVE_TIMEOUT_MS = 5_000;

/**
 * The etcd connection of a node, built from `[etcd]` (upstream `etcd.NewClient`): endpoints or DNS
 * SRV discovery, TLS with a client certificate when key, certificate and CA are all set. Unary
 * calls carry a 1 s deadline; retries are left to the callers (watched prefixes back off 1 s → 8 s)
 * instead of etcd3's circuit breaker, which would hide a returning etcd for seconds.
 */
export class EtcdClient {
  readonly #etcd: Etcd3;
  readonly #logger: Logger;
  readonly #watches = new Set<WatchedPrefix<unknown>>();
  #closed = false;

  private constructor(etcd: Etcd3, readonly endpoints: readonly string[], logger: Logger) {
    this.#etcd = etcd;
    this.#logger = logger;
  }

  /**
   * Connects lazily to the configured endpoints; resolves to `undefined` when `[etcd]` names none
   * (etcd not used). Rejects on a failed SRV discovery or unreadable TLS files (config errors).
   */
  static async create(options: EtcdOptions, logger: Logger, extra: EtcdClientCreateOptions = {}): Promise<EtcdClient | undefined> {
    let endpoints = (options.endpoints ?? []).map((e) => e.trim()).filter((e) => e !== '');
    const srvDomain = options.discoverysrv?.trim() ?? '';
    if (endpoints.length === 0 && srvDomain !== '') {
      try {
        endpoints = await discoverEtcdEndpoints(srvDomain, options.discoveryservice?.trim() ?? '', extra.resolveSrv);
      } catch (err) {
        throw new Error(`could not discover etcd endpoints for ${srvDomain}`, { cause: err });
      }
    }
    if (endpoints.length === 0) return undefined;

    const tlsFiles = [options.clientkey, options.clientcert, options.cacert].map((f) => f?.trim() ?? '');
    const [keyFile, certFile, caFile] = tlsFiles as [string, string, string];
    const tls = keyFile !== '' && certFile !== '' && caFile !== '';
    let credentials: IOptions['credentials'];
    if (tls) {
      try {
        const [privateKey, certChain, rootCertificate] = await Promise.all([readFile(keyFile), readFile(certFile), readFile(caFile)]);
        credentials = { privateKey, certChain, rootCertificate };
      } catch (err) {
        throw new Error('could not read the etcd TLS files', { cause: err });
      }
    }
    const hosts = endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `${tls ? 'https' : 'http'}://${e}`));
    const etcd = new Etcd3({
      hosts,
      credentials,
      grpcOptions: {
        'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
        'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
      },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + ETCD_CALL_TIMEOUT_MS }),
      faultHandling: {
        host: () => noop,
        global: noop,
        // etcd3 itself passes a backoff factory here (its default is `new ExponentialBackoff()`);
        // its typings ask for a backoff state.
        watchBackoff: new ExponentialBackoff({ initialDelay: 1_000, maxDelay: 8_000 }) as unknown as WatchBackoff,
      },
    });
    logger.info({ endpoints: hosts, tls }, 'using etcd endpoints');
    return new EtcdClient(etcd, hosts, logger);
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The etcd3 client, for writes and anything not wrapped here (tests, leases). */
  get etcd3(): Etcd3 {
    return this.#etcd;
  }

  /** Reads one key (1 s deadline); `undefined` if it does not exist. */
  async get(key: string): Promise<Buffer | undefined> {
    const value = await this.#etcd.get(key).buffer();
    return value ?? undefined;
  }

  /** Reads every key under `prefix` at one revision (1 s deadline). */
  async getPrefix(prefix: string): Promise<EtcdSnapshot> {
    const res = await this.#etcd.getAll().prefix(prefix).exec();
    return {
      revision: String(res.header.revision),
      entries: res.kvs.map((kv) => ({ key: kv.key.toString('utf8'), value: kv.value })),
    };
  }

  /**
   * Starts watching every key under `prefix`: an initial read, then a watch; see
   * {@link WatchedPrefix}. Closed with the client.
   */
  watchPrefix<T>(prefix: string, options: WatchedPrefixOptions<T>): WatchedPrefix<T> {
    if (this.#closed) throw new Error('etcd client is closed');
    const watch = new WatchedPrefix<T>(this, prefix, options, this.#logger.child({ etcdPrefix: prefix }));
    this.#watches.add(watch as WatchedPrefix<unknown>);
    watch.once('close', () => this.#watches.delete(watch as WatchedPrefix<unknown>));
    return watch;
  }

  /** Stops all watches and closes the connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const watch of [...this.#watches]) watch.close();
    this.#etcd.close();
  }
}
