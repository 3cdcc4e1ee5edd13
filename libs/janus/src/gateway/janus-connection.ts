import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { Backoff, silentLogger, type Logger } from '@talk-signaling/runtime';
import type { JanusChannel } from './channel';
import { ClosedError } from './errors';
import { JanusSession, type JanusSessionOptions } from './janus-session';
import type { JanusConnectionEvents, JanusMessage, ServerInfo } from './janus-types';
import { TransactionTable, type TransactionOptions } from './transaction-table';

/** Subprotocol the Janus WebSocket transport speaks. */
export const JANUS_SUBPROTOCOL = 'janus-protocol';
/** Default request deadline: upstream's `[mcu] timeout` default (10 s). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Upstream reconnects after 1 s, doubling up to 32 s. */
export const DEFAULT_RECONNECT_INITIAL_MS = 1_000;
export const DEFAULT_RECONNECT_MAX_MS = 32_000;
/** WebSocket ping to Janus every 30 s (upstream); a missing pong by the next ping kills the socket. */
export const DEFAULT_PING_INTERVAL_MS = 30_000;
/** Deadline for the WebSocket handshake. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Lifecycle states; see {@link JanusConnection}. */
export type JanusConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Options for {@link JanusConnection.connect}. */
export interface JanusConnectionOptions {
  /** `ws://` or `wss://` URL of the Janus WebSocket transport. */
  url: string;
  logger?: Logger;
  /** Deadline per request (ms); default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  requestTimeoutMs?: number;
  /** Reconnect backoff (ms); default 1 000 doubling to 32 000 as upstream. */
  reconnect?: { initialMs?: number; maxMs?: number; jitter?: number };
  /** WebSocket ping interval (ms); default {@link DEFAULT_PING_INTERVAL_MS}. */
  pingIntervalMs?: number;
  /** WebSocket handshake deadline (ms); default {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number;
}

/**
 * One WebSocket to Janus: transactions with timeouts, routing of events to sessions, WebSocket
 * pings, and reconnect with backoff.
 *
 * ```
 *  connect() ──► connecting ──open──► connected ──socket lost──► reconnecting ──open──► connected
 *                    │ fails: connect() rejects      ▲   'disconnect'      │  'reconnecting' per try
 *                    ▼                               └──── 'reconnect' ◄───┘
 *                  closed ◄──────────── close() from any state ('close')
 * ```
 *
 * On loss every pending request fails with {@link ClosedError} and every session closes (Janus
 * forgets sessions of a dead transport, or died itself); after `'reconnect'` the owner decides
 * what to re-create.
 */
export class JanusConnection extends EventEmitter<JanusConnectionEvents> {
  readonly #url: string;
  readonly #log: Logger;
  readonly #requestTimeoutMs: number;
  readonly #pingIntervalMs: number;
  readonly #connectTimeoutMs: number;
  readonly #backoff: Backoff;
  readonly #pending = new TransactionTable();
  readonly #sessions = new Map<number, JanusSession>();
  #state: JanusConnectionState = 'connecting';
  /** The open socket; set while `connected`. */
  #ws: WebSocket | undefined;
  /** A socket still in its handshake (first connect or a reconnect attempt). */
  #connectingWs: WebSocket | undefined;
  /** Pending reconnect delay; set while `reconnecting` and waiting. */
  #reconnectTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #awaitingPong = false;
  #attempt = 0;
  #closedPromise: Promise<void> | undefined;

