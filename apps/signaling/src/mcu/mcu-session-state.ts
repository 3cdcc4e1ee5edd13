import { SerialQueue, type SerialQueueBudget } from './serial-queue';
import type { SfuPublisher, SfuStreamType, SfuSubscriber } from './sfu';

/**
 * What a session's MCU messages may hold while they wait for the SFU (issue 10): a client that
 * floods offers or candidates while Janus is slow is refused beyond this, not buffered.
 */
export const MCU_QUEUE_BUDGET: Readonly<SerialQueueBudget> = { maxTasks: 64, maxBytes: 1024 * 1024 };

/**
 * `requestoffer`s and `sendoffer`s a session may have running in the background (each may wait
 * for a publisher, or for other nodes, up to the MCU timeout). A call's worth of streams fits.
 */
export const MCU_MAX_PENDING_OFFERS = 256;

/** `"<publisher id>|<stream type>"`, upstream's key for subscribers. */
export function subscriberKey(publisherId: string, streamType: string): string {
  return `${publisherId}|${streamType}`;
}

/**
 * The MCU objects of one session: at most one publisher per stream type, one subscriber per
 * (publisher, stream type). Concurrent creations of the same object share one promise; an
 * object whose creation finishes after {@link releaseAll} is closed at once.
 */
export class McuSessionState {
  /** The session's offers, answers, candidates and stream selections, processed in order. */
  readonly queue = new SerialQueue(MCU_QUEUE_BUDGET);
  readonly #publishers = new Map<SfuStreamType, SfuPublisher>();
  readonly #subscribers = new Map<string, SfuSubscriber>();
  readonly #creatingPublishers = new Map<SfuStreamType, Promise<SfuPublisher>>();
  readonly #creatingSubscribers = new Map<string, Promise<SfuSubscriber>>();
  /** Bumped by releaseAll(): creations started before it are discarded. */
  #generation = 0;
  /** Pending delayed screen-publisher close (`unshareScreen`). */
  unshareTimer: NodeJS.Timeout | undefined;
  /** Offers running in the background (see {@link MCU_MAX_PENDING_OFFERS}). */
  #pendingOffers = 0;

  /** Runs `offer`, counted as pending until it settles; undefined (and `offer` is not run) when too many are. */
  tryStartOffer(offer: () => Promise<void>): Promise<void> | undefined {
    if (this.#pendingOffers >= MCU_MAX_PENDING_OFFERS) return undefined;
    this.#pendingOffers++;
    return offer().finally(() => this.#pendingOffers--);
  }

  publisher(streamType: string): SfuPublisher | undefined {
    return this.#publishers.get(streamType as SfuStreamType);
  }

  subscriber(publisherId: string, streamType: string): SfuSubscriber | undefined {
    return this.#subscribers.get(subscriberKey(publisherId, streamType));
  }

  get publishers(): readonly SfuPublisher[] {
    return [...this.#publishers.values()];
  }

  get subscribers(): readonly SfuSubscriber[] {
    return [...this.#subscribers.values()];
  }

  get empty(): boolean {
    return this.#publishers.size === 0 && this.#subscribers.size === 0 && this.#creatingPublishers.size === 0 && this.#creatingSubscribers.size === 0;
  }

  /** The publisher of `streamType`; `created` tells whether this call made it. */
  async getOrCreatePublisher(streamType: SfuStreamType, create: () => Promise<SfuPublisher>): Promise<{ publisher: SfuPublisher; created: boolean }> {
    const { value, created } = await this.#getOrCreate(this.#publishers, this.#creatingPublishers, streamType, create);
    return { publisher: value, created };
  }

  async getOrCreateSubscriber(publisherId: string, streamType: SfuStreamType, create: () => Promise<SfuSubscriber>): Promise<SfuSubscriber> {
    const key = subscriberKey(publisherId, streamType);
    return (await this.#getOrCreate(this.#subscribers, this.#creatingSubscribers, key, create)).value;
  }

  /**
   * One object per key: an existing one, the one being created (parallel requests share it), or
   * a new one. An object finished after `releaseAll()` is closed at once instead of kept.
   */
  async #getOrCreate<K, T extends SfuPublisher | SfuSubscriber>(
    live: Map<K, T>,
    pending: Map<K, Promise<T>>,
    key: K,
    create: () => Promise<T>,
  ): Promise<{ value: T; created: boolean }> {
    const existing = live.get(key);
    if (existing) return { value: existing, created: false };
    const inFlight = pending.get(key);
    if (inFlight) return { value: await inFlight, created: false };
    const generation = this.#generation;
    const creating = create().then((value) => {
      if (generation !== this.#generation) {
        void value.close();
        throw new Error('session released its MCU objects meanwhile');
      }
      live.set(key, value);
      value.once('close', () => {
        if (live.get(key) === value) live.delete(key);
      });
      return value;
    });
    pending.set(key, creating);
    try {
      return { value: await creating, created: true };
    } finally {
      if (pending.get(key) === creating) pending.delete(key);
    }
  }

  /** Forgets and closes `publisher` (permission revoked, unshareScreen). */
  async closePublisher(publisher: SfuPublisher): Promise<void> {
    if (this.#publishers.get(publisher.streamType) === publisher) this.#publishers.delete(publisher.streamType);
    await publisher.close();
  }

  /** Closes everything (left the room or the call, session closed). */
  async releaseAll(): Promise<void> {
    this.#generation += 1;
    clearTimeout(this.unshareTimer);
    this.unshareTimer = undefined;
    const all = [...this.#publishers.values(), ...this.#subscribers.values()];
    this.#publishers.clear();
    this.#subscribers.clear();
    this.#creatingPublishers.clear();
    this.#creatingSubscribers.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
