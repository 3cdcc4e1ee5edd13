import type { Logger } from '@talk-signaling/runtime';
import type { SfuSubscriberEvents, SfuJsep, SfuStreamSelection, SfuStreamType, SfuSubscriber } from '../sfu';
import { ProxyClient } from './proxy-client';
import type { ProxyConnection } from './proxy-connection';

export interface ProxySubscriberInit {
  subscriberId: string;
  publisherId: string;
  streamType: SfuStreamType;
  /** Subscriber sid from `create-subscriber`. */
  sid: string;
  /** Set for a remote subscriber: the proxy the publisher lives on. */
  publisherConnection?: ProxyConnection;
}

/**
 * A subscription on a proxy: the subscriber's Janus handle lives on the proxy (on the
 * publisher's proxy, or on another one that pulls the stream as a remote publisher). Closes
 * when the proxy loses it; the client's next `requestoffer` subscribes anew.
 */
export class ProxySfuSubscriber extends ProxyClient<SfuSubscriberEvents> implements SfuSubscriber {
  readonly subscriberId: string;
  readonly publisherId: string;
  readonly publisherConnection: ProxyConnection | undefined;
  protected readonly deleteCommand = 'delete-subscriber';
  readonly #onFinish: () => void;
  #sid: string;

  constructor(connection: ProxyConnection, clientId: string, init: ProxySubscriberInit, log: Logger, onFinish: () => void) {
    super(connection, clientId, init.streamType, log);
    this.subscriberId = init.subscriberId;
    this.publisherId = init.publisherId;
    this.publisherConnection = init.publisherConnection;
    this.#sid = init.sid;
    this.#onFinish = onFinish;
  }

  get sid(): string {
    return this.#sid;
  }

  get remote(): boolean {
    return this.publisherConnection !== undefined && this.publisherConnection !== this.connection;
  }

  /**
   * The proxy's offer. The proxy joins for a foreign or empty sid and renegotiates for its own;
   * it does not forward a selection with `requestoffer`, so one is sent as `selectStream` after.
   */
  requestOffer(selection: SfuStreamSelection | undefined, sid: string | undefined): Promise<SfuJsep> {
    return this.queue.run(async () => {
      const offer = await this.jsepRequest('requestoffer', sid, undefined, 'offer');
      if (selection) await this.#select(selection).catch((err: unknown) => this.log.info({ err: (err as Error).message }, 'selectStream after requestoffer failed'));
      return offer;
    });
  }

  answer(jsep: SfuJsep): Promise<void> {
    return this.queue.run(async () => {
      await this.sendPayload('answer', this.#sid, { ...jsep });
    });
  }

  trickle(candidate: unknown): Promise<void> {
    return this.queue.run(async () => {
      await this.sendPayload('candidate', this.#sid, { candidate });
    });
  }

  selectStream(selection: SfuStreamSelection): Promise<void> {
    return this.queue.run(() => this.#select(selection));
  }

  async #select(selection: SfuStreamSelection): Promise<void> {
    await this.sendPayload('selectStream', this.#sid, { ...selection });
  }

  protected override onOffer(offer: SfuJsep): void {
    this.emit('offer', offer);
  }

  onEvent(event: { type: string; sid?: string | undefined }): void {
    switch (event.type) {
      case 'subscriber-sid-updated':
        if (typeof event.sid === 'string' && event.sid.length <= 256) this.#sid = event.sid;
        return;
      case 'subscriber-closed':
        this.log.info('the proxy closed the subscriber');
        this.finish();
        return;
      case 'ice-completed':
        return;
      default:
        this.log.debug({ type: event.type }, 'unsupported subscriber event from the proxy');
    }
  }

  protected onFinish(): void {
    this.#onFinish();
  }
}
