import { EventEmitter } from 'node:events';
import { JanusLink, type JanusLinkOptions, type JanusSession, type PublisherSettings, type VideoRoomRegistry } from '@talk-signaling/janus';
import type { Logger } from '@talk-signaling/runtime';
import type { McuMetrics } from '../mcu-metrics';
import { SfuNotFoundError, type Sfu, type SfuEvents, type SfuPublisherRequest, type SfuStreamType, type SfuSubscriberRequest } from '../sfu';
import { JanusSfuPublisher } from './janus-sfu-publisher';
import { JanusSfuSubscriber } from './janus-sfu-subscriber';

/** How often rooms nobody owns are looked for (they need two sightings to be destroyed). */
export const DEFAULT_RECONCILE_INTERVAL_MS = 60_000;

/** The link's options (`url` = `[mcu] url`, `timeoutMs` = `[mcu] timeout`, also the wait for publishers), and: */
export interface JanusSfuOptions extends Omit<JanusLinkOptions, 'reconcileIntervalMs'> {
  /** `[mcu] maxstreambitrate` / `maxscreenbitrate` (bit/s). */
  maxStreamBitrate: number;
  maxScreenBitrate: number;
  mcuMetrics: McuMetrics;
  /** Default {@link DEFAULT_RECONCILE_INTERVAL_MS}. */
  reconcileIntervalMs?: number;
}

/**
 * The `Sfu` on a Janus gateway (`[mcu] type = janus`), on a {@link JanusLink} (one WebSocket, one
 * Janus session, a `VideoRoomRegistry` for the publishers — one room each — and subscribers).
 * Its own policy: what was published survives a loss of Janus.
 *
 * ```
 * link 'down': 'disconnected'; publishers/subscribers kept as orphans
 * link 'up' (first time or after a loss): publishers re-created (same id, new room) ─►
 *   'connected' ─► subscribers re-created (new handle/sid)
 * ```
 */
export class JanusSfu extends EventEmitter<SfuEvents> implements Sfu {
  /** A node only knows the publishers its own clients created (upstream `getPublisher` alike). */
  readonly localPublishersOnly = true;
  readonly #options: JanusSfuOptions;
  readonly #log: Logger;
  readonly #link: JanusLink;
  readonly #publishers = new Set<JanusSfuPublisher>();
  readonly #subscribers = new Set<JanusSfuSubscriber>();

  constructor(options: JanusSfuOptions) {
    super();
    this.#options = options;
    this.#log = options.log;
    this.#link = new JanusLink({ ...options, reconcileIntervalMs: options.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS });
    this.#link.on('up', (session) => void this.#recover(session));
    this.#link.on('down', () => this.emit('disconnected'));
  }

  get connected(): boolean {
    return this.#link.connected;
  }

  start(): void {
    this.#link.start();
  }

