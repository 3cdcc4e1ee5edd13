import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import { parseProxyClientMessage, type ProxyClientMessage } from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import type { ProxyConfig } from '../config/proxy-config';
import type { JanusBackend } from '../janus/janus-backend';
import { LoadReporter } from '../load/load-reporter';
import { RemotePublications } from '../remote/remote-publications';
import { ProxySession, SESSION_EXPIRY_MS } from '../session/proxy-session';
import type { TokenStore } from '../tokens/token-store';
import { TokenError, verifyProxyToken } from '../tokens/token-verifier';
import { CommandHandler, type RemoteStreams } from './command-handler';
import { errorMessage, eventMessage, knownError } from './messages';
import { PayloadHandler } from './payload-handler';
import type { ProxyConnection } from './proxy-connection';
import { ProxyClients } from './proxy-clients';
import { createProxyMetrics, type ProxyMetrics } from './proxy-metrics';

/** How often sessions without a connection are checked for expiry (upstream: 10 s). */
export const EXPIRE_INTERVAL_MS = 10_000;
/** Messages of one connection processed at a time; more get an error at once. */
export const MAX_IN_FLIGHT = 128;
/** Inbound frames above this many bytes get one `invalid_format` error (upstream read limit 64 KiB). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export interface ProxyServerOptions {
  config: ProxyConfig;
  version: string;
  log: Logger;
  registry: Registry;
  tokens: TokenStore;
  backend: JanusBackend;
  /** Remote streams (proxy ↔ proxy); absent when not configured. */
  remote?: RemoteStreams;
  sessionExpiryMs?: number;
  expireIntervalMs?: number;
  loadIntervalMs?: number;
}

/**
 * The `/proxy` protocol: hello (token or resume), commands and payloads of one session, events
 * to all sessions (load, backend state, shutdown). Owns sessions and their clients: a session
 * that goes (bye, expiry) takes its publishers and subscribers with it.
 */
export class ProxyServer {
  readonly #options: ProxyServerOptions;
  readonly #log: Logger;
  readonly metrics: ProxyMetrics;
  readonly sessions = new Map<string, ProxySession>();
  readonly clients = new ProxyClients();
  readonly #commands: CommandHandler;
  readonly #payloads: PayloadHandler;
  readonly #publications: RemotePublications;
  readonly #load: LoadReporter;
  readonly #expiryMs: number;
  #expireTimer: NodeJS.Timeout | undefined;
  #shutdownScheduled = false;
  #drained: Promise<void> | undefined;
  #resolveDrained: (() => void) | undefined;

