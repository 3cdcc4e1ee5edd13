import { EventEmitter } from 'node:events';
import { JanusLink, type JanusLinkOptions, type JanusSession, type VideoRoomRegistry } from '@talk-signaling/janus';

/** How often rooms nobody owns are looked for (two sightings before one is destroyed). */
export const DEFAULT_RECONCILE_INTERVAL_MS = 30_000;

/** The link's options; the reconciliation interval defaults to {@link DEFAULT_RECONCILE_INTERVAL_MS}. */
export interface JanusBackendOptions extends Omit<JanusLinkOptions, 'reconcileIntervalMs'> {
  reconcileIntervalMs?: number;
}

export type JanusBackendEvents = {
  /** A Janus session is up (first time and after every loss). */
  connected: [];
  /** Session or socket lost: every publisher/subscriber of the proxy is gone. */
  disconnected: [];
};

/**
 * The proxy's one Janus, on a {@link JanusLink}. Unlike the signaling server's Janus MCU nothing
 * is re-created after a loss: the proxy tells its clients `backend-disconnected` and they publish
 * again (upstream proxy). Rooms left behind by the loss are destroyed by the link's
 * reconciliation; `stop()` destroys every room of the registry first.
 */
export class JanusBackend extends EventEmitter<JanusBackendEvents> {
  readonly #link: JanusLink;

  constructor(options: JanusBackendOptions) {
    super();
    this.#link = new JanusLink({
      ...options,
      log: options.log.child({ component: 'janus-backend' }),
      reconcileIntervalMs: options.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS,
    });
    this.#link.on('up', () => this.emit('connected'));
    this.#link.on('down', () => this.emit('disconnected'));
  }

  get connected(): boolean {
    return this.#link.connected;
  }

  /** The session to create objects in, or undefined while Janus is away. */
  get session(): JanusSession | undefined {
    return this.#link.session;
  }

  get registry(): VideoRoomRegistry | undefined {
    return this.#link.registry;
  }

  /** Janus ≥ 1.1 (`version` ≥ 1100): remote publishers (`publish_remotely`, `add_remote_publisher`). */
  get remoteStreams(): boolean {
    return (this.#link.info?.version ?? 0) >= 1100;
  }

  get multistream(): boolean {
    return (this.#link.info?.version ?? 0) >= 1000;
  }

  start(): void {
    this.#link.start();
  }

  /** Destroys every room of ours (bounded by the MCU timeout), then closes the connection. */
  stop(): Promise<void> {
    return this.#link.stop();
  }

  /** `/stats` `mcu` part. */
  stats(): Record<string, unknown> {
    return this.#link.stats();
  }
}
