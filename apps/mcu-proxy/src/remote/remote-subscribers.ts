import { createPrivateKey, type KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { VideoRoomSubscriber, type PublisherStream, type PublisherStreamType, type VideoRoomRemotePublisher } from '@talk-signaling/janus';
import type { Logger } from '@talk-signaling/runtime';
import type { ProxyConfig } from '../config/proxy-config';
import type { JanusBackend } from '../janus/janus-backend';
import type { SubscriberClient } from '../server/proxy-clients';
import type { ProxySession } from '../session/proxy-session';
import { RemoteConnection } from './remote-connection';

/** Upstream gives the whole remote set-up 5 s. */
export const REMOTE_PUBLISHER_TIMEOUT_MS = 5_000;

interface RemoteFeed {
  key: string;
  url: string;
  publisherId: string;
  streamType: PublisherStreamType;
  ready: Promise<VideoRoomRemotePublisher>;
  subscribers: Set<VideoRoomSubscriber>;
}

interface Link {
  conn: Promise<RemoteConnection>;
  feeds: Set<RemoteFeed>;
}

export interface RemoteSubscribersOptions {
  config: ProxyConfig;
  backend: JanusBackend;
  log: Logger;
  timeoutMs?: number;
  /** Reconnect back-off and grace of the connections to other proxies (tests shorten them). */
  reconnect?: { initialMs: number; maxMs: number };
  resumeGraceMs?: number;
}

/** Upstream `IsPublicIP`: not loopback, link-local or RFC 1918. */
function isPublicIpv4(address: string): boolean {
  const [a = 0, b = 0] = address.split('.').map(Number);
  return !(a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254));
}

/** `[app] hostname`, else the first public IPv4 of the host (upstream), else undefined. */
export function remoteHostname(config: ProxyConfig): string | undefined {
  if (config.app.hostname) return config.app.hostname;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal && isPublicIpv4(a.address)) return a.address;
  }
  return undefined;
}

/**
 * Subscribing side of remote streams: a subscriber here fed by a publisher on another proxy.
 * Per (proxy URL, publisher, stream type) one Janus remote publisher, shared by all local
 * subscribers and reference-counted: the first subscriber connects to the other proxy (hello
 * with our token), asks `get-publisher-streams`, creates the remote publisher and sends
 * `publish-remote` with our host and its ports; the last one leaving undoes all of it. A lost
 * connection is resumed (forwardings intact) or, when the other side forgot us, the forwardings
 * are requested again; a connection gone for good closes its feeds and their subscribers.
 */
export class RemoteSubscribers {
  readonly #o: RemoteSubscribersOptions;
  readonly #tokenId: string;
  readonly #tokenKey: KeyObject;
  readonly #hostname: string;
  readonly #links = new Map<string, Link>();
  readonly #feeds = new Map<string, RemoteFeed>();

  private constructor(options: RemoteSubscribersOptions, tokenKey: KeyObject, hostname: string) {
    this.#o = options;
    this.#tokenId = options.config.app.token_id;
    this.#tokenKey = tokenKey;
    this.#hostname = hostname;
  }