  constructor(options: ProxyServerOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#expiryMs = options.sessionExpiryMs ?? SESSION_EXPIRY_MS;
    this.metrics = createProxyMetrics(options.registry);
    this.#publications = new RemotePublications(options.log);
    this.#load = new LoadReporter({
      clients: this.clients,
      maxIncomingMbit: options.config.bandwidth.incoming,
      maxOutgoingMbit: options.config.bandwidth.outgoing,
      intervalMs: options.loadIntervalMs ?? 1_000,
      broadcast: (event) => {
        this.metrics.load.set(event['load'] as number);
        if (!this.#shutdownScheduled) this.#broadcast(eventMessage(event));
      },
    });
    this.#commands = new CommandHandler({
      config: options.config,
      backend: options.backend,
      clients: this.clients,
      metrics: this.metrics,
      log: this.#log,
      isShutdownScheduled: () => this.#shutdownScheduled,
      verifyToken: (token) => this.#verify(token),
      publications: this.#publications,
      ...(options.remote ? { remote: options.remote } : {}),
    });
    this.#payloads = new PayloadHandler({ config: options.config, clients: this.clients, metrics: this.metrics, log: this.#log });
    this.clients.onChange(() => this.#load.updateSoon());
    this.clients.onEmpty(() => {
      if (this.#shutdownScheduled) this.#resolveDrained?.();
    });
    options.backend.on('connected', () => this.#broadcast(eventMessage({ type: 'backend-connected' })));
    options.backend.on('disconnected', () => {
      this.#broadcast(eventMessage({ type: 'backend-disconnected' }));
      // Everything lived in the lost Janus session: forget it (the signaling servers publish again).
      for (const client of [...this.clients.values()]) this.#commands.drop(client);
    });
  }

  /** Features announced in hello, `/welcome` headers (`remote-streams` once configured). */
  get features(): string[] {
    return this.#options.remote ? ['remote-streams'] : [];
  }

  get version(): string {
    return this.#options.version;
  }

  get shutdownScheduled(): boolean {
    return this.#shutdownScheduled;
  }

  /** Current load figures (also `/stats`). */
  get load(): number {
    return this.#load.current;
  }

  start(): void {
    this.#load.start();
    this.#expireTimer = setInterval(() => this.expireSessions(), this.#options.expireIntervalMs ?? EXPIRE_INTERVAL_MS);
    this.#expireTimer.unref();
  }

  /** Closes every session (and so every Janus object of ours). */
  async stop(): Promise<void> {
    this.#load.stop();
    clearInterval(this.#expireTimer);
    await Promise.all([...this.sessions.values()].map((s) => this.closeSession(s, 'session_closed')));
  }

  /**
   * SIGUSR1: `shutdown-scheduled` to every session, no new publishers; resolves once the last
   * publisher/subscriber is gone (at once if there is none).
   */
  scheduleShutdown(): Promise<void> {
    if (!this.#shutdownScheduled) {
      this.#shutdownScheduled = true;
      this.#log.info({ clients: this.clients.size }, 'shutdown scheduled');
      this.#broadcast(eventMessage({ type: 'shutdown-scheduled' }));
      this.#drained = new Promise<void>((resolve) => {
        this.#resolveDrained = resolve;
      });
      if (this.clients.size === 0) this.#resolveDrained?.();
    }
    return this.#drained!;
  }

  /** Bandwidth limits changed (SIGHUP): send the new percentages. */
  setBandwidthLimits(incomingMbit: number, outgoingMbit: number): void {
    this.#load.setLimits(incomingMbit, outgoingMbit);
  }

  stats(): Record<string, unknown> {
    return { sessions: this.sessions.size, load: this.#load.current, mcu: this.#options.backend.stats() };
  }

  /** A new `/proxy` WebSocket. */
  connectionOpened(conn: ProxyConnection): void {
    this.#log.debug({ remote: conn.remoteAddress }, 'proxy connection opened');
  }

  /** The WebSocket went away: the session stays (resumable) until it expires. */
  connectionClosed(conn: ProxyConnection): void {
    const session = conn.session;
    if (!session) return;
    conn.session = undefined;
    session.detach(conn);
  }

  /** Any sign of life on the connection (pong). */
  touched(conn: ProxyConnection): void {
    conn.session?.markUsed();
  }

  /** One text frame from a signaling server. Never throws. */
  async handleFrame(conn: ProxyConnection, text: string, byteLength: number): Promise<void> {
    if (byteLength > MAX_MESSAGE_BYTES) {
      conn.send(errorMessage(undefined, 'invalid_format', `message too large (${byteLength} bytes, at most ${MAX_MESSAGE_BYTES})`));
      return;
    }
    const parsed = parseProxyClientMessage(text);
    if (!parsed.ok) {
      this.#log.debug({ remote: conn.remoteAddress, error: parsed.error.message }, 'invalid message');
      conn.send(errorMessage(parsed.id, 'invalid_format', parsed.error.message));
      return;
    }
    const message = parsed.value;
    if (conn.inFlight >= MAX_IN_FLIGHT) {
      conn.send(errorMessage(message.id, 'bad_request', `too many requests in progress (at most ${MAX_IN_FLIGHT})`));
      return;
    }
    conn.inFlight += 1;
    try {
      const session = conn.session;
      if (!session) {
        if (message.type !== 'hello') {
          conn.send(knownError(message.id, 'hello_expected'));
          return;
        }
        await this.#hello(conn, message);
        return;
      }
      session.markUsed();
      switch (message.type) {
        case 'command':
          await this.#commands.command(session, message.id, message.command);
          break;
        case 'payload':
          await this.#payloads.handle(session, message.id, message.payload);
          break;
        case 'bye':
          await this.closeSession(session, 'session_closed');
          break;
        default:
          session.send(knownError(message.id, 'unsupported_message'));
      }
    } catch (err) {
      this.#log.warn({ err, type: message.type }, 'message handling failed');
      conn.send(errorMessage(message.id, 'internal_error', (err as Error).message));
    } finally {
      conn.inFlight -= 1;
    }
  }

  /** Ends a session: bye to its connection, every client of it closed in Janus. */
  async closeSession(session: ProxySession, reason: 'session_closed' | 'session_expired'): Promise<void> {
    if (session.closed) return;
    this.sessions.delete(session.id);
    this.metrics.sessions.dec();
    const conn = session.close() as ProxyConnection | undefined;
    if (conn) {
      conn.session = undefined;
      conn.send({ type: 'bye', bye: { reason } });
    }
    this.#log.info({ session: session.id, reason, clients: session.clients.size }, 'session closed');
    await this.#publications.sessionClosed(session);
    await Promise.all([...session.clients.values()].map((client) => this.#commands.close(client)));
  }

  /** Closes sessions without a connection that were not used within the expiry. */
  expireSessions(now = Date.now()): void {
    for (const session of [...this.sessions.values()]) {
      if (!session.connected && session.expired(now, this.#expiryMs)) void this.closeSession(session, 'session_expired');
    }
  }

  async #hello(conn: ProxyConnection, message: Extract<ProxyClientMessage, { type: 'hello' }>): Promise<void> {
    const hello = message.hello;
    let session: ProxySession | undefined;
    if (hello.resumeid) {
      session = this.sessions.get(hello.resumeid);
      if (!session || session.closed) {
        conn.send(knownError(message.id, 'no_such_session'));
        return;
      }
      this.metrics.sessionsResumedTotal.inc();
      this.#log.info({ session: session.id }, 'session resumed');
    } else {
      if (conn.helloPending) {
        conn.send(knownError(message.id, 'unsupported_message'));
        return;
      }
      conn.helloPending = true;
      try {
        await this.#verify(hello.token ?? '');
      } catch (err) {
        if (err instanceof TokenError) {
          this.#log.info({ remote: conn.remoteAddress, reason: err.reason, detail: err.message }, 'hello rejected');
          conn.send(knownError(message.id, err.code));
          return;
        }
        throw err;
      } finally {
        conn.helloPending = false;
      }
      if (conn.closed || conn.session) {
        if (conn.session) conn.send(knownError(message.id, 'unsupported_message'));
        return;
      }
      session = new ProxySession(randomBytes(24).toString('base64url'));
      this.sessions.set(session.id, session);
      this.metrics.sessions.inc();
      this.metrics.sessionsTotal.inc();
      this.#log.info({ session: session.id, remote: conn.remoteAddress }, 'session created');
    }
    conn.session = session;
    const server: Record<string, unknown> = { version: this.#options.version, features: this.features };
    if (this.#options.config.app.country) server['country'] = this.#options.config.app.country;
    const response = { type: 'hello', hello: { version: '1.0', sessionid: session.id, server } };
    conn.send(message.id ? { id: message.id, ...response } : response);
    // Queued messages follow the hello; a second connection resuming kicks the first.
    const previous = session.attach(conn) as ProxyConnection | undefined;
    if (previous && previous !== conn) {
      previous.session = undefined;
      previous.send({ type: 'bye', bye: { reason: 'session_resumed' } });
    }
    conn.send(this.#shutdownScheduled ? eventMessage({ type: 'shutdown-scheduled' }) : eventMessage(this.#load.event()));
  }

  async #verify(token: string) {
    try {
      return await verifyProxyToken(token, this.#options.tokens);
    } catch (err) {
      if (err instanceof TokenError) this.metrics.tokenErrorsTotal.inc({ reason: err.reason });
      throw err;
    }
  }

  #broadcast(message: object): void {
    const text = JSON.stringify(message);
    for (const session of this.sessions.values()) session.sendText(text);
  }
}
