import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { Backoff, type Logger } from '@talk-signaling/runtime';
import { jsonValue } from '../etcd/value-decoder';
import type { WatchedPrefix, WatchedPrefixOptions } from '../etcd/watched-prefix';
import { ClusterPeer, splitHostPort, type PeerCallOptions } from './cluster-peer';
import { createClientCredentials, type ManagedCredentials } from './credentials';
import { ClusterError } from './errors';
import { DNS_DISCOVERY_INTERVAL_MS, GRPC_TIMEOUTS, type GrpcOptions } from './grpc-options';
import { HostMonitor, systemHostLookup, type HostLookup } from './host-monitor';
import type { GrpcMetrics } from './metrics';

/** What the pool needs from the etcd client (`EtcdClient` fits). */
export interface EtcdPrefixWatcher {
  watchPrefix<T>(prefix: string, options: WatchedPrefixOptions<T>): WatchedPrefix<T>;
}

export interface ClusterPeersOptions {
  /** `[grpc]`: target type and list/prefix, DNS discovery, client TLS files. */
  grpc: GrpcOptions;
  /** This node's id: a target answering it is this node. */
  serverId: string;
  /** This node's version: peers on another one are warned about. */
  version: string;
  /** Needed for `targettype = etcd`. */
  etcd?: EtcdPrefixWatcher;
  logger: Logger;
  metrics?: GrpcMetrics;
  /** DNS discovery: resolver and interval (default: system resolver, 1 s). */
  lookupHost?: HostLookup;
  dnsIntervalMs?: number;
  /** Self-check retry delays (default 1 s doubling to 8 s, upstream). */
  selfCheckRetryMs?: { initial: number; max: number };
  /** Tests: first reconnect delay after a failed connection attempt (default gRPC's 1 s). */
  initialReconnectMs?: number;
}

export interface ClusterPeersEvents {
  /** A peer was added (its self check is still running). */
  added: [peer: ClusterPeer];
  /** A peer was removed (target gone, address gone, or it turned out to be this node). */
  removed: [peer: ClusterPeer];
}

/** An etcd gRPC target value: `{"address": "host:port"}` (one trailing `/` dropped, as upstream). */
export interface EtcdTarget {
  address: string;
}

/** Validates an etcd target value (throws = ignored by the watch). */
export function parseEtcdTarget(value: unknown): EtcdTarget {
  const address = (value as { address?: unknown } | null)?.address;
  if (typeof address !== 'string' || address === '') throw new Error('address missing');
  const trimmed = address.endsWith('/') ? address.slice(0, -1) : address;
  const { host, port } = splitHostPort(trimmed);
  const portNumber = Number(port);
  if (host === '' || !/^\d+$/.test(port) || portNumber < 1 || portNumber > 65535) throw new Error(`not a host:port address: ${trimmed.slice(0, 100)}`);
  return { address: trimmed };
}

interface TargetEntry {
  peers: ClusterPeer[];
  stopDns?: () => void;
}

/**
 * The other nodes this node talks to (upstream `grpc.Clients`): targets from `[grpc]` —
 * `static` (`targets`, optionally one connection per resolved IP with `dnsdiscovery`) or `etcd`
 * (keys under `targetprefix`, watched) — each checked with `GetServerId` so this node skips
 * itself. Fan-out helpers call every peer at once with a deadline; a slow peer costs that
 * deadline, a peer known to be down (its connection attempt failed) answers nothing at once, and
 * neither blocks the answers of the others.
 */
export class ClusterPeers extends EventEmitter<ClusterPeersEvents> {
  readonly #options: ClusterPeersOptions;
  readonly #logger: Logger;
  readonly #targets = new Map<string, TargetEntry>();
  readonly #selfChecks = new Set<Promise<void>>();
  readonly #closeController = new AbortController();
  #grpc: GrpcOptions;
  #credentials: ManagedCredentials<ChannelCredentials>;
  #hostMonitor: HostMonitor | undefined;
  #watch: WatchedPrefix<EtcdTarget> | undefined;
  /** etcd: address → keys naming it (a connection lives while one key does). */
  readonly #etcdKeys = new Map<string, string>();
  #ready: Promise<void> = Promise.resolve();
  #closed = false;

