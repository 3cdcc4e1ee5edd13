import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { HEADER_FEATURES } from '@talk-signaling/protocol';
import { clientIp, type IpAllowList, type Logger } from '@talk-signaling/runtime';
import { HttpRoutes, sendJson, sendText } from './http-routes';
import { acceptUpgrade, refuseUpgrade } from '../websocket/handshake';
import type { ServerWebSocket } from '../websocket/server-websocket';

/** Inbound WebSocket frames above this size close the connection with 1009 (upstream: 64 KiB). */
export const MAX_FRAME_BYTES = 64 * 1024;

export interface SignalingHttpServerOptions {
  serverHeader: string;
  /** Current client-type feature list for the `X-Spreed-Signaling-Features` header. */
  features: () => readonly string[];
  trustedProxies: IpAllowList;
  log: Logger;
  /** Called with every accepted `/spreed` WebSocket. */
  onWebSocket: (ws: ServerWebSocket, req: IncomingMessage, ip: string) => void;
}

export interface ListenSpec {
  /** `ip:port`, `:port`, `[v6]:port` or an absolute unix socket path. */
  address: string;
  tls?: { certificate: string; key: string };
  /** Seconds until a request must be complete (`readtimeout`). */
  readTimeout: number;
  /** Seconds a response may take, from the request to its last byte (`writetimeout`); 0 = none. */
  writeTimeout?: number;
}

/**
 * The HTTP(S) front door: `/spreed` upgrades, the REST endpoints registered on `routes`,
 * health and readiness. Several listeners (http and https, unix sockets) share one router.
 */
export class SignalingHttpServer {
  readonly routes = new HttpRoutes();
  readonly #opts: SignalingHttpServerOptions;
  readonly #servers: (http.Server | https.Server)[] = [];
  /** Sockets upgraded to WebSockets, so a shutdown can wait for their close handshakes. */
  readonly #upgraded = new Set<Duplex>();
  /** While draining: readiness 503, no new upgrades. */
  #draining = false;
  #ready = false;

  constructor(opts: SignalingHttpServerOptions) {
    this.#opts = opts;
    this.routes.add('GET', '/health', (_req, res) => sendJson(res, 200, { status: 'ok' }));
    this.routes.add('GET', '/ready', (_req, res) =>
      this.#ready && !this.#draining
        ? sendJson(res, 200, { status: 'ready' })
        : sendJson(res, 503, { status: this.#draining ? 'draining' : 'starting' }),
    );
  }

  /** Readiness: true once every dependency is up. */
  setReady(ready: boolean): void {
    this.#ready = ready;
  }

  /** Stop taking new WebSockets and report not ready; existing connections stay. */
  startDraining(): void {
    this.#draining = true;
  }

  /** Addresses actually bound (useful with port 0 in tests). */
  addresses(): string[] {
    return this.#servers.map((s) => {
      const a = s.address();
      return typeof a === 'string' ? a : a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : '';
    });
  }

