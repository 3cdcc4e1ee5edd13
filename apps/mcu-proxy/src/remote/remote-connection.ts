/* Proxy → proxy client connection for remote streams (this proxy acts as a signaling server). */
import { EventEmitter } from 'node:events';
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { Backoff, type Logger } from '@talk-signaling/runtime';

/** `https://host/` → `wss://host/proxy` (relative resolution as upstream: a base without `/` loses its last segment). */
export function proxyWebSocketUrl(base: string): string {
  const url = new URL('proxy', base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.toString();
}

/** A token as signaling servers make them: RS256, `iss` = our token id, `sub`, `iat` now. */
export function signProxyToken(tokenId: string, key: KeyObject, subject = ''): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuer(tokenId).setSubject(subject).setIssuedAt().sign(key);
}

/** An `error` reply of the other proxy. */
export class RemoteProxyError extends Error {
  override readonly name = 'RemoteProxyError';

  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface RemoteConnectionOptions {
  url: string;
  tokenId: string;
  tokenKey: KeyObject;
  timeoutMs: number;
  skipVerify: boolean;
  log: Logger;
  /** Reconnect back-off after a loss (default 1 s doubling to 16 s). */
  reconnect?: { initialMs: number; maxMs: number };
  /**
   * How long a lost connection is retried before giving up for good ('close'). Default 50 s:
   * within the other proxy's 60 s session expiry, so a resume can still keep the forwardings.
   */
  resumeGraceMs?: number;
}

/** Default of {@link RemoteConnectionOptions.resumeGraceMs}. */
export const DEFAULT_RESUME_GRACE_MS = 50_000;

type Pending = { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export type RemoteConnectionEvents = {
  /** An `event` of the other proxy (e.g. `publisher-closed`). */
  event: [Record<string, unknown>];
  /** Connected again and the session resumed: forwardings are intact. */
  resumed: [];
  /** Connected again but with a new session: forwardings of the old one are gone. */
  reset: [];
  /** Gone for good (closed, `bye`, or not back within the grace time); dependants must go. */
  close: [];
};

/**
 * One connection to another proxy, as its client: hello with our token, requests answered by id
 * (bounded by the timeout), frames parsed defensively (a bad one is logged and dropped). A lost
 * socket is re-opened with back-off and the session resumed (`resumed`), or a fresh hello made
 * when the other side forgot it (`reset`); after the grace time it gives up (`close`). Media
 * between the two Janus instances keeps flowing meanwhile; requests fail fast while away.
 */
export class RemoteConnection extends EventEmitter<RemoteConnectionEvents> {
  readonly #options: RemoteConnectionOptions;
  readonly #pending = new Map<string, Pending>();
  readonly #backoff: Backoff;
  #ws: WebSocket | undefined;
  #sessionId = '';
  #nextId = 1;
  #closed = false;
  #lostAt = 0;
  #retryTimer: NodeJS.Timeout | undefined;

  private constructor(options: RemoteConnectionOptions) {
    super();
    this.#options = options;
    const reconnect = options.reconnect ?? { initialMs: 1_000, maxMs: 16_000 };
    this.#backoff = new Backoff({ initial: reconnect.initialMs, max: reconnect.maxMs });
  }

  /** Connects and says hello with our token; rejects on any failure. */
  static async connect(options: RemoteConnectionOptions): Promise<RemoteConnection> {
    const conn = new RemoteConnection(options);
    try {
      await conn.#open(false);
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True while a socket with a completed hello is open. */
  get connected(): boolean {
    return !this.#closed && this.#ws !== undefined && this.#lostAt === 0;
  }

  /** Our session id on the other proxy. */
  get sessionId(): string {
    return this.#sessionId;
  }

  /** Sends a `command` and returns the reply's `command` body (an `error` reply rejects). */
  async command(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await this.request({ type: 'command', command });
    const body = reply['command'];
    if (reply['type'] !== 'command' || typeof body !== 'object' || body === null) throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
    return body as Record<string, unknown>;
  }

  request(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.#request(this.#ws, message);
  }

  /** Says `bye` (the other proxy ends our session and its forwardings at once), then closes. */
  close(): void {
    if (this.#closed) return;
    const ws = this.#ws;
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'bye', bye: {} }));
    ws?.close(1000);
    this.#finish();
  }

  #request(ws: WebSocket | undefined, message: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.#closed || !ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`remote proxy ${this.#options.url}: not connected`));
    const id = String(this.#nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`remote proxy ${this.#options.url}: no reply within ${this.#options.timeoutMs} ms`));
      }, this.#options.timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ id, ...message }));
    });
  }

  /** Opens a socket and says hello (resuming when we had a session); true when resumed. */
  async #open(resume: boolean): Promise<boolean> {
    const url = proxyWebSocketUrl(this.#options.url);
    const ws = new WebSocket(url, { handshakeTimeout: this.#options.timeoutMs, rejectUnauthorized: !this.#options.skipVerify, maxPayload: 1024 * 1024 });
    ws.on('error', (err) => this.#options.log.debug({ err: err.message, url }, 'remote proxy connection error'));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err) => reject(new Error(`remote proxy ${url}: ${err.message}`)));
      ws.once('close', () => reject(new Error(`remote proxy ${url}: closed during the handshake`)));
    });
    ws.on('message', (data, isBinary) => {
      if (!isBinary && this.#ws === ws) this.#onMessage((data as Buffer).toString('utf8'));
    });
    ws.on('close', () => this.#lost(ws));
    // Replies are routed while the hello is in flight.
    this.#ws = ws;
    try {
      if (resume && this.#sessionId !== '') {
        try {
          const reply = await this.#request(ws, { type: 'hello', hello: { version: '1.0', resumeid: this.#sessionId } });
          if (reply['type'] === 'hello') return true;
        } catch (err) {
          if (!(err instanceof RemoteProxyError) || err.code !== 'no_such_session') throw err;
        }
      }
      const token = await signProxyToken(this.#options.tokenId, this.#options.tokenKey);
      const reply = await this.#request(ws, { type: 'hello', hello: { version: '1.0', token } });
      const sessionId = (reply['hello'] as { sessionid?: unknown } | undefined)?.sessionid;
      if (reply['type'] !== 'hello' || typeof sessionId !== 'string') throw new Error(`unexpected hello reply ${JSON.stringify(reply)}`);
      this.#sessionId = sessionId;
      return false;
    } catch (err) {
      if (this.#ws === ws) this.#ws = undefined;
      ws.terminate();
      throw err;
    }
  }

  /** The socket went away: fail what waits, then retry until the grace time is over. */
  #lost(ws: WebSocket): void {
    if (this.#closed || this.#ws !== ws) return;
    this.#ws = undefined;
    this.#failPending(new Error(`remote proxy ${this.#options.url}: connection lost`));
    if (this.#lostAt === 0) this.#lostAt = Date.now();
    this.#options.log.info({ url: this.#options.url }, 'remote proxy connection lost; reconnecting');
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    const grace = this.#options.resumeGraceMs ?? DEFAULT_RESUME_GRACE_MS;
    const left = this.#lostAt + grace - Date.now();
    if (left <= 0) {
      this.#options.log.warn({ url: this.#options.url }, 'remote proxy not back in time; giving up');
      this.#finish();
      return;
    }
    this.#retryTimer = setTimeout(() => void this.#retry(), Math.min(this.#backoff.next(), left));
    this.#retryTimer.unref();
  }

  async #retry(): Promise<void> {
    if (this.#closed) return;
    try {
      const resumed = await this.#open(true);
      if (this.#closed) return;
      this.#lostAt = 0;
      this.#backoff.reset();
      this.#options.log.info({ url: this.#options.url, resumed }, 'remote proxy connection back');
      this.emit(resumed ? 'resumed' : 'reset');
    } catch (err) {
      this.#options.log.debug({ err: (err as Error).message, url: this.#options.url }, 'remote proxy reconnect failed');
      if (!this.#closed) this.#scheduleRetry();
    }
  }

  #onMessage(text: string): void {
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      message = parsed as Record<string, unknown>;
    } catch (err) {
      this.#options.log.warn({ err: (err as Error).message, url: this.#options.url }, 'invalid message from remote proxy');
      return;
    }
    const id = message['id'];
    const pending = typeof id === 'string' ? this.#pending.get(id) : undefined;
    if (pending) {
      this.#pending.delete(id as string);
      clearTimeout(pending.timer);
      const error = message['error'] as { code?: unknown; message?: unknown } | undefined;
      if (message['type'] === 'error') pending.reject(new RemoteProxyError(String(error?.code), String(error?.message)));
      else pending.resolve(message);
      return;
    }
    if (message['type'] === 'event' && typeof message['event'] === 'object' && message['event'] !== null) {
      this.emit('event', message['event'] as Record<string, unknown>);
    } else if (message['type'] === 'bye') {
      // The other proxy ended our session (resumed elsewhere, closed, expired): nothing to resume.
      this.close();
    }
  }

  #failPending(err: Error): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(err);
    }
    this.#pending.clear();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#ws = undefined;
    this.#failPending(new Error('remote proxy connection closed'));
    this.emit('close');
  }
}