  /** Validates the options and starts connecting (throws on a config error). */
  constructor(options: ClusterPeersOptions) {
    super();
    this.#options = options;
    this.#logger = options.logger;
    this.#grpc = options.grpc;
    this.#credentials = createClientCredentials(options.grpc, this.#logger);
    this.#load(options.grpc);
  }

  /** Peers to ask: every connection except this node itself. */
  peers(): ClusterPeer[] {
    const result: ClusterPeer[] = [];
    for (const entry of this.#targets.values()) for (const peer of entry.peers) if (!peer.isSelf) result.push(peer);
    return result;
  }

  /** Configured targets (`host:port` or etcd addresses), self included. */
  get targets(): string[] {
    return [...this.#targets.keys()];
  }

  /** `targettype = etcd`: the state of the watched prefix (`syncing` while etcd is away); else undefined. */
  get etcdState(): 'syncing' | 'watching' | 'closed' | undefined {
    return this.#watch?.state;
  }

  /** Resolves when the initial target list is known (etcd: after the first read of the prefix). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Resolves when every running self check has finished (upstream `WaitForSelfCheck`). */
  async selfChecked(): Promise<void> {
    while (this.#selfChecks.size > 0) await Promise.all([...this.#selfChecks]);
  }

  /** Reloaded TLS file changes seen on the client side. */
  get certificateReloads(): number {
    return this.#credentials.files?.reloads ?? 0;
  }

  /**
   * SIGHUP: applies a new `[grpc]` section. Static targets are added/removed by difference;
   * changed TLS file names or target type/prefix rebuild every connection. Errors are logged and
   * the previous set stays.
   */
  reload(grpc: GrpcOptions): void {
    if (this.#closed) return;
    try {
      this.#validate(grpc);
      const tlsChanged = TLS_KEYS.some((k) => (grpc[k] ?? '') !== (this.#grpc[k] ?? ''));
      const kindChanged =
        (grpc.targettype ?? 'static') !== (this.#grpc.targettype ?? 'static') ||
        (grpc.targetprefix ?? '') !== (this.#grpc.targetprefix ?? '') ||
        Boolean(grpc.dnsdiscovery) !== Boolean(this.#grpc.dnsdiscovery);
      if (tlsChanged) {
        const next = createClientCredentials(grpc, this.#logger);
        this.#credentials.close();
        this.#credentials = next;
      }
      if (tlsChanged || kindChanged) this.#clear();
      this.#grpc = grpc;
      this.#load(grpc);
    } catch (err) {
      this.#logger.error({ err }, 'could not reload gRPC targets, keeping the previous ones');
    }
  }

  /**
   * Asks every peer at once; resolves with the first answer that is not `undefined` and cancels
   * the other calls, or with `undefined` when all answered nothing, failed or timed out. Failures
   * are logged, never thrown.
   */
  firstResult<T>(call: (peer: ClusterPeer, opts: PeerCallOptions) => Promise<T | undefined>, opts: PeerCallOptions = {}): Promise<T | undefined> {
    const peers = this.peers();
    if (peers.length === 0) return Promise.resolve(undefined);
    const abort = new AbortController();
    const onOuterAbort = (): void => abort.abort();
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    return new Promise<T | undefined>((resolve) => {
      let pending = peers.length;
      let done = false;
      const finish = (value: T | undefined): void => {
        if (done) return;
        done = true;
        opts.signal?.removeEventListener('abort', onOuterAbort);
        abort.abort();
        resolve(value);
      };
      for (const peer of peers) {
        call(peer, { timeoutMs: opts.timeoutMs, signal: abort.signal })
          .then(
            (value) => {
              if (value !== undefined) finish(value);
            },
            (err: unknown) => this.#logCallError(peer, err, abort.signal),
          )
          .finally(() => {
            if (--pending === 0) finish(undefined);
          });
      }
    });
  }

  /** Asks every peer at once and returns the answers of those that answered (failures logged). */
  async collect<T>(call: (peer: ClusterPeer, opts: PeerCallOptions) => Promise<T>, opts: PeerCallOptions = {}): Promise<{ peer: ClusterPeer; value: T }[]> {
    const peers = this.peers();
    const settled = await Promise.allSettled(peers.map((peer) => call(peer, opts)));
    const result: { peer: ClusterPeer; value: T }[] = [];
    settled.forEach((s, i) => {
      const peer = peers[i]!;
      if (s.status === 'fulfilled') result.push({ peer, value: s.value });
      else this.#logCallError(peer, s.reason, opts.signal);
    });
    return result;
  }

  /** Closes every connection and stops discovery. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeController.abort();
    this.#clear();
    this.#credentials.close();
    this.removeAllListeners();
  }

  /** Throws for a section that cannot be applied (before anything is torn down). */
  #validate(grpc: GrpcOptions): void {
    if ((grpc.targettype ?? 'static') !== 'etcd') return;
    if (this.#options.etcd === undefined) throw new Error('[grpc] targettype = etcd needs [etcd] endpoints');
    if ((grpc.targetprefix?.trim() ?? '') === '') throw new Error('[grpc] targettype = etcd needs targetprefix');
  }

  #load(grpc: GrpcOptions): void {
    this.#validate(grpc);
    const type = grpc.targettype ?? 'static';
    if (type === 'etcd') {
      if (this.#watch !== undefined) return;
      const etcd = this.#options.etcd!;
      const prefix = grpc.targetprefix!.trim();
      const watch = etcd.watchPrefix(prefix, { decode: jsonValue(parseEtcdTarget) });
      watch.on('added', (key, target) => this.#etcdAdd(key, target.address));
      watch.on('changed', (key, target, previous) => {
        if (target.address === previous.address) return;
        this.#etcdRemove(key);
        this.#etcdAdd(key, target.address);
      });
      watch.on('removed', (key) => this.#etcdRemove(key));
      this.#watch = watch;
      this.#ready = watch.ready();
      return;
    }
    this.#loadStatic(grpc.targets ?? [], Boolean(grpc.dnsdiscovery));
    this.#ready = Promise.resolve();
  }

  #loadStatic(targetList: readonly string[], dnsDiscovery: boolean): void {
    const wanted = new Set(targetList.map((t) => t.trim()).filter((t) => t !== ''));
    for (const target of [...this.#targets.keys()]) if (!wanted.has(target)) this.#removeTarget(target);
    for (const target of wanted) {
      if (this.#targets.has(target)) continue;
      const { host } = splitHostPort(target);
      if (dnsDiscovery && isIP(host) === 0) {
        const entry: TargetEntry = { peers: [] };
        this.#targets.set(target, entry);
        entry.stopDns = this.#monitor().add(host, (added, removed) => this.#onAddresses(target, added, removed));
      } else {
        this.#targets.set(target, { peers: [] });
        this.#addPeer(target, undefined);
      }
    }
    this.#updateGauge();
  }

  #monitor(): HostMonitor {
    this.#hostMonitor ??= new HostMonitor(this.#options.lookupHost ?? systemHostLookup, this.#options.dnsIntervalMs ?? DNS_DISCOVERY_INTERVAL_MS, this.#logger);
    return this.#hostMonitor;
  }

  #onAddresses(target: string, added: string[], removed: string[]): void {
    const entry = this.#targets.get(target);
    if (entry === undefined || this.#closed) return;
    for (const ip of removed) {
      for (const peer of entry.peers.filter((p) => p.ip === ip)) this.#dropPeer(entry, peer);
    }
    for (const ip of added) this.#addPeer(target, ip);
    this.#updateGauge();
  }

  #etcdAdd(key: string, address: string): void {
    this.#etcdKeys.set(key, address);
    if (this.#targets.has(address)) {
      this.#logger.info({ key, address }, 'gRPC target already known, sharing its connection');
      return;
    }
    this.#targets.set(address, { peers: [] });
    this.#addPeer(address, undefined);
    this.#updateGauge();
  }

  #etcdRemove(key: string): void {
    const address = this.#etcdKeys.get(key);
    if (address === undefined) return;
    this.#etcdKeys.delete(key);
    if ([...this.#etcdKeys.values()].includes(address)) return;
    this.#removeTarget(address);
    this.#updateGauge();
  }

  #addPeer(target: string, ip: string | undefined): void {
    const entry = this.#targets.get(target);
    if (entry === undefined) return;
    const peer = new ClusterPeer(target, this.#credentials.credentials, ip, this.#options.metrics, this.#options.initialReconnectMs);
    entry.peers.push(peer);
    this.#logger.info({ target: peer.label }, 'adding gRPC target');
    // Once per change, not per call: lookups skip a down peer without a word (see #logCallError).
    peer.on('down', () => this.#logger.warn({ target: peer.label }, 'gRPC peer unreachable, lookups skip it until it is back'));
    peer.on('up', () => this.#logger.info({ target: peer.label }, 'gRPC peer reachable again'));
    this.emit('added', peer);
    const check = this.#selfCheck(peer).finally(() => this.#selfChecks.delete(check));
    this.#selfChecks.add(check);
  }

  #removeTarget(target: string): void {
    const entry = this.#targets.get(target);
    if (entry === undefined) return;
    this.#targets.delete(target);
    entry.stopDns?.();
    for (const peer of [...entry.peers]) this.#dropPeer(entry, peer);
  }

  #dropPeer(entry: TargetEntry, peer: ClusterPeer): void {
    entry.peers = entry.peers.filter((p) => p !== peer);
    const wasSelf = peer.isSelf;
    peer.close();
    this.#logger.info({ target: peer.label }, 'removing gRPC target');
    if (!wasSelf) this.emit('removed', peer);
  }

  #clear(): void {
    this.#watch?.close();
    this.#watch = undefined;
    this.#etcdKeys.clear();
    for (const target of [...this.#targets.keys()]) this.#removeTarget(target);
    this.#hostMonitor?.close();
    this.#hostMonitor = undefined;
    this.#updateGauge();
  }

  /** `GetServerId` until it answers (1 s deadline, backoff 1 s → 8 s); marks the peer if it is this node. */
  async #selfCheck(peer: ClusterPeer): Promise<void> {
    const retry = this.#options.selfCheckRetryMs ?? { initial: 1_000, max: 8_000 };
    const backoff = new Backoff(retry);
    const signal = this.#closeController.signal;
    while (!peer.closed && !signal.aborted) {
      try {
        const { serverId, version } = await peer.getServerId({ timeoutMs: GRPC_TIMEOUTS.getServerId, signal });
        if (serverId === this.#options.serverId) {
          this.#logger.info({ target: peer.label }, 'gRPC target is this node, skipping it');
          peer.markSelf();
          this.emit('removed', peer);
          this.#updateGauge();
        } else if (version !== this.#options.version) {
          this.#logger.warn({ target: peer.label, version, ownVersion: this.#options.version }, 'gRPC peer runs a different version');
        } else {
          this.#logger.info({ target: peer.label, version }, 'checked gRPC peer');
        }
        return;
      } catch (err) {
        if (peer.closed || signal.aborted) return;
        const delay = backoff.next();
        this.#logger.warn({ target: peer.label, err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'could not check gRPC server id, retrying');
        await sleep(delay, signal);
      }
    }
  }

  #logCallError(peer: ClusterPeer, err: unknown, signal: AbortSignal | undefined): void {
    // Calls cancelled because another peer answered first are not failures.
    if (signal?.aborted && err instanceof ClusterError && err.code === 'cancelled') return;
    // A peer known down was logged once when it went down.
    if (!peer.reachable && err instanceof ClusterError && err.code === 'unavailable') return;
    this.#logger.warn({ target: peer.label, err: err instanceof Error ? err.message : String(err) }, 'gRPC call to peer failed');
  }

  #updateGauge(): void {
    this.#options.metrics?.clients.set(this.peers().length);
  }
}

const TLS_KEYS = ['serverca', 'clientcertificate', 'clientkey'] as const;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