  /** Undefined when `[app] token_id`/`token_key` are not set or no hostname is known (remote streams off). */
  static create(options: RemoteSubscribersOptions): RemoteSubscribers | undefined {
    const app = options.config.app;
    if (!app.token_id) {
      options.log.info('no [app] token_id: remote streams disabled');
      return undefined;
    }
    const key = createPrivateKey(readFileSync(app.token_key));
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`[app] token_key ${app.token_key}: not an RSA private key`);
    const hostname = remoteHostname(options.config);
    if (!hostname) {
      options.log.warn('could not determine a hostname for remote streams; set [app] hostname. Remote streams disabled');
      return undefined;
    }
    options.log.info({ tokenId: app.token_id, hostname }, 'remote streams enabled');
    return new RemoteSubscribers(options, key, hostname);
  }

  get #timeoutMs(): number {
    return this.#o.timeoutMs ?? REMOTE_PUBLISHER_TIMEOUT_MS;
  }

  /** Number of remote feeds (Janus remote publishers) in use. */
  get feedCount(): number {
    return this.#feeds.size;
  }

  async createSubscriber(session: ProxySession, request: { publisherId: string; streamType: PublisherStreamType; remoteUrl: string }): Promise<SubscriberClient> {
    const janus = this.#o.backend.session;
    if (!janus) throw new Error('not connected to janus');
    const feed = this.#feed(request.remoteUrl, request.publisherId, request.streamType);
    let subscriber: VideoRoomSubscriber | undefined;
    try {
      const remote = await feed.ready;
      const timeoutMs = this.#o.config.mcu.timeout * 1000;
      subscriber = await VideoRoomSubscriber.create(janus, {
        roomId: remote.roomId,
        feedId: remote.feedId,
        multistream: this.#o.backend.multistream,
        timeoutMs,
        joinTimeoutMs: timeoutMs,
      });
      feed.subscribers.add(subscriber);
      const sub = subscriber;
      sub.once('close', () => this.#release(feed, sub));
      return {
        kind: 'subscriber',
        id: randomUUID(),
        session,
        streamType: request.streamType,
        bitrate: remote.bitrate,
        subscriber: sub,
        queue: Promise.resolve(),
      };
    } catch (err) {
      if (!subscriber) this.#releaseIfUnused(feed);
      throw err;
    }
  }

  /** Closes every remote feed (shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#feeds.values()].map((feed) => this.#teardown(feed)));
  }

  #feed(url: string, publisherId: string, streamType: PublisherStreamType): RemoteFeed {
    const key = `${url}\n${publisherId}\n${streamType}`;
    const existing = this.#feeds.get(key);
    if (existing) return existing;
    const feed: RemoteFeed = { key, url, publisherId, streamType, subscribers: new Set(), ready: undefined as unknown as Promise<VideoRoomRemotePublisher> };
    feed.ready = this.#setUp(feed);
    // A failed set-up is torn down by the subscriber that waited for it (createSubscriber).
    feed.ready.catch(() => undefined);
    this.#feeds.set(key, feed);
    return feed;
  }

  async #setUp(feed: RemoteFeed): Promise<VideoRoomRemotePublisher> {
    const conn = await this.#link(feed).conn;
    const janus = this.#o.backend.session;
    const registry = this.#o.backend.registry;
    if (!janus || !registry) throw new Error('not connected to janus');
    const reply = await conn.command({ type: 'get-publisher-streams', clientId: feed.publisherId });
    const streams = Array.isArray(reply['streams']) ? (reply['streams'] as PublisherStream[]) : [];
    if (streams.length === 0) throw new Error('remote publisher has no streams');
    const max = feed.streamType === 'screen' ? this.#o.config.mcu.maxscreenbitrate : this.#o.config.mcu.maxstreambitrate;
    const remote = await registry.createRemotePublisher(janus, {
      publisherId: feed.publisherId,
      streamType: feed.streamType,
      bitrate: max,
      streams,
      timeoutMs: this.#timeoutMs,
    });
    try {
      await conn.command({ type: 'publish-remote', clientId: feed.publisherId, hostname: this.#hostname, port: remote.port, rtcpPort: remote.rtcpPort });
    } catch (err) {
      await remote.close();
      throw err;
    }
    // Gone on the other side or here: every subscriber of the feed closes.
    remote.onClose(() => void this.#teardown(feed));
    this.#o.log.info({ url: feed.url, publisherId: feed.publisherId, room: remote.roomId, port: remote.port }, 'remote publisher created');
    return remote;
  }

  #link(feed: RemoteFeed): Link {
    let link = this.#links.get(feed.url);
    if (!link) {
      const conn = RemoteConnection.connect({
        url: feed.url,
        tokenId: this.#tokenId,
        tokenKey: this.#tokenKey,
        timeoutMs: this.#timeoutMs,
        skipVerify: this.#o.config.app.skipverify,
        log: this.#o.log,
        ...(this.#o.reconnect ? { reconnect: this.#o.reconnect } : {}),
        ...(this.#o.resumeGraceMs !== undefined ? { resumeGraceMs: this.#o.resumeGraceMs } : {}),
      });
      const created: Link = { conn, feeds: new Set() };
      link = created;
      this.#links.set(feed.url, created);
      conn.then(
        (c) => {
          c.on('event', (event) => {
            if (event['type'] !== 'publisher-closed') return;
            for (const f of created.feeds) if (f.publisherId === event['clientId']) void this.#teardown(f);
          });
          // A new session on the other side lost our forwardings: ask for them again.
          c.on('reset', () => {
            for (const f of created.feeds) void this.#republish(c, f);
          });
          c.on('close', () => {
            if (this.#links.get(feed.url) === created) this.#links.delete(feed.url);
            for (const f of created.feeds) void this.#teardown(f);
          });
        },
        () => {
          if (this.#links.get(feed.url) === created) this.#links.delete(feed.url);
        },
      );
    }
    link.feeds.add(feed);
    return link;
  }

  async #republish(conn: RemoteConnection, feed: RemoteFeed): Promise<void> {
    const remote = await feed.ready.catch(() => undefined);
    if (!remote || this.#feeds.get(feed.key) !== feed) return;
    try {
      await conn.command({ type: 'publish-remote', clientId: feed.publisherId, hostname: this.#hostname, port: remote.port, rtcpPort: remote.rtcpPort });
    } catch (err) {
      this.#o.log.info({ err: (err as Error).message, publisherId: feed.publisherId }, 'could not publish-remote again; closing the feed');
      await this.#teardown(feed);
    }
  }

  #release(feed: RemoteFeed, subscriber: VideoRoomSubscriber): void {
    feed.subscribers.delete(subscriber);
    this.#releaseIfUnused(feed);
  }

  #releaseIfUnused(feed: RemoteFeed): void {
    if (feed.subscribers.size === 0) void this.#teardown(feed);
  }

  /** Stops the forwarding on the other proxy, closes the remote publisher and its subscribers. */
  async #teardown(feed: RemoteFeed): Promise<void> {
    if (this.#feeds.get(feed.key) !== feed) return;
    this.#feeds.delete(feed.key);
    const link = this.#links.get(feed.url);
    link?.feeds.delete(feed);
    const subscribers = [...feed.subscribers];
    feed.subscribers.clear();
    await Promise.all(subscribers.map((s) => s.close()));
    const remote = await feed.ready.catch(() => undefined);
    if (remote) {
      const conn = await link?.conn.catch(() => undefined);
      if (conn?.connected) {
        await conn
          .command({ type: 'unpublish-remote', clientId: feed.publisherId, hostname: this.#hostname, port: remote.port, rtcpPort: remote.rtcpPort })
          .catch((err: unknown) => this.#o.log.info({ err: (err as Error).message }, 'could not unpublish-remote'));
      }
      await remote.close();
    }
    if (link && link.feeds.size === 0 && this.#links.get(feed.url) === link) {
      this.#links.delete(feed.url);
      (await link.conn.catch(() => undefined))?.close();
    }
  }
}
