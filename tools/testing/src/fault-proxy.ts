import { createServer, connect, type Server, type Socket } from 'node:net';

/** Which way data flows: `to` the target (client → server) or `from` it (server → client). */
export type ProxyDirection = 'to' | 'from';

/** Target of a {@link FaultProxy}; a {@link ManagedProcess} fits (host defaults to 127.0.0.1). */
export interface FaultProxyTarget {
  host?: string;
  port: number;
  /** If given, {@link FaultProxy.url} uses its scheme (e.g. `nats://`), else `tcp://`. */
  url?: string;
}

interface Link {
  client: Socket;
  upstream: Socket;
  /** Data held back while a direction is paused, in order. */
  held: Record<ProxyDirection, Buffer[]>;
}

/**
 * A loopback TCP proxy that partitions links without killing servers (etcd3 `src/test/util.ts`
 * `Proxy`):
 *
 * - `suspend()` resets every open connection and resets new ones on arrival until
 *   `unsuspend()` (the server "went away"; the port stays reserved);
 * - `retarget(port)` sends later connections to another port (a load balancer switching backend);
 * - `pause(direction)` holds back data flowing one way (a black hole; connections stay open) and
 *   `resume(direction)` delivers what was held, in order;
 * - `stall(direction)` stops reading what flows one way, so the sender's socket buffers fill and
 *   its writes back up (a peer that hangs); `unstall(direction)` reads again.
 */
export class FaultProxy {
  readonly #server: Server;
  #target: { host: string; port: number };
  readonly #links = new Set<Link>();
  readonly #paused: Record<ProxyDirection, boolean> = { to: false, from: false };
  readonly #stalled: Record<ProxyDirection, boolean> = { to: false, from: false };
  #suspended = false;

  /** Local port clients connect to. */
  readonly port: number;
  /** `<scheme>://127.0.0.1:<port>` (scheme of the target's url, default `tcp`). */
  readonly url: string;

  private constructor(server: Server, port: number, target: FaultProxyTarget) {
    this.#server = server;
    this.#target = { host: target.host ?? '127.0.0.1', port: target.port };
    this.port = port;
    const scheme = target.url === undefined ? 'tcp:' : new URL(target.url).protocol;
    this.url = `${scheme}//127.0.0.1:${port}`;
    server.on('connection', (socket) => this.#accept(socket));
  }

  /** Listens on a free loopback port and forwards to `target`. */
  static async start(target: FaultProxyTarget): Promise<FaultProxy> {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
    return new FaultProxy(server, port, target);
  }

  /** Number of open proxied connections. */
  get connections(): number {
    return this.#links.size;
  }

  /** Resets all connections and refuses new ones until {@link unsuspend}. */
  suspend(): void {
    this.#suspended = true;
    for (const link of this.#links) this.#drop(link);
  }

  /** Accepts and forwards connections again. */
  unsuspend(): void {
    this.#suspended = false;
  }

  /**
   * Sends connections made from now on to `port` (same host) — a load balancer picking another
   * backend; open connections stay where they are.
   */
  retarget(port: number): void {
    this.#target = { ...this.#target, port };
  }

  /** Holds back data flowing in `direction` (on open and future connections). */
  pause(direction: ProxyDirection): void {
    this.#paused[direction] = true;
  }

  /** Delivers held data for `direction` and forwards again. */
  resume(direction: ProxyDirection): void {
    this.#paused[direction] = false;
    for (const link of this.#links) {
      const dest = direction === 'to' ? link.upstream : link.client;
      for (const chunk of link.held[direction].splice(0)) dest.write(chunk);
    }
  }

  /** Stops reading data flowing in `direction` (on open and future connections). */
  stall(direction: ProxyDirection): void {
    this.#stalled[direction] = true;
    for (const link of this.#links) sourceOf(link, direction).pause();
  }

  /** Reads data flowing in `direction` again. */
  unstall(direction: ProxyDirection): void {
    this.#stalled[direction] = false;
    for (const link of this.#links) sourceOf(link, direction).resume();
  }

  /** Stops listening and resets every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const link of this.#links) this.#drop(link);
    await closed;
  }

  #accept(client: Socket): void {
    if (this.#suspended) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: this.#target.host, port: this.#target.port });
    const link: Link = { client, upstream, held: { to: [], from: [] } };
    this.#links.add(link);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const forward = (direction: ProxyDirection, dest: Socket) => (chunk: Buffer) => {
      if (this.#paused[direction]) link.held[direction].push(chunk);
      else dest.write(chunk);
    };
    client.on('data', forward('to', upstream));
    upstream.on('data', forward('from', client));
    for (const direction of ['to', 'from'] as const) if (this.#stalled[direction]) sourceOf(link, direction).pause();
    // A half-close is passed on; an error or full close on either side ends the link.
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    const end = (): void => this.#drop(link);
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  }

  #drop(link: Link): void {
    if (!this.#links.delete(link)) return;
    link.client.resetAndDestroy();
    link.upstream.resetAndDestroy();
  }
}

/** The socket data flowing in `direction` is read from. */
function sourceOf(link: Link, direction: ProxyDirection): Socket {
  return direction === 'to' ? link.client : link.upstream;
}
