import { EventEmitter } from 'node:events';
import type { KeyObject } from 'node:crypto';
import type { Logger } from '@talk-signaling/runtime';
import { SfuNotFoundError, type Sfu, type SfuEvents, type SfuPublisherRequest, type SfuStreamType, type SfuSubscriberRequest } from '../sfu';
import { isValidCountry } from './continents';
import { ProxyConnection, type ProxyConnectionOptions } from './proxy-connection';
import type { ProxyMetrics } from './proxy-metrics';
import { ProxySfuPublisher } from './proxy-publisher';
import { allowsIncoming, allowsOutgoing, sortByLoad, sortByUsage, sortForCountry } from './proxy-selection';
import { ProxySfuSubscriber } from './proxy-subscriber';
import { createProxyToken } from './proxy-token';

/** Feature a proxy announces when it can subscribe to streams of other proxies. */
export const REMOTE_STREAMS_FEATURE = 'remote-streams';

/** One proxy to keep a connection to: a configured URL, with an address under DNS discovery. */
export interface ProxyTarget {
  url: string;
  ip?: string;
}

export interface ProxySfuOptions {
  /** `[mcu] token_id` and the key of `[mcu] token_key`. */
  tokenId: string;
  tokenKey: KeyObject;
  /** `[mcu] timeout` in ms: waiting for a publisher to appear. */
  timeoutMs: number;
  /** `[mcu] proxytimeout` in ms: handshake and each request to a proxy. */
  proxyTimeoutMs: number;
  maxStreamBitrate: number;
  maxScreenBitrate: number;
  /** `[continent-overrides]` (replaced on SIGHUP through {@link ProxySfu.setContinentOverrides}). */
  continentOverrides: Readonly<Record<string, readonly string[]>>;
  metrics: ProxyMetrics;
  log: Logger;
  skipVerify?: boolean;
  /** Connection tuning (tests). */
  connection?: Pick<ProxyConnectionOptions, 'reconnect' | 'pingIntervalMs' | 'resumeGraceMs'>;
  /**
   * Where the proxy list comes from (static list, DNS discovery, etcd): built with the SFU's
   * `setTargets`, started and stopped with the SFU. Without one, call {@link ProxySfu.setTargets}.
   */
  targetSource?: (setTargets: (targets: ProxyTarget[]) => void) => ProxyTargetSource;
  /** Cluster: asks the other signaling nodes for publishers that are not ours. */
  remotePublishers?: RemotePublisherLookup;
}

/** Something that keeps the proxy list up to date. */
export interface ProxyTargetSource {
  start(): void;
  stop(): void;
}

/**
 * A publisher on some proxy as another signaling node describes it (`GetPublisherId`): its
 * proxy client id, the proxy's URL (and address under DNS discovery), a token to connect to
 * that proxy and one that lets a proxy subscribe to this publisher remotely.
 */
export interface RemotePublisherInfo {
  publisherId: string;
  proxyUrl: string;
  /** '' when the proxy is not addressed by IP. */
  ip: string;
  connectToken: string;
  publisherToken: string;
}

/** Asks the other signaling nodes for a publisher (first answer wins; undefined = nowhere). */
export type RemotePublisherLookup = (publisherId: string, streamType: SfuStreamType, signal: AbortSignal) => Promise<RemotePublisherInfo | undefined>;

const key = (t: ProxyTarget): string => (t.ip ? `${t.url} ${t.ip}` : t.url);
const streamKey = (publisherId: string, streamType: string): string => `${publisherId}|${streamType}`;

/**
 * The `Sfu` of `[mcu] type = proxy` (fact sheet 5.6, 5.7): connections to a set of proxies
 * (each in front of one Janus), publishers placed by load, country / continent and bandwidth,
 * subscribers on the publisher's proxy or — when that one is out of outgoing bandwidth or far
 * from the subscriber — as remote subscribers on a better one.
 *
 * Which proxies to connect to comes from outside ({@link setTargets}: the static list, DNS
 * discovery or etcd); connections come back by themselves. A proxy that goes away takes its
 * publishers and subscribers with it (they close; clients publish again elsewhere).
 */
