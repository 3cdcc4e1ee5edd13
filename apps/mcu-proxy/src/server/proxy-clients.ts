import type { VideoRoomPublisher, VideoRoomSubscriber, PublisherStreamType } from '@talk-signaling/janus';
import type { ProxySession } from '../session/proxy-session';

interface ClientBase {
  /** Proxy client id (UUID) the signaling server addresses it by. */
  readonly id: string;
  readonly session: ProxySession;
  readonly streamType: PublisherStreamType;
  /** Max bitrate (bit/s): the room bitrate of the publisher (subscribers: their publisher's). */
  readonly bitrate: number;
  /** Serialises payloads of this client (offer before its candidates). */
  queue: Promise<void>;
}

export interface PublisherClient extends ClientBase {
  readonly kind: 'publisher';
  readonly publisher: VideoRoomPublisher;
  /** The signaling side's `sid` of `create-publisher`: its payloads name the publisher by it. */
  readonly sid: string;
}

export interface SubscriberClient extends ClientBase {
  readonly kind: 'subscriber';
  readonly subscriber: VideoRoomSubscriber;
}

/** A publisher or subscriber created through the proxy protocol. */
export type ProxyClient = PublisherClient | SubscriberClient;

/**
 * All clients of the proxy by id. Removing the last one fires `onEmpty` (the graceful shutdown
 * waits for it).
 */
export class ProxyClients {
  readonly #clients = new Map<string, ProxyClient>();
  #onEmpty: (() => void) | undefined;
  #onChange: (() => void) | undefined;
  /** Running sums (bit/s), so reading the bandwidth is O(1). */
  #incoming = 0;
  #outgoing = 0;

  get size(): number {
    return this.#clients.size;
  }

  get(id: string): ProxyClient | undefined {
    return this.#clients.get(id);
  }

  add(client: ProxyClient): void {
    this.#clients.set(client.id, client);
    client.session.clients.set(client.id, client);
    if (client.kind === 'publisher') this.#incoming += client.bitrate;
    else this.#outgoing += client.bitrate;
    this.#onChange?.();
  }

  /** Forgets `client`; true when it was known (so gauges are decremented once). */
  delete(client: ProxyClient): boolean {
    if (this.#clients.get(client.id) !== client) return false;
    this.#clients.delete(client.id);
    client.session.clients.delete(client.id);
    if (client.kind === 'publisher') this.#incoming -= client.bitrate;
    else this.#outgoing -= client.bitrate;
    this.#onChange?.();
    if (this.#clients.size === 0) this.#onEmpty?.();
    return true;
  }

  values(): IterableIterator<ProxyClient> {
    return this.#clients.values();
  }

  onEmpty(callback: () => void): void {
    this.#onEmpty = callback;
  }

  /** Called after every add/delete (the load reporter recomputes). */
  onChange(callback: () => void): void {
    this.#onChange = callback;
  }

  /** Σ max bitrate of publishers (incoming) and subscribers (outgoing), in bit/s. */
  bandwidth(): { incoming: number; outgoing: number } {
    return { incoming: this.#incoming, outgoing: this.#outgoing };
  }
}
