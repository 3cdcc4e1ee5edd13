import { EventEmitter } from 'node:events';
import { ClosedError, type IceCandidate, type JanusSession, type Jsep, type VideoRoomSubscriber } from '@talk-signaling/janus';
import type { Logger } from '@talk-signaling/runtime';
import { SerialQueue } from '../serial-queue';
import type { SfuJsep, SfuStreamSelection, SfuStreamType, SfuSubscriber, SfuSubscriberEvents, SfuSubscriberRequest } from '../sfu';

/**
 * A subscription as the app sees it, on top of a `VideoRoomSubscriber`; re-created by
 * {@link JanusSfu} after the Janus session was lost (new handle, so a new `sid`: the client's
 * next `requestoffer` with its old sid joins afresh, as upstream).
 */
export class JanusSfuSubscriber extends EventEmitter<SfuSubscriberEvents> implements SfuSubscriber {
  readonly subscriberId: string;
  readonly publisherId: string;
  readonly streamType: SfuStreamType;
  readonly #log: Logger;
  readonly #queue = new SerialQueue();
  readonly #onConnected: (up: boolean) => void;
  #inner: VideoRoomSubscriber | undefined;
  #sid = '';
  #closed = false;
  #webrtcUp = false;

  constructor(request: SfuSubscriberRequest, log: Logger, onConnected: (up: boolean) => void) {
    super();
    this.subscriberId = request.subscriberId;
    this.publisherId = request.publisherId;
    this.streamType = request.streamType;
    this.#log = log;
    this.#onConnected = onConnected;
  }

  get sid(): string {
    return this.#inner?.sid ?? this.#sid;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get orphaned(): boolean {
    return !this.#closed && this.#inner === undefined;
  }

  attach(inner: VideoRoomSubscriber, session: JanusSession): void {
    if (this.#closed) {
      void inner.close();
      return;
    }
    this.#inner = inner;
    this.#sid = inner.sid;
    inner.on('offer', (jsep: Jsep) => this.emit('offer', jsep as SfuJsep));
    inner.on('candidate', (candidate: IceCandidate) => this.emit('candidate', candidate));
    inner.on('sid', (sid: string) => {
      this.#sid = sid;
    });
    inner.on('webrtcup', () => this.#setUp(true));
    inner.once('close', () => {
      if (this.#inner !== inner) return;
      this.#inner = undefined;
      this.#setUp(false);
      if (session.closed && !this.#closed) {
        this.#log.info('subscriber lost with the janus session; waiting for recovery');
        return;
      }
      this.#finish();
    });
  }

  requestOffer(selection: SfuStreamSelection | undefined, sid: string | undefined): Promise<SfuJsep> {
    return this.#queue.run(async () => {
      const inner = this.#current();
      // Upstream: an empty or foreign sid (re)joins; our own sid renegotiates.
      const jsep = !inner.joined || !sid || sid !== inner.sid ? await inner.join(selection) : await inner.update(selection);
      return jsep as SfuJsep;
    });
  }

  answer(jsep: SfuJsep): Promise<void> {
    return this.#queue.run(() => this.#current().start(jsep as Jsep));
  }

  trickle(candidate: unknown): Promise<void> {
    return this.#queue.run(() => this.#current().trickle(candidate as IceCandidate));
  }

  selectStream(selection: SfuStreamSelection): Promise<void> {
    return this.#queue.run(() => this.#current().selectStream(selection));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const inner = this.#inner;
    this.#inner = undefined;
    this.#setUp(false);
    this.emit('close');
    await inner?.close();
  }

  abandon(): void {
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#setUp(false);
    this.emit('close');
  }

  #setUp(up: boolean): void {
    if (this.#webrtcUp === up) return;
    this.#webrtcUp = up;
    this.#onConnected(up);
  }

  #current(): VideoRoomSubscriber {
    if (this.#inner) return this.#inner;
    throw new ClosedError(this.#closed ? 'subscriber closed' : 'subscriber waiting for janus');
  }
}