export class ProxySfu extends EventEmitter<SfuEvents> implements Sfu {
  readonly #options: ProxySfuOptions;
  #continentOverrides: Readonly<Record<string, readonly string[]>>;
  readonly #log: Logger;
  readonly #metrics: ProxyMetrics;
  readonly #connections = new Map<string, ProxyConnection>();
  readonly #publishers = new Map<string, ProxySfuPublisher>();
  readonly #subscribers = new Set<ProxySfuSubscriber>();
  /** Subscribers waiting for a publisher to appear. */
  readonly #waiters = new Map<string, Set<() => void>>();
  #targets: ProxyTarget[] = [];
  readonly #source: ProxyTargetSource | undefined;
  #started = false;
  #stopped = false;
  #connected = false;

  constructor(options: ProxySfuOptions) {
    super();
    this.#options = options;
    this.#continentOverrides = options.continentOverrides;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#source = options.targetSource?.((targets) => this.setTargets(targets));
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** All connections (configured and temporary), for tests and stats. */
  get connections(): readonly ProxyConnection[] {
    return [...this.#connections.values()];
  }

  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    for (const conn of this.#connections.values()) conn.start();
    this.#source?.start();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#source?.stop();
    for (const wake of [...this.#waiters.values()].flatMap((s) => [...s])) wake();
    // Delete what we own while the proxies listen; bounded by the proxy timeout per request.
    await Promise.all([...this.#publishers.values(), ...this.#subscribers].map((c) => c.close()));
    await Promise.all([...this.#connections.values()].map((c) => c.stop('signaling server stopping')));
    this.#connections.clear();
    this.#updateConnected();
  }

  /**
   * The proxies to be connected to. New ones are connected; ones no longer listed take no new
   * publishers and close once their publishers and subscribers are gone.
   */
  setTargets(targets: readonly ProxyTarget[]): void {
    if (this.#stopped) return;
    this.#targets = [...targets];
    const wanted = new Set(targets.map(key));
    for (const [k, conn] of this.#connections) {
      if (!wanted.has(k) && !conn.retiring) {
        this.#log.info({ proxy: conn.toString() }, 'proxy no longer configured; closing its connection once unused');
        conn.retire();
      }
    }
    for (const target of targets) {
      const existing = this.#connections.get(key(target));
      if (existing) {
        existing.keep();
        continue;
      }
      this.#addConnection(target, false);
    }
  }

  setContinentOverrides(overrides: Readonly<Record<string, readonly string[]>>): void {
    this.#continentOverrides = overrides;
  }

  get targets(): readonly ProxyTarget[] {
    return this.#targets;
  }

  maxBitrate(streamType: SfuStreamType): number {
    return streamType === 'screen' ? this.#options.maxScreenBitrate : this.#options.maxStreamBitrate;
  }

  /** A token for a hello (`subject` empty) or for a remote subscriber (the publisher's client id). */
  createToken(subject = ''): string {
    return createProxyToken(this.#options.tokenKey, this.#options.tokenId, subject);
  }

  async newPublisher(request: SfuPublisherRequest): Promise<ProxySfuPublisher> {
    if (this.#stopped) throw new SfuNotFoundError('MCU stopped');
    const max = this.maxBitrate(request.streamType);
    const bitrate = request.bitrate > 0 ? Math.min(request.bitrate, max) : max;
    const usable = this.#usable();
    const sorted = sortForCountry(sortByLoad(usable), request.country, this.#continentOverrides);
    const first = sorted.filter(allowsIncoming);
    const publisher =
      (await this.#firstThatWorks(first, (conn) => this.#createPublisher(conn, request, bitrate))) ??
      // All proxies at their incoming limit: the least used of them.
      (await this.#firstThatWorks(sortByUsage(sorted.filter((c) => !allowsIncoming(c)), 'incoming'), (conn) => this.#createPublisher(conn, request, bitrate)));
    if (!publisher) {
      this.#metrics.noBackendAvailableTotal.inc({ type: request.streamType });
      throw new SfuNotFoundError('no MCU connection available');
    }
    return publisher;
  }

  /**
   * The publisher locally, or — waiting up to the MCU timeout — whichever comes first: it
   * appearing here, or another signaling node (cluster) reporting it on its proxy. A publisher
   * on a proxy we have no connection to gets a temporary one.
   */
  async newSubscriber(request: SfuSubscriberRequest): Promise<ProxySfuSubscriber> {
    const id = streamKey(request.publisherId, request.streamType);
    const local = this.#publishers.get(id);
    if (local) return this.subscribeOn(local.connection, local.clientId, request);
    this.#metrics.noPublisherTotal.inc({ type: request.streamType });
    this.#log.debug({ publisher: request.publisherId, streamType: request.streamType }, 'no publisher yet; waiting');
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.#options.timeoutMs);
    timer.unref();
    const lookup = this.#options.remotePublishers;
    let found: { local: ProxySfuPublisher } | { remote: RemotePublisherInfo } | undefined;
    try {
      found = await firstDefined([
        this.#waitForPublisher(id, abort.signal).then((p) => (p ? { local: p } : undefined)),
        ...(lookup
          ? [
              lookup(request.publisherId, request.streamType, abort.signal).then(
                (info) => (info ? { remote: info } : undefined),
                (err: unknown) => {
                  this.#log.info({ err: (err as Error).message, publisher: request.publisherId }, 'asking other nodes for the publisher failed');
                  return undefined;
                },
              ),
            ]
          : []),
      ]);
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    if (!found) throw new SfuNotFoundError(`no ${request.streamType} publisher ${request.publisherId} found`);
    if ('local' in found) return this.subscribeOn(found.local.connection, found.local.clientId, request);
    const info = found.remote;
    this.#log.info({ publisher: request.publisherId, proxy: info.proxyUrl }, 'publisher found on another signaling node');
    const conn = await this.connectionFor(info.proxyUrl, info.ip || undefined, info.connectToken || undefined);
    return this.subscribeOn(conn, info.publisherId, request, info.publisherToken || undefined);
  }

  /**
   * Cluster (`GetPublisherId` from another node): our publisher of that session and stream
   * type, waited for until `signal` aborts, with the tokens the other node needs.
   */
  async publisherInfo(publisherId: string, streamType: SfuStreamType, signal: AbortSignal): Promise<RemotePublisherInfo | undefined> {
    const id = streamKey(publisherId, streamType);
    const publisher = this.#publishers.get(id) ?? (await this.#waitForPublisher(id, signal));
    if (!publisher) return undefined;
    return {
      publisherId: publisher.clientId,
      proxyUrl: publisher.connection.url,
      ip: publisher.connection.ip ?? '',
      connectToken: this.createToken(),
      publisherToken: this.createToken(publisher.clientId),
    };
  }

  /**
   * Subscribes to a publisher known by its proxy and client id (also a publisher of another
   * signaling node, through {@link connectionFor}). Remote when the publisher's proxy is out of
   * outgoing bandwidth, or when it is not in the subscriber's country and the best proxy for
   * the subscriber is in another country than the publisher's (upstream's rule).
   */
  async subscribeOn(publisherConn: ProxyConnection, publisherClientId: string, request: SfuSubscriberRequest, publisherToken?: string): Promise<ProxySfuSubscriber> {
    const outgoingOk = allowsOutgoing(publisherConn);
    if (!outgoingOk || !sameCountry(publisherConn.country, request.country)) {
      const sorted = sortForCountry(sortByLoad(this.#usable()), request.country, this.#continentOverrides);
      const best = sorted[0];
      if (!outgoingOk || (best && !sameCountry(best.country, publisherConn.country))) {
        const create = (conn: ProxyConnection) => this.#createSubscriber(conn, publisherConn, publisherClientId, request, publisherToken);
        // A remote subscriber needs a proxy that can pull streams from others.
        const candidates = sorted.filter((c) => c === publisherConn || c.features.includes(REMOTE_STREAMS_FEATURE));
        const subscriber =
          (await this.#firstThatWorks(candidates.filter(allowsOutgoing), create)) ??
          (await this.#firstThatWorks(sortByUsage(candidates.filter((c) => !allowsOutgoing(c)), 'outgoing'), create));
        if (subscriber) return subscriber;
      }
    }
    try {
      return await this.#createSubscriber(publisherConn, publisherConn, publisherClientId, request);
    } catch (err) {
      if (publisherConn.temporary) publisherConn.retire();
      throw err;
    }
  }

  /**
   * A connection to the proxy at `url` (and `ip`): an existing one, or a temporary one that
   * closes itself once unused (a publisher of another node on a proxy we do not list). Resolves
   * once connected; rejects after the proxy timeout.
   */
  async connectionFor(url: string, ip?: string, connectToken?: string): Promise<ProxyConnection> {
    const target: ProxyTarget = ip ? { url, ip } : { url };
    const existing = this.#connections.get(key(target));
    if (existing?.connected) return existing;
    const conn = existing ?? this.#addConnection(target, true, connectToken);
    if (!existing) conn.start();
    await new Promise<void>((resolve, reject) => {
      if (conn.connected) return resolve();
      const timer = setTimeout(() => {
        conn.off('connected', done);
        reject(new SfuNotFoundError(`could not connect to proxy ${conn.toString()} in time`));
      }, this.#options.proxyTimeoutMs);
      timer.unref();
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      conn.once('connected', done);
    }).catch((err: unknown) => {
      if (conn.temporary) conn.retire();
      throw err;
    });
    return conn;
  }

  stats(): Record<string, unknown> {
    let clients = 0;
    const details = [...this.#connections.values()].map((c) => {
      clients += c.clientCount;
      const publishers = [...this.#publishers.values()].filter((p) => p.connection === c).length;
      const detail: Record<string, unknown> = { url: c.url, connected: c.connected, publishers, clients: c.clientCount };
      if (c.ip) detail['ip'] = c.ip;
      if (c.connected) detail['load'] = c.load;
      if (c.shutdownScheduled) detail['shutdown'] = true;
      if (c.temporary) detail['temporary'] = true;
      if (c.connectedSince) detail['uptime'] = c.connectedSince.toISOString();
      return detail;
    });
    return { publishers: this.#publishers.size, clients, details };
  }

  /** `/api/v1/serverinfo`: every proxy connection (upstream `BackendServerInfoSfuProxy`), by URL and address. */
  serverInfo(): Record<string, unknown> {
    const proxies = [...this.#connections.values()]
      .sort((a, b) => a.url.localeCompare(b.url) || (a.ip ?? '').localeCompare(b.ip ?? ''))
      .map((c) => {
        const proxy: Record<string, unknown> = { url: c.url };
        if (c.ip) proxy['ip'] = c.ip;
        proxy['connected'] = c.connected;
        proxy['temporary'] = c.temporary;
        if (!c.connected) return proxy;
        proxy['shutdown'] = c.shutdownScheduled;
        if (c.connectedSince) proxy['uptime'] = c.connectedSince.toISOString();
        if (c.version) proxy['version'] = c.version;
        if (c.features.length > 0) proxy['features'] = c.features;
        if (c.country) proxy['country'] = c.country;
        proxy['load'] = c.load;
        if (c.bandwidth) proxy['bandwidth'] = { ...c.bandwidth };
        return proxy;
      });
    return { mode: 'proxy', ...(proxies.length > 0 ? { proxies } : {}) };
  }

  /** Connected proxies that take new publishers and subscribers. */
  #usable(): ProxyConnection[] {
    return [...this.#connections.values()].filter((c) => c.connected && !c.shutdownScheduled && !c.temporary && !c.retiring);
  }

  async #firstThatWorks<T>(candidates: readonly ProxyConnection[], create: (conn: ProxyConnection) => Promise<T>): Promise<T | undefined> {
    for (const conn of candidates) {
      try {
        return await create(conn);
      } catch (err) {
        this.#log.warn({ proxy: conn.toString(), err: (err as Error).message }, 'proxy could not create the stream; trying the next one');
      }
    }
    return undefined;
  }

  async #createPublisher(conn: ProxyConnection, request: SfuPublisherRequest, bitrate: number): Promise<ProxySfuPublisher> {
    const codecs = request.codecs ?? {};
    const settings = {
      bitrate,
      mediatypes: request.mediaTypes,
      ...(codecs.audioCodec ? { audiocodec: codecs.audioCodec } : {}),
      ...(codecs.videoCodec ? { videocodec: codecs.videoCodec } : {}),
      ...(codecs.vp9Profile ? { vp9_profile: codecs.vp9Profile } : {}),
      ...(codecs.h264Profile ? { h264_profile: codecs.h264Profile } : {}),
    };
    const type = request.streamType;
    const response = await conn.command(
      // `bitrate` and `mediatypes` at the top level too, for proxies older than `publisherSettings`.
      { type: 'create-publisher', sid: request.sid, streamType: type, bitrate, mediatypes: request.mediaTypes, publisherSettings: settings },
      (late) => this.#deleteLate(conn, late, 'delete-publisher'),
    );
    const clientId = response.type === 'command' ? response.command.id : undefined;
    if (!clientId) throw new Error('proxy answered create-publisher without a client id');
    const effective = response.type === 'command' && response.command.bitrate ? response.command.bitrate : bitrate;
    const id = streamKey(request.publisherId, type);
    const log = this.#log.child({ publisher: request.publisherId, streamType: type, proxy: conn.toString(), clientId });
    const publisher = new ProxySfuPublisher(conn, clientId, request, effective, log, () => {
      if (this.#publishers.get(id) === publisher) this.#publishers.delete(id);
      this.#metrics.publishers.dec({ type });
    });
    conn.addClient(clientId, publisher);
    this.#publishers.get(id)?.onLost('replaced by a new publisher');
    this.#publishers.set(id, publisher);
    this.#metrics.publishers.inc({ type });
    this.#metrics.publishersTotal.inc({ type });
    log.info('publisher created on proxy');
    for (const wake of this.#waiters.get(id) ?? []) wake();
    return publisher;
  }

  async #createSubscriber(
    conn: ProxyConnection,
    publisherConn: ProxyConnection,
    publisherClientId: string,
    request: SfuSubscriberRequest,
    publisherToken?: string,
  ): Promise<ProxySfuSubscriber> {
    const remote = conn !== publisherConn;
    const type = request.streamType;
    const command = remote
      ? { type: 'create-subscriber', streamType: type, publisherId: publisherClientId, remoteUrl: publisherConn.url, remoteToken: publisherToken ?? this.createToken(publisherClientId) }
      : { type: 'create-subscriber', streamType: type, publisherId: publisherClientId };
    const response = await conn.command(command, (late) => this.#deleteLate(conn, late, 'delete-subscriber'));
    const clientId = response.type === 'command' ? response.command.id : undefined;
    if (!clientId) throw new Error('proxy answered create-subscriber without a client id');
    const sid = (response.type === 'command' ? response.command.sid : undefined) ?? '';
    const log = this.#log.child({ subscriber: request.subscriberId, publisher: request.publisherId, streamType: type, proxy: conn.toString(), clientId, ...(remote ? { remoteOf: publisherConn.toString() } : {}) });
    const subscriber = new ProxySfuSubscriber(conn, clientId, { ...request, sid, ...(remote ? { publisherConnection: publisherConn } : {}) }, log, () => {
      this.#subscribers.delete(subscriber);
      this.#metrics.subscribers.dec({ type });
    });
    conn.addClient(clientId, subscriber);
    this.#subscribers.add(subscriber);
    this.#metrics.subscribers.inc({ type });
    this.#metrics.subscribersTotal.inc({ type });
    log.info(remote ? 'remote subscriber created on proxy' : 'subscriber created on proxy');
    return subscriber;
  }

  /** A create that answered after we gave up: delete what it made (upstream deferred delete). */
  #deleteLate(conn: ProxyConnection, late: { type: string; command?: { id?: string | undefined } }, command: 'delete-publisher' | 'delete-subscriber'): void {
    const clientId = late.type === 'command' ? late.command?.id : undefined;
    if (!clientId) return;
    this.#log.info({ proxy: conn.toString(), clientId }, 'deleting a stream the proxy created after we gave up on it');
    conn.command({ type: command, clientId }).catch((err: unknown) => this.#log.info({ err: (err as Error).message, clientId }, `late ${command} failed`));
  }

  /** Resolves with the publisher once it exists here, or undefined when `signal` aborts (or we stop). */
  #waitForPublisher(id: string, signal: AbortSignal): Promise<ProxySfuPublisher | undefined> {
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(id);
      if (!waiters) this.#waiters.set(id, (waiters = new Set()));
      const set = waiters;
      const wake = (): void => {
        signal.removeEventListener('abort', wake);
        set.delete(wake);
        if (set.size === 0 && this.#waiters.get(id) === set) this.#waiters.delete(id);
        resolve(this.#publishers.get(id));
      };
      if (signal.aborted || this.#stopped) return wake();
      signal.addEventListener('abort', wake);
      set.add(wake);
    });
  }

  #addConnection(target: ProxyTarget, temporary: boolean, connectToken?: string): ProxyConnection {
    const conn = new ProxyConnection({
      ...this.#options.connection,
      url: target.url,
      ...(target.ip ? { ip: target.ip } : {}),
      helloToken: this.#helloTokens(connectToken),
      timeoutMs: this.#options.proxyTimeoutMs,
      temporary,
      ...(this.#options.skipVerify ? { skipVerify: true } : {}),
      metrics: this.#metrics,
      log: this.#log,
    });
    const k = key(target);
    this.#connections.set(k, conn);
    conn.on('connected', () => this.#updateConnected());
    conn.on('disconnected', () => this.#updateConnected());
    conn.on('unused', () => {
      if (this.#connections.get(k) === conn) this.#connections.delete(k);
      this.#updateConnected();
    });
    if (this.#started && !temporary) conn.start();
    return conn;
  }

  /**
   * Hello tokens of a connection: the token another node gave for its proxy on the first hello
   * (it has no `exp` but proxies refuse an `iat` older than 5 min), ours on every later one.
   */
  #helloTokens(connectToken: string | undefined): () => string {
    let given = connectToken;
    return () => {
      const token = given ?? this.createToken();
      given = undefined;
      return token;
    };
  }

  /** `connected` while at least one configured proxy is usable (the MCU features follow it). */
  #updateConnected(): void {
    const now = !this.#stopped && [...this.#connections.values()].some((c) => c.connected && !c.temporary);
    if (now === this.#connected) return;
    this.#connected = now;
    this.#log.info({ connected: now }, now ? 'a proxy is connected' : 'no proxy connected');
    this.emit(now ? 'connected' : 'disconnected');
  }
}

/** The first promise to resolve with a value; undefined once all resolved without one. */
function firstDefined<T>(promises: Promise<T | undefined>[]): Promise<T | undefined> {
  return new Promise((resolve) => {
    let pending = promises.length;
    if (pending === 0) return resolve(undefined);
    for (const p of promises) {
      void p.then((value) => {
        pending -= 1;
        if (value !== undefined) resolve(value);
        else if (pending === 0) resolve(undefined);
      });
    }
  });
}

/** Upstream `IsSameCountry`: unknown on either side counts as the same. */
function sameCountry(a: string, b: string | undefined): boolean {
  return !isValidCountry(a) || !isValidCountry(b) || a === b;
}
