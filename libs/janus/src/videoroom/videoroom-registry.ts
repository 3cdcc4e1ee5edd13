import { silentLogger, type Logger } from '@talk-signaling/runtime';
import { ClosedError } from '../gateway/errors';
import type { JanusHandle } from '../gateway/janus-handle';
import type { JanusSession } from '../gateway/janus-session';
import type { VideoRoomMetrics } from './metrics';
import { streamId, VideoRoomPublisher } from './publisher';
import { VideoRoomRemotePublisher, type RemotePublisherSettings } from './remote-publisher';
import { VideoRoomSubscriber, type SubscriberOptions } from './subscriber';
import { FEED_IDS, type PublisherSettings, type PublisherStreamType } from './videoroom-types';

/** A second publisher for the same (publisher id, stream type). */
export class DuplicatePublisherError extends Error {
  override readonly name = 'DuplicatePublisherError';

  constructor(readonly streamId: string) {
    super(`publisher ${streamId} already exists`);
  }
}

/** No publisher for the stream appeared in time. */
export class NoSuchPublisherError extends Error {
  override readonly name = 'NoSuchPublisherError';

  constructor(readonly streamId: string) {
    super(`no publisher for ${streamId}`);
  }
}

/** Options for {@link VideoRoomRegistry}. */
export interface VideoRoomRegistryOptions {
  metrics?: VideoRoomMetrics;
  logger?: Logger;
  /** Janus ≥ 1.0 multistream API (from `server_info.version` ≥ 1000); default true. */
  multistream?: boolean;
}

/** Options for {@link VideoRoomRegistry.createSubscriber}. */
export interface CreateSubscriberOptions {
  /** Who subscribes (closed with {@link VideoRoomRegistry.closeOwner}). */
  owner: string;
  publisherId: string;
  streamType: PublisherStreamType;
  /** Wait this long for the publisher object to exist (upstream: the MCU timeout). */
  publisherTimeoutMs?: number;
  timeoutMs?: number;
  joinTimeoutMs?: number;
}

/** Result of {@link VideoRoomRegistry.reconcile}. */
export interface ReconcileResult {
  /** Rooms listed by Janus. */
  rooms: number;
  /** Rooms destroyed because no live publisher owned them in two consecutive runs. */
  destroyed: number[];
}

/** Descriptions of rooms we create: `<publisher id>|video` or `<publisher id>|screen`. */
const OUR_ROOM = /\|(video|screen)$/;

/**
 * Owns and counts the VideoRoom objects of one Janus session: exactly one publisher (and so one
 * room) per (publisher id, stream type), subscribers per owner, `closeOwner()` when a session
 * goes, and `reconcile()` to destroy rooms nobody owns (left behind by a lost connection or a
 * failed close). Knows nothing about signaling sessions beyond the opaque owner strings.
 */
export class VideoRoomRegistry {
  readonly #log: Logger;
  readonly #metrics: VideoRoomMetrics | undefined;
  readonly #multistream: boolean;
  readonly #publishers = new Map<string, VideoRoomPublisher>();
  /** Stream ids whose publisher is being created (reserved against duplicates). */
  readonly #creating = new Set<string>();
  readonly #subscribers = new Map<string, Set<VideoRoomSubscriber>>();
  /** Waiters for a publisher to be registered, by stream id. */
  readonly #publisherWaiters = new Map<string, Set<() => void>>();
  /** Remote publishers (Janus 1.1 `add_remote_publisher`); their rooms count as owned. */
  readonly #remotePublishers = new Set<VideoRoomRemotePublisher>();
  /** Orphan candidates from the last reconcile run. */
  #suspects = new Set<number>();

  constructor(options: VideoRoomRegistryOptions = {}) {
    this.#log = (options.logger ?? silentLogger()).child({ component: 'videoroom-registry' });
    this.#metrics = options.metrics;
    this.#multistream = options.multistream ?? true;
  }

  /** Live publishers. */
  get publisherCount(): number {
    return this.#publishers.size;
  }

