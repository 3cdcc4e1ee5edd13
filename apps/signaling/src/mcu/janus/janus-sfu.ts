import { EventEmitter } from 'node:events';
import type { Registry } from 'prom-client';
import {
  createVideoRoomMetrics,
  JanusConnection,
  VIDEOROOM_PLUGIN,
  VideoRoomRegistry,
  type JanusHandle,
  type JanusSession,
  type PublisherSettings,
  type VideoRoomMetrics,
} from '@talk-signaling/janus';
import { Backoff, type Logger } from '@talk-signaling/runtime';
import type { McuMetrics } from '../mcu-metrics';
import { SfuNotFoundError, type Sfu, type SfuEvents, type SfuPublisherRequest, type SfuStreamType, type SfuSubscriberRequest } from '../sfu';
import { JanusSfuPublisher } from './janus-sfu-publisher';
import { JanusSfuSubscriber } from './janus-sfu-subscriber';

/** Upstream retries MCU creation at start-up 1 s doubling to 16 s. */
export const DEFAULT_START_RETRY = { initialMs: 1_000, maxMs: 16_000 };
/** How often rooms nobody owns are looked for (they need two sightings to be destroyed). */
export const DEFAULT_RECONCILE_INTERVAL_MS = 60_000;

export interface JanusSfuOptions {
  /** `[mcu] url` (`ws://…`, subprotocol `janus-protocol`). */
  url: string;
  /** `[mcu] timeout` in ms: Janus requests and waiting for publishers. */
  timeoutMs: number;
  /** `[mcu] maxstreambitrate` / `maxscreenbitrate` (bit/s). */
  maxStreamBitrate: number;
  maxScreenBitrate: number;
  registry: Registry;
  mcuMetrics: McuMetrics;
  log: Logger;
  startRetry?: { initialMs: number; maxMs: number };
  /** Reconnect back-off of the Janus WebSocket (default the lib's 1 s → 32 s). */
  reconnect?: { initialMs: number; maxMs: number };
  reconcileIntervalMs?: number;
}

/**
 * The `Sfu` on a Janus gateway (`[mcu] type = janus`): one WebSocket, one Janus session with an
 * idle control handle, and a `VideoRoomRegistry` for the publishers (one room each) and
 * subscribers.
 *
 * ```
 * start() ─► connect+info+session ─fails─► retry 1 s … 16 s
 *               │ ok: 'connected'
 *   session or socket lost: 'disconnected'; publishers/subscribers kept as orphans
 *   socket back (lib reconnect 1 s … 32 s) ─► new session ─► publishers re-created (same id,
 *   new room), then subscribers (new handle/sid) ─► 'connected'
 * ```
 */
export class JanusSfu extends EventEmitter<SfuEvents> implements Sfu {
  /** A node only knows the publishers its own clients created (upstream `getPublisher` alike). */
  readonly localPublishersOnly = true;
  readonly #options: JanusSfuOptions;
  readonly #log: Logger;
  readonly #metrics: VideoRoomMetrics;
  readonly #publishers = new Set<JanusSfuPublisher>();
  readonly #subscribers = new Set<JanusSfuSubscriber>();
  #registry: VideoRoomRegistry | undefined;
  #conn: JanusConnection | undefined;
  #session: JanusSession | undefined;
  #control: JanusHandle | undefined;
  #connected = false;
  #connectedSince: Date | undefined;
  #started = false;
  #stopped = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #wakeRetry: (() => void) | undefined;
  #reconcileTimer: NodeJS.Timeout | undefined;

  constructor(options: JanusSfuOptions) {
    super();
    this.#options = options;
    this.#log = options.log;
    this.#metrics = createVideoRoomMetrics(options.registry);
  }

  get connected(): boolean {
    return this.#connected;
  }

