import { EventEmitter } from 'node:events';
import type { Registry } from 'prom-client';
import { Backoff, type Logger } from '@talk-signaling/runtime';
import { JanusConnection } from '../gateway/janus-connection';
import type { JanusHandle } from '../gateway/janus-handle';
import type { JanusSession } from '../gateway/janus-session';
import type { ServerInfo } from '../gateway/janus-types';
import { createVideoRoomMetrics, type VideoRoomMetrics } from '../videoroom/metrics';
import { VideoRoomRegistry } from '../videoroom/videoroom-registry';
import { VIDEOROOM_PLUGIN } from '../videoroom/videoroom-types';

/** Upstream retries the first Janus connection 1 s doubling to 16 s (server and proxy alike). */
export const DEFAULT_START_RETRY = Object.freeze({ initialMs: 1_000, maxMs: 16_000 });

export interface JanusLinkOptions {
  /** `[mcu] url` (`ws://…`, subprotocol `janus-protocol`). */
  url: string;
  /** `[mcu] timeout` in ms: Janus requests, and how long `stop()` waits for rooms to go. */
  timeoutMs: number;
  log: Logger;
  /** Where the VideoRoom metrics (`signaling_mcu_*`) are registered. */
  registry: Registry;
  /** How often rooms nobody owns are looked for (two sightings before one is destroyed). */
  reconcileIntervalMs: number;
  /** First-connection retry (default {@link DEFAULT_START_RETRY}). */
  startRetry?: { initialMs: number; maxMs: number };
  /** Reconnect back-off of the Janus WebSocket once it was up (default the connection's 1 s → 32 s). */
  reconnect?: { initialMs: number; maxMs: number };
}

export type JanusLinkEvents = {
  /** A Janus session with a control handle is up (first time and after every loss). */
  up: [session: JanusSession, info: ServerInfo];
  /** Session or socket lost: every object of the old session is gone. Not emitted by `stop()`. */
  down: [why: string];
};

/**
 * An app's one link to Janus: the WebSocket, one Janus session with an idle VideoRoom control
 * handle, and the `VideoRoomRegistry` of the objects made in it.
 *
 * ```
 * start() ─► connect+info+session ─fails─► retry (startRetry, 1 s … 16 s)
 *               │ ok: 'up'
 *   session or socket lost: 'down'
 *   socket back (connection's reconnect) or session forgotten ─► new session ─► 'up'
 *   re-establishing fails ─► socket dropped, start-up loop again
 * ```
 *
 * While up, rooms no live publisher owns (left behind by a lost session) are destroyed every
 * `reconcileIntervalMs`. What to do with the objects of a lost session is the owner's policy.
 */
export class JanusLink extends EventEmitter<JanusLinkEvents> {
  readonly #options: JanusLinkOptions;
  readonly #log: Logger;
  readonly #metrics: VideoRoomMetrics;
  #conn: JanusConnection | undefined;
  #session: JanusSession | undefined;
  #control: JanusHandle | undefined;
  #registry: VideoRoomRegistry | undefined;
  #info: ServerInfo | undefined;
  #connectedSince: Date | undefined;
  #started = false;
  #stopped = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #wakeRetry: (() => void) | undefined;
  #reconcileTimer: NodeJS.Timeout | undefined;

  constructor(options: JanusLinkOptions) {
    super();
    this.#options = options;
    this.#log = options.log;
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

  /** Created on the first connection (it needs to know whether Janus is multistream). */
  get registry(): VideoRoomRegistry | undefined {
    return this.#registry;
  }

  /** `info` of the Janus last connected to. */
  get info(): ServerInfo | undefined {
    return this.#info;
  }

  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    void this.#startLoop();
  }

  /**
   * Destroys our rooms while Janus still listens — `closeRooms` if given, else every object of
   * the registry — bounded by the timeout so a hanging Janus cannot block shutdown; then closes.
   */
  async stop(closeRooms?: () => Promise<unknown>): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#wakeRetry?.();
    clearInterval(this.#reconcileTimer);
    const conn = this.#conn;
    this.#conn = undefined;
    conn?.removeAllListeners();
    if (this.connected) {
      const closing = closeRooms ? closeRooms() : this.#registry?.closeAll();
      await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, this.#options.timeoutMs).unref())]);
    }
    this.#clear();
    await conn?.close();
  }

  /** `/stats` `mcu` part (upstream shape). */
  stats(): Record<string, unknown> {
    const publishers = this.#registry?.publisherCount ?? 0;
    const result: Record<string, unknown> = {
      url: this.#options.url,
      connected: this.connected,
      publishers,
      clients: publishers + (this.#registry?.subscriberCount ?? 0),
    };
    if (this.connected && this.#connectedSince) result['uptime'] = this.#connectedSince.toISOString();
    return result;
  }

  /** One reconciliation run now, returning the rooms destroyed (tests; the timer runs it periodically). */
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
        if (this.#stopped) return; // stop() closed it meanwhile: no retry, nothing to warn about
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

  /** `info` checks (fact sheet 5.2), session, control handle, then 'up'. */
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
    this.#log.info({ name: info.name, version: info.version_string }, 'connected to janus');
    clearInterval(this.#reconcileTimer);
    this.#reconcileTimer = setInterval(() => void this.reconcile(), this.#options.reconcileIntervalMs);
    this.#reconcileTimer.unref();
    this.emit('up', session, info);
  }

  async #reestablish(conn: JanusConnection): Promise<void> {
    if (this.#stopped || this.#conn !== conn) return;
    try {
      await this.#establish(conn);
    } catch (err) {
      if (this.#stopped) return;
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
    this.#clear();
    this.emit('down', why);
  }

  #clear(): void {
    this.#session = undefined;
    this.#control = undefined;
    this.#connectedSince = undefined;
    clearInterval(this.#reconcileTimer);
  }
}
