import { EventEmitter } from 'node:events';
import WebSocket, { type RawData } from 'ws';
import { parseProxyServerMessage, type ProxyClientMessage, type ProxyServerMessage } from '@talk-signaling/protocol';
import { Backoff, type Logger } from '@talk-signaling/runtime';
import { isValidCountry } from './continents';
import type { ProxyMetrics } from './proxy-metrics';
import type { Placeable, ProxyBandwidth } from './proxy-selection';
import { proxyWebSocketUrl, withAddress } from './proxy-url';

/** Load of a proxy we are not connected to: sorted last (upstream `loadNotConnected`). */
export const LOAD_NOT_CONNECTED = 1_000_000;
/** Upstream reconnects 1 s doubling to 16 s. */
export const DEFAULT_PROXY_RECONNECT = { initialMs: 1_000, maxMs: 16_000 };
/** WebSocket ping every 54 s (upstream: 9/10 of the 60 s pong wait). */
export const DEFAULT_PROXY_PING_INTERVAL_MS = 54_000;
/**
 * How long the objects of a lost connection wait for it to come back (resume). After that they
 * are dropped so their clients can publish elsewhere, and the proxy session is forgotten (the
 * proxy expires it, and closes what it held, 60 s after we went away).
 */
export const DEFAULT_RESUME_GRACE_MS = 10_000;
/** Largest frame accepted from a proxy (SDPs of many-track offers stay far below). */
export const MAX_PROXY_FRAME_BYTES = 1 << 20;
/** Requests that timed out whose late answers we still watch for (deferred deletes), at most. */
const MAX_LATE = 256;
/** How long a late answer is watched for (the proxy's own request to Janus gives up well before). */
const LATE_WATCH_MS = 60_000;
/** An RTT at least this long is logged (upstream). */
const RTT_LOG_MS = 500;

type CommandBody = Extract<ProxyClientMessage, { type: 'command' }>['command'];
type PayloadBody = Extract<ProxyClientMessage, { type: 'payload' }>['payload'];
type EventBody = Extract<ProxyServerMessage, { type: 'event' }>['event'];
/** A command or payload response. */
export type ProxyResponse = Extract<ProxyServerMessage, { type: 'command' } | { type: 'payload' }>;

/** A request the proxy answered with `error`. */
export class ProxyRequestError extends Error {
  override readonly name = 'ProxyRequestError';
  constructor(readonly code: string, message: string) {
    super(`${code}: ${message}`);
  }
}

/** A request that could not be made or got no answer (not connected, timeout, connection lost). */
export class ProxyUnavailableError extends Error {
  override readonly name = 'ProxyUnavailableError';
}

/** A publisher or subscriber living on this connection. */
export interface ProxyClientHandler {
  /** Asynchronous `payload` for the client (`offer`, `candidate`). */
  onPayload(type: string, payload: Record<string, unknown> | null | undefined): void;
  /** Per-client `event` (`publisher-closed`, `subscriber-sid-updated`, ...). */
  onEvent(event: EventBody): void;
  /** The proxy no longer holds the client (session not resumed, backend gone, connection closed). */
  onLost(why: string): void;
}

export interface ProxyConnectionOptions {
  /** Base URL as configured (`[mcu] url`, an etcd entry or a publisher's announced URL). */
  url: string;
  /** DNS discovery: connect to this address (the URL's host still names the proxy). */
  ip?: string;
  /** Token for the hello (subject empty). */
  helloToken: () => string;
  /** Handshake, hello and request timeout in ms (`[mcu] proxytimeout`). */
  timeoutMs: number;
  /** Connected on demand for a publisher elsewhere; closed once unused. */
  temporary?: boolean;
  reconnect?: { initialMs: number; maxMs: number };
  pingIntervalMs?: number;
  resumeGraceMs?: number;
  /** `[mcu] skipverify`. */
  skipVerify?: boolean;
  metrics: ProxyMetrics;
  log: Logger;
}

export type ProxyConnectionEvents = {
  /** Hello done (first time and after every reconnect). */
  connected: [];
  disconnected: [];
  /** `update-load` or `shutdown-scheduled` changed what placement sees. */
  changed: [];
  /** A temporary connection closed itself because nothing used it any more. */
  unused: [];
};

interface Pending {
  resolve: (msg: ProxyResponse) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  /** Called with the answer when it arrives after the timeout (to undo a late creation). */
  onLate: ((msg: ProxyServerMessage) => void) | undefined;
}