  /** Live subscribers. */
  get subscriberCount(): number {
    let n = 0;
    for (const set of this.#subscribers.values()) n += set.size;
    return n;
  }

  /** The live publisher of a stream, if any. */
  getPublisher(publisherId: string, streamType: PublisherStreamType): VideoRoomPublisher | undefined {
    return this.#publishers.get(streamId(publisherId, streamType));
  }

  /** Creates and tracks a publisher; rejects with {@link DuplicatePublisherError} if one exists. */
  async createPublisher(session: JanusSession, settings: PublisherSettings): Promise<VideoRoomPublisher> {
    const key = streamId(settings.publisherId, settings.streamType);
    if (this.#publishers.has(key) || this.#creating.has(key)) throw new DuplicatePublisherError(key);
    this.#creating.add(key);
    let publisher: VideoRoomPublisher;
    try {
      publisher = await VideoRoomPublisher.create(session, settings);
    } finally {
      this.#creating.delete(key);
    }
    const type = settings.streamType;
    this.#publishers.set(key, publisher);
    this.#metrics?.publishers.inc({ type });
    this.#metrics?.publishersTotal.inc({ type });
    const receiving = new Set<string>();
    publisher.on('media', (event) => {
      if (event.receiving && !receiving.has(event.type)) {
        receiving.add(event.type);
        this.#metrics?.publisherStreams.inc({ type: event.type });
      } else if (!event.receiving && receiving.delete(event.type)) {
        this.#metrics?.publisherStreams.dec({ type: event.type });
      }
    });
    publisher.once('close', () => {
      if (this.#publishers.get(key) === publisher) this.#publishers.delete(key);
      this.#metrics?.publishers.dec({ type });
      for (const t of receiving) this.#metrics?.publisherStreams.dec({ type: t });
      receiving.clear();
    });
    for (const wake of this.#publisherWaiters.get(key) ?? []) wake();
    return publisher;
  }

  /** Waits up to `timeoutMs` for the publisher of a stream to be registered. */
  async waitForPublisher(publisherId: string, streamType: PublisherStreamType, timeoutMs: number): Promise<VideoRoomPublisher> {
    const key = streamId(publisherId, streamType);
    const existing = this.#publishers.get(key);
    if (existing) return existing;
    return new Promise<VideoRoomPublisher>((resolve, reject) => {
      const waiters = this.#publisherWaiters.get(key) ?? new Set<() => void>();
      this.#publisherWaiters.set(key, waiters);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.#publisherWaiters.delete(key);
      };
      const wake = (): void => {
        const publisher = this.#publishers.get(key);
        if (!publisher) return;
        done();
        resolve(publisher);
      };
      const timer = setTimeout(() => {
        done();
        reject(new NoSuchPublisherError(key));
      }, timeoutMs);
      waiters.add(wake);
    });
  }

  /**
   * Subscribes `owner` to a stream: waits for its publisher, attaches, and wires the 426/428
   * retry to the publisher's `webrtcup` (upstream). The subscriber is not joined yet; call
   * `requestOffer()`.
   */
  async createSubscriber(session: JanusSession, options: CreateSubscriberOptions): Promise<VideoRoomSubscriber> {
    const publisher = await this.waitForPublisher(options.publisherId, options.streamType, options.publisherTimeoutMs ?? 10_000);
    const subscriberOptions: SubscriberOptions = {
      roomId: publisher.roomId,
      feedId: FEED_IDS[options.streamType],
      multistream: this.#multistream,
      waitForPublisher: (signal) => waitForWebrtcUp(publisher, signal),
    };
    if (options.timeoutMs !== undefined) subscriberOptions.timeoutMs = options.timeoutMs;
    if (options.joinTimeoutMs !== undefined) subscriberOptions.joinTimeoutMs = options.joinTimeoutMs;
    const subscriber = await VideoRoomSubscriber.create(session, subscriberOptions);
    const type = options.streamType;
    let set = this.#subscribers.get(options.owner);
    if (!set) {
      set = new Set();
      this.#subscribers.set(options.owner, set);
    }
    set.add(subscriber);
    this.#metrics?.subscribers.inc({ type });
    this.#metrics?.subscribersTotal.inc({ type });
    subscriber.on('waiting', () => this.#metrics?.noPublisherTotal.inc({ type }));
    subscriber.once('close', () => {
      const owned = this.#subscribers.get(options.owner);
      owned?.delete(subscriber);
      if (owned?.size === 0) this.#subscribers.delete(options.owner);
      this.#metrics?.subscribers.dec({ type });
    });
    return subscriber;
  }

  /** Creates and tracks a remote publisher (its room is spared by {@link reconcile}). */
  async createRemotePublisher(session: JanusSession, settings: RemotePublisherSettings): Promise<VideoRoomRemotePublisher> {
    const remote = await VideoRoomRemotePublisher.create(session, settings);
    this.#remotePublishers.add(remote);
    remote.onClose(() => this.#remotePublishers.delete(remote));
    return remote;
  }

  /** Live remote publishers. */
  get remotePublisherCount(): number {
    return this.#remotePublishers.size;
  }

  /** Closes everything `owner` has: its publishers (destroying their rooms) and subscribers. */
  async closeOwner(owner: string): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const publisher of this.#publishers.values()) {
      if (publisher.publisherId === owner) closing.push(publisher.close());
    }
    for (const subscriber of this.#subscribers.get(owner) ?? []) closing.push(subscriber.close());
    await Promise.all(closing);
  }

  /** Closes every tracked object (shutdown). */
  async closeAll(): Promise<void> {
    const closing: Promise<void>[] = [...this.#publishers.values()].map((p) => p.close());
    for (const remote of this.#remotePublishers) closing.push(remote.close());
    for (const set of this.#subscribers.values()) for (const s of set) closing.push(s.close());
    await Promise.all(closing);
  }

  /**
   * Lists VideoRoom rooms through `handle` (any VideoRoom handle, e.g. an idle control handle)
   * and destroys rooms with our description pattern that no live publisher owns — but only when
   * they were orphans in the previous run too, so rooms of publishers still being created are
   * spared. Run it periodically and after reconnects.
   */
  async reconcile(handle: JanusHandle): Promise<ReconcileResult> {
    const reply = await handle.request({ request: 'list' });
    const list = Array.isArray(reply['list']) ? (reply['list'] as { room?: unknown; description?: unknown }[]) : [];
    this.#metrics?.janusRooms.set(list.length);
    const owned = new Set([...this.#publishers.values()].map((p) => p.roomId));
    for (const remote of this.#remotePublishers) owned.add(remote.roomId);
    const orphans = new Set<number>();
    for (const room of list) {
      if (typeof room.room !== 'number' || typeof room.description !== 'string') continue;
      if (!OUR_ROOM.test(room.description) || owned.has(room.room)) continue;
      orphans.add(room.room);
    }
    const destroyed: number[] = [];
    for (const room of orphans) {
      if (!this.#suspects.has(room)) continue;
      try {
        await handle.request({ request: 'destroy', room });
        destroyed.push(room);
        this.#metrics?.orphanRoomsDestroyedTotal.inc();
        this.#log.info({ room }, 'destroyed orphan videoroom');
      } catch (err) {
        this.#log.warn({ err, room }, 'could not destroy orphan videoroom');
      }
    }
    this.#suspects = new Set([...orphans].filter((r) => !destroyed.includes(r)));
    return { rooms: list.length, destroyed };
  }
}

/** Resolves once `publisher` is connected (`webrtcup`), or when `signal` aborts. */
function waitForWebrtcUp(publisher: VideoRoomPublisher, signal: AbortSignal): Promise<void> {
  if (publisher.connected) return Promise.resolve();
  if (publisher.closed) return Promise.reject(new ClosedError('publisher closed'));
  return new Promise<void>((resolve) => {
    const done = (): void => {
      publisher.off('webrtcup', done);
      publisher.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    publisher.on('webrtcup', done);
    publisher.on('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
