import { EventEmitter } from 'node:events';
import { ClosedError, type IceCandidate, type JanusSession, type VideoRoomPublisher } from '@talk-signaling/janus';
import type { Logger } from '@talk-signaling/runtime';
import { SerialQueue } from '../serial-queue';
import type { SfuJsep, SfuPublisher, SfuPublisherEvents, SfuPublisherRequest, SfuStreamType } from '../sfu';

/**
 * A published stream as the app sees it, on top of a `VideoRoomPublisher`. When the Janus
 * session goes away underneath (connection lost, Janus restarted) the wrapper stays and
 * {@link JanusSfu} gives it a fresh VideoRoom publisher once Janus is back (upstream
 * `NotifyReconnected`); any other end of the VideoRoom publisher ends the wrapper too.
 */
export class JanusSfuPublisher extends EventEmitter<SfuPublisherEvents> implements SfuPublisher {
  readonly publisherId: string;
  readonly sid: string;
  readonly streamType: SfuStreamType;
  readonly bitrate: number;
  mediaTypes: number;
  readonly #log: Logger;
  readonly #queue = new SerialQueue();
  #inner: VideoRoomPublisher | undefined;
  #closed = false;

  constructor(request: SfuPublisherRequest, bitrate: number, log: Logger) {
    super();
    this.publisherId = request.publisherId;
    this.sid = request.sid;
    this.streamType = request.streamType;
    this.bitrate = bitrate;
    this.mediaTypes = request.mediaTypes;
    this.#log = log;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True while waiting for a new VideoRoom publisher after the Janus session was lost. */
  get orphaned(): boolean {
    return !this.#closed && this.#inner === undefined;
  }

  /** Janus room id (0 while orphaned), for tests and logs. */
  get roomId(): number {
    return this.#inner?.roomId ?? 0;
  }

  /** Uses `inner` (created in `session`) from now on. */
  attach(inner: VideoRoomPublisher, session: JanusSession): void {
    if (this.#closed) {
      void inner.close();
      return;
    }
    this.#inner = inner;
    inner.on('candidate', (candidate: IceCandidate) => this.emit('candidate', candidate));
    inner.once('close', () => {
      if (this.#inner !== inner) return;
      this.#inner = undefined;
      // The session went first: Janus (or the connection to it) is gone; wait to be re-created.
      if (session.closed && !this.#closed) {
        this.#log.info('publisher lost with the janus session; waiting for recovery');
        return;
      }
      this.#finish();
    });
  }

  offer(jsep: SfuJsep): Promise<SfuJsep> {
    return this.#queue.run(async () => (await this.#current().offer(jsep)) as SfuJsep);
  }

  trickle(candidate: unknown): Promise<void> {
    return this.#queue.run(() => this.#current().trickle(candidate as IceCandidate));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const inner = this.#inner;
    this.#inner = undefined;
    this.emit('close');
    await inner?.close();
  }

  /** Ends the wrapper without Janus round trips (recovery failed, or shutdown). */
  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close');
  }

  /** Gives up on recovery. */
  abandon(): void {
    this.#finish();
  }

  #current(): VideoRoomPublisher {
    if (this.#inner) return this.#inner;
    throw new ClosedError(this.#closed ? 'publisher closed' : 'publisher waiting for janus');
  }
}
