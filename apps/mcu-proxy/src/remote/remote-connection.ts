/* Proxy → proxy client connection for remote streams (this proxy acts as a signaling server). */
import { EventEmitter } from 'node:events';
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import type { Logger } from '@talk-signaling/runtime';

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
}

type Pending = { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export type RemoteConnectionEvents = {
  /** An `event` of the other proxy (e.g. `publisher-closed`). */
  event: [Record<string, unknown>];
  /** The connection is gone; everything that depends on it must go too. */
  close: [];
};

/**
 * One WebSocket to another proxy, after a successful hello. Requests get their reply by id
 * (bounded by the timeout); frames from the other proxy are parsed defensively and a bad one
 * is logged and dropped. No reconnect: on loss, the remote subscribers fed through it close and
 * their signaling servers subscribe again.
 */
export class RemoteConnection extends EventEmitter<RemoteConnectionEvents> {
  readonly #ws: WebSocket;
  readonly #options: RemoteConnectionOptions;
  readonly #pending = new Map<string, Pending>();
  #nextId = 1;
  #closed = false;

  private constructor(ws: WebSocket, options: RemoteConnectionOptions) {
    super();
    this.#ws = ws;
    this.#options = options;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.#onMessage((data as Buffer).toString('utf8'));
    });
    ws.on('close', () => this.#onClose());
    ws.on('error', (err) => options.log.debug({ err: err.message, url: options.url }, 'remote proxy connection error'));
  }

  /** Connects and says hello with our token; rejects on any failure. */
  static async connect(options: RemoteConnectionOptions): Promise<RemoteConnection> {
    const url = proxyWebSocketUrl(options.url);
    const ws = new WebSocket(url, { handshakeTimeout: options.timeoutMs, rejectUnauthorized: !options.skipVerify, maxPayload: 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err) => reject(new Error(`remote proxy ${url}: ${err.message}`)));
    });
    const conn = new RemoteConnection(ws, options);
    try {
      const token = await signProxyToken(options.tokenId, options.tokenKey);
      const reply = await conn.request({ type: 'hello', hello: { version: '1.0', token } });
      if (reply['type'] !== 'hello') throw new Error(`unexpected hello reply ${JSON.stringify(reply)}`);
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a `command` and returns the reply's `command` body (an `error` reply rejects). */
  async command(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await this.request({ type: 'command', command });
    const body = reply['command'];
    if (reply['type'] !== 'command' || typeof body !== 'object' || body === null) throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
    return body as Record<string, unknown>;
  }

  request(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(new Error('remote proxy connection closed'));
    const id = String(this.#nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`remote proxy ${this.#options.url}: no reply within ${this.#options.timeoutMs} ms`));
      }, this.#options.timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#ws.send(JSON.stringify({ id, ...message }));
    });
  }

  /** Says `bye` (the other proxy ends our session and its forwardings at once), then closes. */
  close(): void {
    if (this.#closed) return;
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify({ type: 'bye', bye: {} }));
    this.#ws.close(1000);
    this.#onClose();
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
      this.close();
    }
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new Error('remote proxy connection closed'));
    }
    this.#pending.clear();
    this.emit('close');
  }
}