/**
 * One WebSocket to one proxy (fact sheet 5.6): hello with a token or a resume id, keepalive
 * pings, requests matched to responses by id, load and bandwidth from `update-load`, payloads
 * and events routed to the publishers and subscribers by proxy client id. Reconnects by itself
 * (1 s → 16 s) and resumes its proxy session; objects that cannot be resumed are dropped.
 * Anything the proxy sends is checked first; a bad frame is logged, counted and dropped.
 */
export class ProxyConnection extends EventEmitter<ProxyConnectionEvents> implements Placeable {
  readonly url: string;
  readonly ip: string | undefined;
  readonly #wsUrl: URL;
  readonly #options: ProxyConnectionOptions;
  readonly #log: Logger;
  readonly #metrics: ProxyMetrics;
  readonly #backoff: Backoff;
  readonly #clients = new Map<string, ProxyClientHandler>();
  readonly #pending = new Map<string, Pending>();
  readonly #late = new Map<string, { onLate: (msg: ProxyServerMessage) => void; since: number }>();
  #ws: WebSocket | undefined;
  #ready = false;
  #stopped = false;
  #nextId = 0;
  #helloId: string | undefined;
  #helloTimer: NodeJS.Timeout | undefined;
  #sessionId = '';
  #reconnectTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #pingSentAt = 0;
  #countedCountry: string | undefined;
  #connectedSince: Date | undefined;
  load = LOAD_NOT_CONNECTED;
  bandwidth: ProxyBandwidth | undefined;
  country = '';
  features: readonly string[] = [];
  version = '';
  shutdownScheduled = false;
  /** Connected on demand for a publisher we had no connection to; closed once unused. */
  temporary: boolean;
  /** Closes itself once no publisher or subscriber uses it (temporary, or removed from the list). */
  #closeWhenEmpty: boolean;

  constructor(options: ProxyConnectionOptions) {
    super();
    this.url = options.url;
    this.ip = options.ip;
    this.temporary = options.temporary ?? false;
    this.#closeWhenEmpty = this.temporary;
    const wsUrl = proxyWebSocketUrl(options.url);
    this.#wsUrl = options.ip ? withAddress(wsUrl, options.ip) : wsUrl;
    this.#options = options;
    this.#metrics = options.metrics;
    this.#log = options.log.child({ proxy: options.url, ...(options.ip ? { ip: options.ip } : {}) });
    const reconnect = options.reconnect ?? DEFAULT_PROXY_RECONNECT;
    this.#backoff = new Backoff({ initial: reconnect.initialMs, max: reconnect.maxMs, jitter: 0.1 });
    this.#resetGauges();
  }

  /** Hello done and the socket open. */
  get connected(): boolean {
    return this.#ready;
  }

  get sessionId(): string {
    return this.#sessionId;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  get connectedSince(): Date | undefined {
    return this.#connectedSince;
  }

  /** `url (ip)`, for logs. */
  override toString(): string {
    return this.ip ? `${this.url} (${this.ip})` : this.url;
  }