  async listen(spec: ListenSpec): Promise<string> {
    const writeTimeoutMs = (spec.writeTimeout ?? 0) * 1000;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      if (writeTimeoutMs > 0) limitResponseTime(res, writeTimeoutMs);
      this.#onRequest(req, res);
    };
    const server = spec.tls
      ? https.createServer({ cert: readFileSync(spec.tls.certificate), key: readFileSync(spec.tls.key) }, handler)
      : http.createServer(handler);
    server.requestTimeout = spec.readTimeout * 1000;
    server.headersTimeout = Math.min(spec.readTimeout * 1000, 60_000);
    server.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket, head));
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const target = parseListenAddress(spec.address);
      if ('path' in target) {
        // Upstream removes a stale socket file before binding.
        if (existsSync(target.path)) unlinkSync(target.path);
        server.listen(target.path, resolve);
      } else server.listen(target.port, target.host, resolve);
    });
    this.#servers.push(server);
    const bound = this.addresses().at(-1)!;
    this.#opts.log.info({ address: bound, tls: Boolean(spec.tls) }, 'listening');
    return bound;
  }

  /**
   * Resolves once every upgraded socket has closed (clients answered the close frames the hub
   * sent), or after `graceMs`, destroying the rest. Meanwhile the listeners stay open, so
   * readiness probes see 503 and new WebSockets are refused with 503 rather than a reset.
   */
  async waitForWebSockets(graceMs: number): Promise<number> {
    if (this.#upgraded.size === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    const allClosed = Promise.all([...this.#upgraded].map((s) => new Promise((resolve) => s.once('close', resolve))));
    const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), graceMs)));
    const outcome = await Promise.race([allClosed, expired]);
    clearTimeout(timer);
    if (outcome !== 'expired') return 0;
    const left = this.#upgraded.size;
    for (const socket of this.#upgraded) socket.destroy();
    return left;
  }

  /** Stops listening and closes idle keep-alive connections (WebSockets are the hub's). */
  async close(): Promise<void> {
    this.#draining = true;
    await Promise.all(
      this.#servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeIdleConnections();
          }),
      ),
    );
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Server', this.#opts.serverHeader);
    res.setHeader(HEADER_FEATURES, this.#opts.features().join(', '));
    const pathname = (req.url ?? '/').split('?', 1)[0]!;
    if (pathname === '/spreed') {
      sendText(res, 400, 'Bad Request');
      return;
    }
    const match = this.routes.match(req.method ?? 'GET', pathname);
    if (match === undefined) {
      sendText(res, 404, '404 page not found');
      return;
    }
    if (match === 'method') {
      sendText(res, 405, 'Method Not Allowed');
      return;
    }
    const failed = (err: unknown): void => {
      this.#opts.log.error({ err, path: pathname }, 'request handler failed');
      if (!res.headersSent) sendText(res, 500, 'Internal Server Error');
      else res.destroy();
    };
    // A handler that throws (synchronously or not) fails its one request, never the process.
    try {
      Promise.resolve(match.handler(req, res, match.params)).catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const pathname = (req.url ?? '/').split('?', 1)[0]!;
    if (pathname !== '/spreed' || this.#draining) {
      refuseUpgrade(socket, this.#draining ? 503 : 404);
      return;
    }
    this.#upgraded.add(socket);
    socket.once('close', () => this.#upgraded.delete(socket));
    // No extensions (permessage-deflate stays off, as with ws before): frames are small JSON.
    const ws = acceptUpgrade(req, socket, head, {
      maxPayload: MAX_FRAME_BYTES,
      extraHeaders: [`Server: ${this.#opts.serverHeader}`, `${HEADER_FEATURES}: ${this.#opts.features().join(', ')}`],
    });
    if (ws !== undefined) this.#opts.onWebSocket(ws, req, clientIp(req, this.#opts.trustedProxies));
  }
}

/**
 * Go's `WriteTimeout`: a response not completely written `ms` after its request arrived is cut
 * off (its connection closed), so a stuck handler or a client that stops reading cannot hold a
 * connection for ever. WebSockets are not affected (their upgrade never reaches here).
 */
function limitResponseTime(res: ServerResponse, ms: number): void {
  const timer = setTimeout(() => {
    if (!res.writableFinished) res.destroy(new Error(`response not written within ${ms} ms`));
  }, ms);
  timer.unref();
  res.once('close', () => clearTimeout(timer));
}

/** `host:port`, `:port`, `[v6]:port`, or an absolute unix socket path. */
export function parseListenAddress(address: string): { host: string; port: number } | { path: string } {
  if (address.startsWith('/')) return { path: address };
  const idx = address.lastIndexOf(':');
  if (idx < 0) throw new Error(`invalid listen address: ${address}`);
  const host = address.slice(0, idx).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(idx + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port in listen address: ${address}`);
  return { host: host || '0.0.0.0', port };
}