  async stop(): Promise<void> {
    // Our rooms go while Janus still listens (the link bounds the wait); what is left is abandoned.
    await this.#link.stop(() => Promise.all([...this.#publishers, ...this.#subscribers].map((c) => c.close())));
    for (const c of [...this.#publishers, ...this.#subscribers]) c.abandon();
  }

  maxBitrate(streamType: SfuStreamType): number {
    return streamType === 'screen' ? this.#options.maxScreenBitrate : this.#options.maxStreamBitrate;
  }

  async newPublisher(request: SfuPublisherRequest): Promise<JanusSfuPublisher> {
    const session = this.#usableSession();
    const max = this.maxBitrate(request.streamType);
    const bitrate = request.bitrate > 0 ? Math.min(request.bitrate, max) : max;
    const settings = this.#publisherSettings(request, bitrate);
    const inner = await this.#requireRegistry().createPublisher(session, settings);
    const publisher = new JanusSfuPublisher(request, bitrate, this.#log.child({ publisher: request.publisherId, streamType: request.streamType }));
    publisher.attach(inner, session);
    this.#publishers.add(publisher);
    publisher.once('close', () => this.#publishers.delete(publisher));
    // Recovery needs the very settings again.
    this.#settings.set(publisher, settings);
    return publisher;
  }

  async newSubscriber(request: SfuSubscriberRequest): Promise<JanusSfuSubscriber> {
    const session = this.#usableSession();
    const inner = await this.#createSubscriber(session, request);
    const type = request.streamType;
    const streams = this.#options.mcuMetrics.subscriberStreams;
    const subscriber = new JanusSfuSubscriber(request, this.#log.child({ subscriber: request.subscriberId, publisher: request.publisherId, streamType: type }), (up) =>
      up ? streams.inc({ type }) : streams.dec({ type }),
    );
    subscriber.attach(inner, session);
    this.#subscribers.add(subscriber);
    subscriber.once('close', () => this.#subscribers.delete(subscriber));
    return subscriber;
  }

  stats(): Record<string, unknown> {
    return this.#link.stats();
  }

  readonly #settings = new WeakMap<JanusSfuPublisher, PublisherSettings>();

  #publisherSettings(request: SfuPublisherRequest, bitrate: number): PublisherSettings {
    const settings: PublisherSettings = {
      publisherId: request.publisherId,
      streamType: request.streamType,
      bitrate,
      timeoutMs: this.#options.timeoutMs,
    };
    const codecs = request.codecs;
    if (codecs?.audioCodec) settings.audioCodec = codecs.audioCodec;
    if (codecs?.videoCodec) settings.videoCodec = codecs.videoCodec;
    if (codecs?.vp9Profile) settings.vp9Profile = codecs.vp9Profile;
    if (codecs?.h264Profile) settings.h264Profile = codecs.h264Profile;
    return settings;
  }

  #createSubscriber(session: JanusSession, request: SfuSubscriberRequest) {
    const timeoutMs = this.#options.timeoutMs;
    return this.#requireRegistry().createSubscriber(session, {
      owner: request.subscriberId,
      publisherId: request.publisherId,
      streamType: request.streamType,
      publisherTimeoutMs: timeoutMs,
      timeoutMs,
      joinTimeoutMs: timeoutMs,
    });
  }

  #usableSession(): JanusSession {
    const session = this.#link.session;
    if (!session) throw new SfuNotFoundError('janus is not connected');
    return session;
  }

  #requireRegistry(): VideoRoomRegistry {
    const registry = this.#link.registry;
    if (!registry) throw new SfuNotFoundError('janus is not connected');
    return registry;
  }

  /** Janus (back) up: recovery of what we had, as upstream `NotifyReconnected`. */
  async #recover(session: JanusSession): Promise<void> {
    await this.#recoverPublishers(session);
    this.emit('connected');
    void this.#recoverSubscribers(session);
  }

  /** Publishers first: each gets a new room under the same publisher id (upstream). */
  async #recoverPublishers(session: JanusSession): Promise<void> {
    const orphans = [...this.#publishers].filter((p) => p.orphaned);
    if (orphans.length === 0) return;
    this.#log.info({ publishers: orphans.length }, 're-creating publishers after janus came back');
    await Promise.all(
      orphans.map(async (publisher) => {
        const settings = this.#settings.get(publisher);
        try {
          if (!settings) throw new Error('no settings');
          publisher.attach(await this.#requireRegistry().createPublisher(session, settings), session);
        } catch (err) {
          this.#log.warn({ err: (err as Error).message, publisher: publisher.publisherId }, 'could not re-create publisher');
          publisher.abandon();
        }
      }),
    );
  }

  /** Then subscribers: a new handle each (new sid); the client's next requestoffer joins. */
  async #recoverSubscribers(session: JanusSession): Promise<void> {
    const orphans = [...this.#subscribers].filter((s) => s.orphaned);
    await Promise.all(
      orphans.map(async (subscriber) => {
        try {
          subscriber.attach(await this.#createSubscriber(session, subscriber), session);
        } catch (err) {
          this.#log.warn({ err: (err as Error).message, publisher: subscriber.publisherId }, 'could not re-create subscriber');
          subscriber.abandon();
        }
      }),
    );
  }
}