  get url(): string {
    return this.#options.url;
  }

  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    void this.#startLoop();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#wakeRetry?.();
    clearInterval(this.#reconcileTimer);
    const conn = this.#conn;
    this.#conn = undefined;
    conn?.removeAllListeners();
    if (this.#connected) {
      // Destroy our rooms while Janus still listens; bounded so a hanging Janus cannot block shutdown.
      const closing = Promise.all([...this.#publishers, ...this.#subscribers].map((c) => c.close()));
      await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, this.#options.timeoutMs).unref())]);
    }
    for (const c of [...this.#publishers, ...this.#subscribers]) c.abandon();
    this.#setDisconnected();
    await conn?.close();
  }

  maxBitrate(streamType: SfuStreamType): number {
    return streamType === 'screen' ? this.#options.maxScreenBitrate : this.#options.maxStreamBitrate;
  }

  async newPublisher(request: SfuPublisherRequest): Promise<JanusSfuPublisher> {
    const session = this.#usableSession();
    const max = this.maxBitrate(request.streamType);
    const bitrate = request.bitrate > 0 ? Math.min(request.bitrate, max) : max;
    const settings = this.#publisherSettings(request, bitrate);
    const inner = await this.#requireRegistry().createPublisher(session, settings);
    const publisher = new JanusSfuPublisher(request, bitrate, this.#log.child({ publisher: request.publisherId, streamType: request.streamType }));
    publisher.attach(inner, session);
    this.#publishers.add(publisher);
    publisher.once('close', () => this.#publishers.delete(publisher));
    // Recovery needs the very settings again.
    this.#settings.set(publisher, settings);
    return publisher;
  }

  async newSubscriber(request: SfuSubscriberRequest): Promise<JanusSfuSubscriber> {
    const session = this.#usableSession();
    const inner = await this.#createSubscriber(session, request);
    const type = request.streamType;
    const streams = this.#options.mcuMetrics.subscriberStreams;
    const subscriber = new JanusSfuSubscriber(request, this.#log.child({ subscriber: request.subscriberId, publisher: request.publisherId, streamType: type }), (up) =>
      up ? streams.inc({ type }) : streams.dec({ type }),
    );
    subscriber.attach(inner, session);
    this.#subscribers.add(subscriber);
    subscriber.once('close', () => this.#subscribers.delete(subscriber));
    return subscriber;
  }

  stats(): Record<string, unknown> {
    const registry = this.#registry;
    const publishers = registry?.publisherCount ?? 0;
    const result: Record<string, unknown> = {
      url: this.#options.url,
      connected: this.#connected,
      publishers,
      clients: publishers + (registry?.subscriberCount ?? 0),
    };
    if (this.#connected && this.#connectedSince) result['uptime'] = this.#connectedSince.toISOString();
    return result;
  }

  readonly #settings = new WeakMap<JanusSfuPublisher, PublisherSettings>();

  #publisherSettings(request: SfuPublisherRequest, bitrate: number): PublisherSettings {
    const settings: PublisherSettings = {
      publisherId: request.publisherId,
      streamType: request.streamType,
      bitrate,
      timeoutMs: this.#options.timeoutMs,
    };
    const codecs = request.codecs;
    if (codecs?.audioCodec) settings.audioCodec = codecs.audioCodec;
    if (codecs?.videoCodec) settings.videoCodec = codecs.videoCodec;
    if (codecs?.vp9Profile) settings.vp9Profile = codecs.vp9Profile;
    if (codecs?.h264Profile) settings.h264Profile = codecs.h264Profile;
    return settings;
  }

  #createSubscriber(session: JanusSession, request: SfuSubscriberRequest) {
    const timeoutMs = this.#options.timeoutMs;
    return this.#requireRegistry().createSubscriber(session, {
      owner: request.subscriberId,
      publisherId: request.publisherId,
      streamType: request.streamType,
      publisherTimeoutMs: timeoutMs,
      timeoutMs,
      joinTimeoutMs: timeoutMs,
    });
  }

  #usableSession(): JanusSession {
    const session = this.#session;
    if (!this.#connected || !session || session.closed) throw new SfuNotFoundError('janus is not connected');
    return session;
  }

  #requireRegistry(): VideoRoomRegistry {
    if (!this.#registry) throw new SfuNotFoundError('janus is not connected');
    return this.#registry;
  }

  /** First connection: retried 1 s → 16 s until it works (upstream start-up loop). */
  async #startLoop(): Promise<void> {
    const retry = this.#options.startRetry ?? DEFAULT_START_RETRY;
    const backoff = new Backoff({ initial: retry.initialMs, max: retry.maxMs });
    while (!this.#stopped) {
      let conn: JanusConnection | undefined;
      try {
        conn = await JanusConnection.connect({
          url: this.#options.url,
          logger: this.#log,
          requestTimeoutMs: this.#options.timeoutMs,
          ...(this.#options.reconnect ? { reconnect: this.#options.reconnect } : {}),
        });
        if (this.#stopped) {
          await conn.close();
          return;
        }
        this.#conn = conn;
        conn.on('disconnect', () => this.#lost('janus connection lost'));
        conn.on('reconnect', () => void this.#reestablish(conn!));
        await this.#establish(conn);
        return;
      } catch (err) {
        if (conn) {
          conn.removeAllListeners();
          if (this.#conn === conn) this.#conn = undefined;
        }
        const delayMs = backoff.next();
        this.#log.warn({ err: (err as Error).message, url: this.#options.url, retryInMs: delayMs }, 'could not initialise the janus MCU, will retry');
        await conn?.close();
        await new Promise<void>((resolve) => {
          this.#wakeRetry = resolve;
          this.#retryTimer = setTimeout(resolve, delayMs);
          this.#retryTimer.unref();
        });
        this.#wakeRetry = undefined;
      }
    }
  }

  /** `info` checks, Janus session and control handle, then recovery of what we had. */
  async #establish(conn: JanusConnection): Promise<void> {
    const info = await conn.info();
    if (!info.plugins?.[VIDEOROOM_PLUGIN]) throw new Error(`plugin ${VIDEOROOM_PLUGIN} is not supported`);
    if (!info.data_channels) throw new Error('data channels are not supported');
    if (!info['full-trickle']) this.#log.warn('full-trickle is not enabled in janus');
    const session = await conn.createSession();
    const control = await session.attach(VIDEOROOM_PLUGIN, { timeoutMs: this.#options.timeoutMs });
    if (this.#stopped) return;
    this.#registry ??= new VideoRoomRegistry({ metrics: this.#metrics, logger: this.#log, multistream: info.version >= 1000 });
    this.#session = session;
    this.#control = control;
    session.once('close', () => {
      if (this.#session !== session || this.#stopped) return;
      this.#lost('janus session closed');
      // Janus forgot the session (keepalive 458, timeout) while the socket lives: start over.
      if (conn.state === 'connected') void this.#reestablish(conn);
    });
    this.#log.info({ name: info.name, version: info.version_string }, 'connected to janus');
    this.#connectedSince = new Date();
    this.#connected = true;
    await this.#recoverPublishers(session);
    this.emit('connected');
    void this.#recoverSubscribers(session);
    clearInterval(this.#reconcileTimer);
    this.#reconcileTimer = setInterval(() => void this.#reconcile(), this.#options.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS);
    this.#reconcileTimer.unref();
  }

  async #reestablish(conn: JanusConnection): Promise<void> {
    if (this.#stopped || this.#conn !== conn) return;
    try {
      await this.#establish(conn);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'could not re-establish the janus session; reconnecting');
      conn.removeAllListeners();
      this.#conn = undefined;
      this.#lost('janus re-establish failed');
      await conn.close();
      if (!this.#stopped) void this.#startLoop();
    }
  }

  #lost(why: string): void {
    if (!this.#connected) return;
    this.#log.warn({ why }, 'janus MCU disconnected');
    this.#setDisconnected();
    this.emit('disconnected');
  }

  #setDisconnected(): void {
    this.#connected = false;
    this.#session = undefined;
    this.#control = undefined;
    this.#connectedSince = undefined;
    clearInterval(this.#reconcileTimer);
  }

  /** Publishers first: each gets a new room under the same publisher id (upstream). */
  async #recoverPublishers(session: JanusSession): Promise<void> {
    const orphans = [...this.#publishers].filter((p) => p.orphaned);
    if (orphans.length === 0) return;
    this.#log.info({ publishers: orphans.length }, 're-creating publishers after janus came back');
    await Promise.all(
      orphans.map(async (publisher) => {
        const settings = this.#settings.get(publisher);
        try {
          if (!settings) throw new Error('no settings');
          publisher.attach(await this.#requireRegistry().createPublisher(session, settings), session);
        } catch (err) {
          this.#log.warn({ err: (err as Error).message, publisher: publisher.publisherId }, 'could not re-create publisher');
          publisher.abandon();
        }
      }),
    );
  }

  /** Then subscribers: a new handle each (new sid); the client's next requestoffer joins. */
  async #recoverSubscribers(session: JanusSession): Promise<void> {
    const orphans = [...this.#subscribers].filter((s) => s.orphaned);
    await Promise.all(
      orphans.map(async (subscriber) => {
        try {
          subscriber.attach(await this.#createSubscriber(session, subscriber), session);
        } catch (err) {
          this.#log.warn({ err: (err as Error).message, publisher: subscriber.publisherId }, 'could not re-create subscriber');
          subscriber.abandon();
        }
      }),
    );
  }

  async #reconcile(): Promise<void> {
    const control = this.#control;
    if (!control || !this.#registry) return;
    try {
      await this.#registry.reconcile(control);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'videoroom reconciliation failed');
    }
  }
}