  start(): void {
    if (this.#stopped || this.#ws || this.#reconnectTimer) return;
    this.#connect();
  }

  /** Says `bye`, closes the socket and drops every client (shutdown, proxy removed from the list). */
  async stop(why = 'proxy connection closed'): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#graceTimer);
    const ws = this.#ws;
    if (ws && this.#ready) this.#sendRaw({ type: 'bye', bye: {} });
    this.#onSocketGone(ws, why);
    this.#dropClients(why);
    this.#late.clear();
    this.#metrics.backendLoad.remove({ url: this.url });
    for (const direction of ['incoming', 'outgoing']) {
      this.#metrics.backendUsage.remove({ url: this.url, direction });
      this.#metrics.backendBandwidth.remove({ url: this.url, direction });
    }
    if (ws) await closeSocket(ws);
  }

  addClient(clientId: string, handler: ProxyClientHandler): void {
    this.#clients.set(clientId, handler);
  }

  removeClient(clientId: string): void {
    this.#clients.delete(clientId);
    this.#closeIfEmpty();
  }

  /** True once the connection only serves what it has (removed from the list, or temporary). */
  get retiring(): boolean {
    return this.#closeWhenEmpty;
  }

  /** Removed from the configured list: takes nothing new and closes once its clients are gone. */
  retire(): void {
    this.#closeWhenEmpty = true;
    this.#closeIfEmpty();
  }

  /** Listed (again): stays open even when unused. */
  keep(): void {
    this.#closeWhenEmpty = false;
    this.temporary = false;
  }

  #closeIfEmpty(): void {
    if (!this.#closeWhenEmpty || this.#clients.size > 0 || this.#stopped) return;
    this.#log.info({ temporary: this.temporary }, 'proxy connection no longer used; closing');
    void this.stop('connection unused');
    this.emit('unused');
  }

  /** A command; resolves with the proxy's `command` answer, rejects on `error`, timeout or loss. */
  command(command: CommandBody, onLate?: (msg: ProxyServerMessage) => void): Promise<ProxyResponse> {
    return this.#request({ type: 'command', command }, onLate);
  }

  payload(payload: PayloadBody): Promise<ProxyResponse> {
    return this.#request({ type: 'payload', payload });
  }

  #request(msg: { type: 'command'; command: CommandBody } | { type: 'payload'; payload: PayloadBody }, onLate?: (msg: ProxyServerMessage) => void): Promise<ProxyResponse> {
    if (!this.#ready || !this.#ws) return Promise.reject(new ProxyUnavailableError(`proxy ${this} is not connected`));
    const id = this.#newId();
    return new Promise<ProxyResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        if (onLate) this.#watchLate(id, onLate);
        reject(new ProxyUnavailableError(`proxy ${this} did not answer ${msg.type} within ${this.#options.timeoutMs} ms`));
      }, this.#options.timeoutMs);
      timer.unref();
      this.#pending.set(id, { resolve, reject, timer, onLate });
      this.#sendRaw({ id, ...msg });
    });
  }

  /** Watches for the answer to a timed-out request for a while (bounded in number and time). */
  #watchLate(id: string, onLate: (msg: ProxyServerMessage) => void): void {
    const now = Date.now();
    for (const [key, entry] of this.#late) {
      if (now - entry.since < LATE_WATCH_MS) break; // insertion order: the rest are younger
      this.#late.delete(key);
    }
    if (this.#late.size < MAX_LATE) this.#late.set(id, { onLate, since: now });
  }

  #newId(): string {
    this.#nextId += 1;
    return String(this.#nextId);
  }

  #sendRaw(msg: Record<string, unknown>): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(msg), (err) => {
      if (err) this.#log.warn({ err: err.message }, 'could not send to proxy');
    });
  }

  #connect(): void {
    if (this.#stopped) return;
    this.#reconnectTimer = undefined;
    const host = new URL(proxyWebSocketUrl(this.url)).host;
    const ws = new WebSocket(this.#wsUrl, {
      handshakeTimeout: this.#options.timeoutMs,
      maxPayload: MAX_PROXY_FRAME_BYTES,
      // DNS discovery: the address is in the URL, the proxy's name stays in Host and SNI.
      ...(this.ip ? { headers: { Host: host }, servername: new URL(this.url).hostname } : {}),
      ...(this.#options.skipVerify ? { rejectUnauthorized: false } : {}),
    });
    this.#ws = ws;
    ws.on('open', () => this.#onOpen(ws));
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on('pong', (data) => this.#onPong(data));
    ws.on('error', (err) => {
      // A frame over MAX_PROXY_FRAME_BYTES cannot be skipped: the socket goes (and is resumed after).
      if ((err as NodeJS.ErrnoException).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#invalid(`frame over ${MAX_PROXY_FRAME_BYTES} bytes`);
      else this.#log.debug({ err: err.message }, 'proxy websocket error');
    });
    ws.on('close', (code) => {
      if (this.#ws !== ws) return;
      this.#onSocketGone(ws, `websocket closed (${code})`);
      this.#scheduleReconnect();
    });
  }

  #onOpen(ws: WebSocket): void {
    if (this.#ws !== ws) return;
    this.#log.debug('proxy websocket open; sending hello');
    this.#sendHello();
    this.#startPing(ws);
  }

  #sendHello(): void {
    const id = this.#newId();
    this.#helloId = id;
    const hello: Record<string, unknown> = { version: '1.0' };
    if (this.#sessionId) hello['resumeid'] = this.#sessionId;
    else hello['token'] = this.#options.helloToken();
    this.#sendRaw({ id, type: 'hello', hello });
    clearTimeout(this.#helloTimer);
    this.#helloTimer = setTimeout(() => {
      this.#log.warn('proxy did not answer our hello; reconnecting');
      this.#ws?.terminate();
    }, this.#options.timeoutMs);
    this.#helloTimer.unref();
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#reconnectTimer) return;
    const delay = this.#backoff.next();
    this.#log.info({ retryInMs: delay }, 'reconnecting to proxy');
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
    this.#reconnectTimer.unref();
  }

  /** Socket closed or given up: pending requests fail, load goes to "not connected". */
  #onSocketGone(ws: WebSocket | undefined, why: string): void {
    if (ws && this.#ws === ws) this.#ws = undefined;
    ws?.removeAllListeners('message');
    ws?.on('error', () => undefined);
    clearInterval(this.#pingTimer);
    clearTimeout(this.#helloTimer);
    this.#helloId = undefined;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new ProxyUnavailableError(`proxy ${this}: ${why}`));
      this.#pending.delete(id);
    }
    const wasReady = this.#ready;
    this.#ready = false;
    this.#connectedSince = undefined;
    this.load = LOAD_NOT_CONNECTED;
    this.bandwidth = undefined;
    this.shutdownScheduled = false;
    this.#resetGauges();
    this.#uncountConnection();
    if (!wasReady) return;
    this.#log.warn({ why }, 'proxy connection lost');
    if (!this.#stopped && this.#clients.size > 0) {
      // Give the proxy session a chance to be resumed; drop its objects if it is not in time.
      clearTimeout(this.#graceTimer);
      this.#graceTimer = setTimeout(() => {
        this.#sessionId = '';
        this.#dropClients('proxy did not come back in time');
      }, this.#options.resumeGraceMs ?? DEFAULT_RESUME_GRACE_MS);
      this.#graceTimer.unref();
    }
    this.emit('disconnected');
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.#invalid('binary frame');
    const text = Array.isArray(data) ? Buffer.concat(data).toString() : data.toString();
    const parsed = parseProxyServerMessage(text);
    if (!parsed.ok) return this.#invalid(parsed.reason);
    try {
      this.#onMessage(parsed.value);
    } catch (err) {
      // A handler tripping over a well-formed but unexpected message must not end the connection.
      this.#log.error({ err }, 'processing a proxy message failed');
    }
  }

  #invalid(reason: string): void {
    this.#metrics.invalidMessagesTotal.inc({ url: this.url });
    this.#log.warn({ reason: reason.slice(0, 200) }, 'dropped an invalid message from the proxy');
  }

  #onMessage(msg: ProxyServerMessage): void {
    if (msg.id !== undefined && msg.id === this.#helloId) return this.#onHelloAnswer(msg);
    if (msg.id !== undefined) {
      const pending = this.#pending.get(msg.id);
      if (pending) {
        this.#pending.delete(msg.id);
        clearTimeout(pending.timer);
        if (msg.type === 'error') pending.reject(new ProxyRequestError(msg.error.code, msg.error.message));
        else if (msg.type === 'command' || msg.type === 'payload') pending.resolve(msg);
        else pending.reject(new ProxyRequestError('invalid_response', `unexpected ${msg.type} answer`));
        return;
      }
      const late = this.#late.get(msg.id);
      if (late) {
        this.#late.delete(msg.id);
        late.onLate(msg);
        return;
      }
    }
    switch (msg.type) {
      case 'payload':
        this.#clients.get(msg.payload.clientId)?.onPayload(msg.payload.type, msg.payload.payload);
        return;
      case 'event':
        return this.#onEvent(msg.event);
      case 'bye':
        // Our proxy session is over (expired, closed, resumed elsewhere): what lived in it is gone
        // for us, and the next hello registers anew.
        this.#log.info({ reason: msg.bye?.reason }, 'proxy ended our session');
        this.#sessionId = '';
        this.#dropClients(`proxy session ended (${msg.bye?.reason ?? 'no reason'})`);
        return;
      default:
        this.#log.warn({ type: msg.type, id: msg.id }, 'unexpected message from the proxy');
    }
  }

  #onHelloAnswer(msg: ProxyServerMessage): void {
    this.#helloId = undefined;
    clearTimeout(this.#helloTimer);
    if (msg.type === 'error') {
      if (msg.error.code === 'no_such_session') {
        this.#log.info({ session: this.#sessionId }, 'proxy session could not be resumed; registering anew');
        this.#sessionId = '';
        this.#dropClients('proxy session lost');
        this.#sendHello();
        return;
      }
      this.#log.warn({ code: msg.error.code, message: msg.error.message }, 'proxy rejected our hello; reconnecting');
      this.#ws?.terminate();
      return;
    }
    if (msg.type !== 'hello') {
      this.#log.warn({ type: msg.type }, 'unexpected answer to our hello; reconnecting');
      this.#ws?.terminate();
      return;
    }
    const previous = this.#sessionId;
    const hello = msg.hello;
    this.#sessionId = hello.sessionid;
    if (previous && previous !== hello.sessionid) this.#dropClients('proxy started a new session');
    const country = hello.server?.country ?? '';
    if (country && !isValidCountry(country)) this.#log.warn({ country }, 'proxy sent an invalid country; ignored');
    this.country = isValidCountry(country) ? country : '';
    this.features = hello.server?.features ?? [];
    this.version = hello.server?.version ?? '';
    clearTimeout(this.#graceTimer);
    this.#backoff.reset();
    this.#ready = true;
    this.#connectedSince = new Date();
    this.#countConnection();
    this.#log.info({ session: hello.sessionid, resumed: previous === hello.sessionid, country: this.country || undefined, version: this.version }, 'connected to proxy');
    this.emit('connected');
  }

  #onEvent(event: EventBody): void {
    switch (event.type) {
      case 'update-load': {
        this.load = event.load ?? 0;
        this.bandwidth = event.bandwidth;
        const url = this.url;
        this.#metrics.backendLoad.set({ url }, this.load);
        const bw = event.bandwidth;
        if (bw) {
          this.#metrics.backendBandwidth.set({ url, direction: 'incoming' }, Math.floor((bw.received ?? 0) / 8));
          this.#metrics.backendBandwidth.set({ url, direction: 'outgoing' }, Math.floor((bw.sent ?? 0) / 8));
          this.#metrics.backendUsage.set({ url, direction: 'incoming' }, bw.incoming ?? 0);
          this.#metrics.backendUsage.set({ url, direction: 'outgoing' }, bw.outgoing ?? 0);
        }
        this.emit('changed');
        return;
      }
      case 'shutdown-scheduled':
        this.#log.info('proxy is scheduled to shut down; no new publishers there');
        this.shutdownScheduled = true;
        this.emit('changed');
        return;
      case 'backend-disconnected':
        this.#log.warn('the proxy lost its Janus; dropping its publishers and subscribers');
        this.#dropClients('proxy lost its backend');
        return;
      case 'backend-connected':
        this.#log.info('the proxy is connected to its Janus');
        return;
    }
    const client = event.clientId ? this.#clients.get(event.clientId) : undefined;
    if (client) client.onEvent(event);
    else this.#log.debug({ type: event.type, clientId: event.clientId }, 'proxy event for no known client');
  }

  #dropClients(why: string): void {
    if (this.#clients.size === 0) return;
    this.#log.info({ clients: this.#clients.size, why }, 'dropping publishers and subscribers of the proxy');
    const handlers = [...this.#clients.values()];
    this.#clients.clear();
    for (const handler of handlers) handler.onLost(why);
    this.#closeIfEmpty();
  }

  #startPing(ws: WebSocket): void {
    clearInterval(this.#pingTimer);
    this.#pingSentAt = 0;
    this.#pingTimer = setInterval(() => {
      if (this.#pingSentAt !== 0) {
        this.#log.warn('proxy did not answer the last ping; dropping the connection');
        ws.terminate();
        return;
      }
      this.#pingSentAt = Date.now();
      ws.ping(String(this.#pingSentAt));
    }, this.#options.pingIntervalMs ?? DEFAULT_PROXY_PING_INTERVAL_MS);
    this.#pingTimer.unref();
  }

  #onPong(_data: Buffer): void {
    if (this.#pingSentAt === 0) return;
    const rtt = Date.now() - this.#pingSentAt;
    this.#pingSentAt = 0;
    if (rtt >= RTT_LOG_MS) this.#log.info({ rttMs: rtt }, 'slow proxy ping');
  }

  #countConnection(): void {
    this.#uncountConnection();
    this.#countedCountry = this.country;
    this.#metrics.backendConnections.inc({ country: this.country });
  }

  #uncountConnection(): void {
    if (this.#countedCountry === undefined) return;
    this.#metrics.backendConnections.dec({ country: this.#countedCountry });
    this.#countedCountry = undefined;
  }

  #resetGauges(): void {
    const url = this.url;
    this.#metrics.backendLoad.set({ url }, 0);
    for (const direction of ['incoming', 'outgoing']) {
      this.#metrics.backendUsage.set({ url, direction }, 0);
      this.#metrics.backendBandwidth.set({ url, direction }, 0);
    }
  }
}

/** Closes `ws` politely, terminating it if the close handshake does not finish in a second. */
function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, 1_000);
    timer.unref();
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000);
  });
}