  private constructor(options: JanusConnectionOptions) {
    super();
    this.#url = options.url;
    this.#log = (options.logger ?? silentLogger()).child({ component: 'janus', url: options.url });
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#pingIntervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#backoff = new Backoff({
      initial: options.reconnect?.initialMs ?? DEFAULT_RECONNECT_INITIAL_MS,
      max: options.reconnect?.maxMs ?? DEFAULT_RECONNECT_MAX_MS,
      jitter: options.reconnect?.jitter ?? 0,
    });
  }

  /**
   * Opens the WebSocket. Rejects (and leaves nothing running) if the first attempt fails; the
   * caller owns start-up retries (upstream retries MCU creation 1 s → 16 s).
   */
  static async connect(options: JanusConnectionOptions): Promise<JanusConnection> {
    const conn = new JanusConnection(options);
    try {
      await conn.#open();
    } catch (err) {
      await conn.close();
      throw err;
    }
    if (conn.#transition(['connecting'], 'connected')) conn.emit('connected');
    return conn;
  }

  /** Current lifecycle state. */
  get state(): JanusConnectionState {
    return this.#state;
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** The Janus URL. */
  get url(): string {
    return this.#url;
  }

  /** Requests waiting for an answer (for tests and stats). */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /** Live sessions on this connection. */
  get sessions(): ReadonlyMap<number, JanusSession> {
    return this.#sessions;
  }

  /** `info` → `server_info`. */
  async info(timeoutMs?: number): Promise<ServerInfo> {
    const reply = await this.request({ janus: 'info' }, { request: 'info', ackIsFinal: false, timeoutMs: timeoutMs ?? this.#requestTimeoutMs });
    return reply as unknown as ServerInfo;
  }

  /** `create` → a new Janus session (keepalive running). */
  async createSession(options: JanusSessionOptions = {}): Promise<JanusSession> {
    const reply = await this.request({ janus: 'create' }, { request: 'create', ackIsFinal: false, timeoutMs: this.#requestTimeoutMs });
    const id = (reply['data'] as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'number') throw new Error(`janus create: no session id in ${JSON.stringify(reply)}`);
    if (this.#state !== 'connected') throw new ClosedError('janus connection lost while creating a session');
    const session = new JanusSession(this.#sessionChannel(id), id, options, () => this.#sessions.delete(id));
    this.#sessions.set(id, session);
    return session;
  }

  /**
   * Low-level: sends `msg` with a new transaction and waits for its final answer. Fails fast
   * with {@link ClosedError} unless connected.
   */
  request(msg: Record<string, unknown>, options: TransactionOptions): Promise<JanusMessage> {
    const ws = this.#ws;
    if (this.#state !== 'connected' || ws === undefined) {
      return Promise.reject(new ClosedError(`janus connection ${this.#state}`));
    }
    const { id, result } = this.#pending.create(options);
    const text = JSON.stringify({ ...msg, transaction: id });
    if (this.#log.isLevelEnabled('debug')) this.#log.debug({ send: text }, 'janus send');
    ws.send(text, (err) => {
      if (err) this.#pending.reject(id, new ClosedError('janus send failed', { cause: err }));
    });
    return result;
  }

  /**
   * Closes for good: fails pending requests, closes sessions without network round trips,
   * stops reconnecting, closes the socket. Resolves once the socket is closed.
   */
  close(): Promise<void> {
    if (this.#closedPromise) return this.#closedPromise;
    const wasOpen = this.#state !== 'closed';
    this.#state = 'closed';
    this.#log.debug({ to: 'closed' }, 'state');
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#stopPing();
    const err = new ClosedError('janus connection closed');
    this.#pending.rejectAll(err);
    this.#closeSessions(err);
    // A handshake in progress is aborted; its own listeners in #open() reject and clean up.
    this.#connectingWs?.terminate();
    const ws = this.#ws;
    this.#ws = undefined;
    this.#closedPromise = ws ? closeSocket(ws) : Promise.resolve();
    if (wasOpen) this.emit('close');
    return this.#closedPromise;
  }

  #transition(from: readonly JanusConnectionState[], to: JanusConnectionState): boolean {
    if (!from.includes(this.#state)) return false;
    this.#log.debug({ from: this.#state, to }, 'state');
    this.#state = to;
    return true;
  }

  #sessionChannel(sessionId: number): JanusChannel {
    return {
      request: (msg, options) => this.request({ ...msg, session_id: sessionId }, options),
      cancel: (owner, err) => this.#pending.rejectOwner(owner, err),
      logger: this.#log.child({ session: sessionId }),
      requestTimeoutMs: this.#requestTimeoutMs,
    };
  }

  /** One WebSocket handshake; on success the socket becomes `#ws`. */
  #open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.#url, JANUS_SUBPROTOCOL, { handshakeTimeout: this.#connectTimeoutMs });
      this.#connectingWs = ws;
      const fail = (err: Error): void => {
        ws.removeAllListeners();
        ws.on('error', () => undefined); // late errors of a socket we gave up on
        ws.terminate();
        if (this.#connectingWs === ws) this.#connectingWs = undefined;
        reject(err);
      };
      ws.once('error', (err) => fail(err));
      ws.once('close', () => fail(new Error('janus websocket closed during handshake')));
      ws.once('open', () => {
        ws.removeAllListeners();
        this.#connectingWs = undefined;
        if (this.#state === 'closed') {
          void closeSocket(ws);
          reject(new ClosedError('janus connection closed'));
          return;
        }
        this.#attach(ws);
        resolve();
      });
    });
  }

  #attach(ws: WebSocket): void {
    this.#ws = ws;
    ws.on('message', (data) => this.#onMessage(data.toString()));
    ws.on('pong', () => {
      this.#awaitingPong = false;
    });
    ws.on('error', (err) => this.#log.warn({ err }, 'janus websocket error'));
    ws.on('close', (code, reason) => {
      if (this.#ws !== ws) return;
      this.#onLost(new ClosedError(`janus websocket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
    });
    this.#startPing(ws);
  }

  #startPing(ws: WebSocket): void {
    this.#stopPing();
    this.#awaitingPong = false;
    this.#pingTimer = setInterval(() => {
      if (this.#awaitingPong) {
        this.#log.warn('janus did not answer the last ping; dropping the connection');
        ws.terminate();
        return;
      }
      this.#awaitingPong = true;
      ws.ping();
    }, this.#pingIntervalMs);
    this.#pingTimer.unref();
  }

  #stopPing(): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  #onMessage(text: string): void {
    let msg: JanusMessage;
    try {
      msg = JSON.parse(text) as JanusMessage;
    } catch (err) {
      this.#log.warn({ err, text }, 'janus sent invalid JSON');
      return;
    }
    if (typeof msg !== 'object' || msg === null || typeof msg.janus !== 'string') {
      this.#log.warn({ text }, 'janus sent a message without verb');
      return;
    }
    if (this.#log.isLevelEnabled('debug')) this.#log.debug({ recv: text }, 'janus recv');
    if (msg.transaction !== undefined && this.#pending.deliver(msg)) return;
    const sessionId = msg.session_id;
    if (typeof sessionId === 'number') {
      const session = this.#sessions.get(sessionId);
      if (session) {
        session.dispatch(msg);
        return;
      }
    }
    this.#log.debug({ janus: msg.janus, session: sessionId, sender: msg.sender }, 'janus message for nobody');
  }

  /** The open socket died: fail everything, then reconnect. */
  #onLost(reason: Error): void {
    this.#ws = undefined;
    this.#stopPing();
    if (!this.#transition(['connected'], 'reconnecting')) return;
    this.#log.warn({ err: reason }, 'janus connection lost');
    this.#pending.rejectAll(new ClosedError('janus connection lost', { cause: reason }));
    this.#closeSessions(reason);
    this.#attempt = 0;
    this.emit('disconnect', reason);
    this.#scheduleReconnect(undefined);
  }

  #scheduleReconnect(error: Error | undefined): void {
    if (this.#state !== 'reconnecting') return;
    const delayMs = this.#backoff.next();
    this.#attempt += 1;
    this.#log.info({ attempt: this.#attempt, delayMs, err: error }, 'janus reconnect scheduled');
    this.emit('reconnecting', { attempt: this.#attempt, delayMs, error });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#open().then(
        () => {
          if (!this.#transition(['reconnecting'], 'connected')) return;
          this.#backoff.reset();
          this.#log.info({ attempts: this.#attempt }, 'janus reconnected');
          this.emit('reconnect');
        },
        (err: Error) => this.#scheduleReconnect(err),
      );
    }, delayMs);
    this.#reconnectTimer.unref();
  }

  #closeSessions(reason: Error): void {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const session of sessions) session.connectionClosed(reason);
  }
}

/** Closes `ws` politely, terminating it if the close handshake takes too long. */
function closeSocket(ws: WebSocket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) {
      resolve();
      return;
    }
    ws.removeAllListeners();
    ws.on('error', () => undefined); // closing anyway
    const timer = setTimeout(() => ws.terminate(), 1_000);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close(1000);
  });
}
