import { EventEmitter } from 'node:events';
import type { Registry } from 'prom-client';
import {
  createVideoRoomMetrics,
  JanusConnection,
  VIDEOROOM_PLUGIN,
  VideoRoomRegistry,
  type JanusHandle,
  type JanusSession,
  type ServerInfo,
  type VideoRoomMetrics,
} from '@talk-signaling/janus';
import { Backoff, type Logger } from '@talk-signaling/runtime';

/** Upstream proxy retries the first MCU connection 1 s doubling to 16 s. */
export const START_RETRY = { initialMs: 1_000, maxMs: 16_000 };
/** How often rooms nobody owns are looked for (two sightings before one is destroyed). */
export const DEFAULT_RECONCILE_INTERVAL_MS = 30_000;

export interface JanusBackendOptions {
  url: string;
  /** `[mcu] timeout` in ms. */
  timeoutMs: number;
  log: Logger;
  registry: Registry;
  reconcileIntervalMs?: number;
  /** Reconnect back-off of the Janus WebSocket (default the lib's 1 s → 32 s). */
  reconnect?: { initialMs: number; maxMs: number };
  startRetry?: { initialMs: number; maxMs: number };
}

export type JanusBackendEvents = {
  /** A Janus session is up (first time and after every loss). */
  connected: [];
  /** Session or socket lost: every publisher/subscriber of the proxy is gone. */
  disconnected: [];
};

/**
 * The proxy's one Janus: WebSocket, one session with an idle control handle, a
 * `VideoRoomRegistry` for the objects. Unlike the signaling server's Janus MCU nothing is
 * re-created after a loss: the proxy tells its clients `backend-disconnected` and they publish
 * again (upstream proxy). Rooms left behind by the loss are destroyed by `reconcile()`.
 */
export class JanusBackend extends EventEmitter<JanusBackendEvents> {
  readonly #options: JanusBackendOptions;
  readonly #log: Logger;
  readonly #metrics: VideoRoomMetrics;
  #conn: JanusConnection | undefined;
  #session: JanusSession | undefined;
  #control: JanusHandle | undefined;
  #registry: VideoRoomRegistry | undefined;
  #info: ServerInfo | undefined;
  #connectedSince: Date | undefined;
  #stopped = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #wakeRetry: (() => void) | undefined;
  #reconcileTimer: NodeJS.Timeout | undefined;

  constructor(options: JanusBackendOptions) {
    super();
    this.#options = options;
    this.#log = options.log.child({ component: 'janus-backend' });
    this.#metrics = createVideoRoomMetrics(options.registry);
  }

  get connected(): boolean {
    return this.#session !== undefined && !this.#session.closed;
  }

  get url(): string {
    return this.#options.url;
  }

  /** The session to create objects in, or undefined while Janus is away. */
  get session(): JanusSession | undefined {
    return this.connected ? this.#session : undefined;
  }

  get registry(): VideoRoomRegistry | undefined {
    return this.#registry;
  }

  get control(): JanusHandle | undefined {
    return this.#control;
  }

  /** Janus ≥ 1.1 (`version` ≥ 1100): remote publishers (`publish_remotely`, `add_remote_publisher`). */
  get remoteStreams(): boolean {
    return (this.#info?.version ?? 0) >= 1100;
  }

  get multistream(): boolean {
    return (this.#info?.version ?? 0) >= 1000;
  }

  start(): void {
    void this.#startLoop();
  }

  /** Destroys every room of ours (bounded by the MCU timeout), then closes the connection. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#wakeRetry?.();
    clearInterval(this.#reconcileTimer);
    const conn = this.#conn;
    this.#conn = undefined;
    conn?.removeAllListeners();
    if (this.connected && this.#registry) {
      const closing = this.#registry.closeAll();
      await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, this.#options.timeoutMs).unref())]);
    }
    this.#session = undefined;
    await conn?.close();
  }

  /** `/stats` `mcu` part. */
  stats(): Record<string, unknown> {
    const result: Record<string, unknown> = {
      url: this.#options.url,
      connected: this.connected,
      publishers: this.#registry?.publisherCount ?? 0,
      clients: (this.#registry?.publisherCount ?? 0) + (this.#registry?.subscriberCount ?? 0),
    };
    if (this.connected && this.#connectedSince) result['uptime'] = this.#connectedSince.toISOString();
    return result;
  }

  /** One reconciliation run now (tests; the timer runs it periodically). */
  async reconcile(): Promise<number[]> {
    const control = this.#control;
    if (!control || !this.#registry || !this.connected) return [];
    try {
      return (await this.#registry.reconcile(control)).destroyed;
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'videoroom reconciliation failed');
      return [];
    }
  }

  async #startLoop(): Promise<void> {
    const retry = this.#options.startRetry ?? START_RETRY;
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
        const c = conn;
        c.on('disconnect', () => this.#lost('janus connection lost'));
        c.on('reconnect', () => void this.#reestablish(c));
        await this.#establish(c);
        return;
      } catch (err) {
        if (conn) {
          conn.removeAllListeners();
          if (this.#conn === conn) this.#conn = undefined;
          await conn.close();
        }
        const delayMs = backoff.next();
        this.#log.warn({ err: (err as Error).message, url: this.#options.url, retryInMs: delayMs }, 'could not connect to janus, will retry');
        await new Promise<void>((resolve) => {
          this.#wakeRetry = resolve;
          this.#retryTimer = setTimeout(resolve, delayMs);
          this.#retryTimer.unref();
        });
        this.#wakeRetry = undefined;
      }
    }
  }

  /** `info` checks (fact sheet 5.2), session, control handle. */
  async #establish(conn: JanusConnection): Promise<void> {
    const info = await conn.info();
    if (!info.plugins?.[VIDEOROOM_PLUGIN]) throw new Error(`plugin ${VIDEOROOM_PLUGIN} is not supported`);
    if (!info.data_channels) throw new Error('data channels are not supported');
    if (!info['full-trickle']) this.#log.warn('full-trickle is not enabled in janus');
    const session = await conn.createSession();
    const control = await session.attach(VIDEOROOM_PLUGIN, { timeoutMs: this.#options.timeoutMs });
    if (this.#stopped) return;
    this.#info = info;
    this.#registry ??= new VideoRoomRegistry({ metrics: this.#metrics, logger: this.#log, multistream: info.version >= 1000 });
    this.#session = session;
    this.#control = control;
    this.#connectedSince = new Date();
    session.once('close', () => {
      if (this.#session !== session || this.#stopped) return;
      this.#lost('janus session closed');
      // Janus forgot the session (keepalive 458, timeout) while the socket lives: start over.
      if (conn.state === 'connected') void this.#reestablish(conn);
    });
    this.#log.info({ name: info.name, version: info.version_string, remoteStreams: this.remoteStreams }, 'connected to janus');
    clearInterval(this.#reconcileTimer);
    this.#reconcileTimer = setInterval(() => void this.reconcile(), this.#options.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS);
    this.#reconcileTimer.unref();
    this.emit('connected');
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
    if (this.#session === undefined) return;
    this.#log.warn({ why }, 'janus disconnected');
    this.#session = undefined;
    this.#control = undefined;
    this.#connectedSince = undefined;
    clearInterval(this.#reconcileTimer);
    this.emit('disconnected');
  }
}
