import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { clientIp, type IpAllowList, type Logger } from '@talk-signaling/runtime';
import { ProxyConnection } from '../server/proxy-connection';
import type { ProxyServer } from '../server/proxy-server';
import { MAX_MESSAGE_BYTES } from '../server/proxy-server';

/**
 * Frames above this close the socket with 1009; between {@link MAX_MESSAGE_BYTES} and this they
 * get one error answer and the connection lives on.
 */
export const HARD_FRAME_LIMIT_BYTES = 1024 * 1024;
/** WebSocket ping to each signaling server; a missing pong by the next one ends the socket. */
export const DEFAULT_PING_INTERVAL_MS = 30_000;

export interface ProxyHttpServerOptions {
  proxy: ProxyServer;
  registry: Registry;
  log: Logger;
  statsAllowed: IpAllowList;
  trustedProxies: IpAllowList;
  pingIntervalMs?: number;
  /** `[http] readtimeout` (s): a request (headers and body) must arrive within it. */
  readTimeoutS?: number;
}

/**
 * HTTP side of the proxy: `GET /welcome`, `/proxy` (WebSocket, any Origin), `/stats` and
 * `/metrics` (restricted to `[stats] allowed_ips`), `/health` (process up) and `/ready` (Janus
 * connected and no shutdown scheduled). Every answer carries `Server` and
 * `X-Spreed-Signaling-Features`.
 */
export class ProxyHttpServer {
  readonly #o: ProxyHttpServerOptions;
  readonly #servers: Server[] = [];
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<ProxyConnection>();
  #pingTimer: NodeJS.Timeout | undefined;

  constructor(options: ProxyHttpServerOptions) {
    this.#o = options;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: HARD_FRAME_LIMIT_BYTES, perMessageDeflate: false, clientTracking: false });
  }

  /** Listens on every `host:port`; resolves with the bound addresses. */
  async listen(addresses: readonly string[]): Promise<AddressInfo[]> {
    const bound: AddressInfo[] = [];
    for (const address of addresses) {
      const colon = address.lastIndexOf(':');
      const host = address.slice(0, colon).replace(/^\[|\]$/g, '') || undefined;
      const port = Number(address.slice(colon + 1));
      const readMs = (this.#o.readTimeoutS ?? 15) * 1000;
      // Slow requests (slowloris) are cut off after [http] readtimeout; checked every second.
      const server = createServer({ requestTimeout: readMs, headersTimeout: readMs, connectionsCheckingInterval: 1_000 }, (req, res) => this.#request(req, res));
      server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#upgrade(req, socket, head));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.#servers.push(server);
      bound.push(server.address() as AddressInfo);
    }
    const interval = this.#o.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.#pingTimer = setInterval(() => this.#ping(), interval);
    this.#pingTimer.unref();
    return bound;
  }

  async close(): Promise<void> {
    clearInterval(this.#pingTimer);
    for (const conn of this.#connections) conn.ws.terminate();
    this.#connections.clear();
    await Promise.all(
      this.#servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  #headers(): Record<string, string> {
    return {
      Server: `nextcloud-spreed-signaling-proxy/${this.#o.proxy.version}`,
      'X-Spreed-Signaling-Features': this.#o.proxy.features.join(', '),
    };
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    for (const [k, v] of Object.entries(this.#headers())) res.setHeader(k, v);
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return text(res, 405, 'Method not allowed');
    switch (path) {
      case '/welcome':
        return json(res, 200, JSON.stringify({ 'nextcloud-spreed-signaling-proxy': 'Welcome', version: this.#o.proxy.version }) + '\n');
      case '/health':
        return json(res, 200, '{"status":"ok"}\n');
      case '/ready': {
        const backend = this.#o.proxy.stats()['mcu'] as { connected?: boolean };
        const ready = backend.connected === true && !this.#o.proxy.shutdownScheduled;
        return json(res, ready ? 200 : 503, JSON.stringify({ ready, janus: backend.connected === true, shutdownScheduled: this.#o.proxy.shutdownScheduled }) + '\n');
      }
      case '/stats':
      case '/metrics': {
        if (!this.#o.statsAllowed.has(clientIp(req, this.#o.trustedProxies))) return text(res, 403, 'Authentication check failed');
        if (path === '/stats') {
          res.setHeader('X-Content-Type-Options', 'nosniff');
          return json(res, 200, JSON.stringify(this.#o.proxy.stats(), null, 2));
        }
        this.#o.registry.metrics().then(
          (body) => {
            res.writeHead(200, { 'Content-Type': this.#o.registry.contentType });
            res.end(body);
          },
          () => text(res, 500, 'Internal server error'),
        );
        return;
      }
      default:
        return text(res, 404, '404 page not found');
    }
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/proxy') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const headers = this.#headers();
    const onHeaders = (lines: string[]): void => {
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    };
    this.#wss.once('headers', onHeaders);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#wss.off('headers', onHeaders);
      this.#accept(ws, clientIp(req, this.#o.trustedProxies));
    });
  }

  #accept(ws: WebSocket, remote: string): void {
    const proxy = this.#o.proxy;
    const conn = new ProxyConnection(ws, remote);
    let alive = true;
    this.#connections.add(conn);
    proxy.connectionOpened(conn);
    ws.on('pong', () => {
      alive = true;
      proxy.touched(conn);
    });
    ws.on('ping', () => proxy.touched(conn));
    ws.on('message', (data, isBinary) => {
      alive = true;
      if (isBinary) {
        conn.send({ type: 'error', error: { code: 'invalid_format', message: 'binary messages are not supported' } });
        return;
      }
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      void proxy.handleFrame(conn, buffer.byteLength > MAX_MESSAGE_BYTES ? '' : buffer.toString('utf8'), buffer.byteLength);
    });
    ws.on('error', (err) => this.#o.log.debug({ err: err.message, remote }, 'proxy websocket error'));
    ws.on('close', () => {
      this.#connections.delete(conn);
      proxy.connectionClosed(conn);
    });
    this.#alive.set(conn, () => {
      const was = alive;
      alive = false;
      return was;
    });
  }

  readonly #alive = new WeakMap<ProxyConnection, () => boolean>();

  #ping(): void {
    for (const conn of this.#connections) {
      const check = this.#alive.get(conn);
      if (check && !check()) {
        conn.ws.terminate();
        continue;
      }
      conn.ws.ping();
    }
  }
}

function json(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(body);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body + '\n');
}
