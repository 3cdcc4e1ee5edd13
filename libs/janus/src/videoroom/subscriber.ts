import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff, type Logger } from '@talk-signaling/runtime';
import { ClosedError, JanusError, VideoRoomErrorCode } from '../gateway/errors';
import type { JanusHandle } from '../gateway/janus-handle';
import type { JanusSession } from '../gateway/janus-session';
import type { IceCandidate, Jsep, PluginResult } from '../gateway/janus-types';
import { VIDEOROOM_PLUGIN, type StreamSelection, type SubscriberEvents } from './videoroom-types';

/** Default wait for a missing publisher (426/428) before a join gives up. */
export const DEFAULT_JOIN_TIMEOUT_MS = 10_000;
/** How many times error 425 (already joined) may trigger a re-attach within one join. */
const MAX_REATTACH = 3;

/** Options for {@link VideoRoomSubscriber.create}. */
export interface SubscriberOptions {
  /** The publisher's room. */
  roomId: number;
  /** The publisher's feed id (1 video, 2 screen; see `FEED_IDS`). */
  feedId: number;
  /**
   * Janus ≥ 1.0 (`server_info.version` ≥ 1000): join with `streams: [{feed}]`; otherwise the
   * legacy `feed` field. Default true.
   */
  multistream?: boolean;
  /** Deadline per Janus request (ms); default the connection's. */
  timeoutMs?: number;
  /** How long a join retries on 426/428 (publisher not there yet); default 10 s. */
  joinTimeoutMs?: number;
  /**
   * Resolves when it is worth retrying a join that failed with 426/428 (upstream waits for the
   * publisher's `webrtcup`). Without it the subscriber polls with a short backoff.
   */
  waitForPublisher?: (signal: AbortSignal) => Promise<void>;
}

/**
 * One subscription to one feed, on its own handle. `sid` is the handle id (decimal), as
 * upstream tells clients.
 *
 * ```
 * create():       attach
 * requestOffer(): not joined → join ptype=subscriber streams=[{feed}] ─► event + jsep offer
 *                 joined     → configure update=true                 ─► event + jsep offer
 *                 425 → detach, attach again ('sid'), retry; 426/428 → wait for publisher, retry
 * start(answer):  start + jsep answer
 * close():        detach
 * ```
 */
export class VideoRoomSubscriber extends EventEmitter<SubscriberEvents> {
  readonly #session: JanusSession;
  readonly #options: Readonly<SubscriberOptions>;
  #handle: JanusHandle;
  #log: Logger;
  #joined = false;
  #connected = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #abort = new AbortController();

  private constructor(session: JanusSession, handle: JanusHandle, options: SubscriberOptions) {
    super();
    this.#session = session;
    this.#options = Object.freeze({ ...options });
    this.#handle = handle;
    this.#log = this.#childLogger(handle);
    this.#bind(handle);
  }

  /** Attaches a handle for a subscription to `options.feedId` in `options.roomId`. */
  static async create(session: JanusSession, options: SubscriberOptions): Promise<VideoRoomSubscriber> {
    const handle = await session.attach(VIDEOROOM_PLUGIN, { timeoutMs: options.timeoutMs });
    return new VideoRoomSubscriber(session, handle, options);
  }

  get roomId(): number {
    return this.#options.roomId;
  }

  get feedId(): number {
    return this.#options.feedId;
  }

  /** Current handle id. */
  get handleId(): number {
    return this.#handle.id;
  }

  /** Current handle id as decimal string (changes after a 425 re-attach; see `'sid'`). */
  get sid(): string {
    return String(this.#handle.id);
  }

  /** True once joined (an offer was received). */
  get joined(): boolean {
    return this.#joined;
  }

  /** True after Janus reported `webrtcup`. */
  get connected(): boolean {
    return this.#connected;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Upstream `requestoffer`/`sendoffer`: joins when not joined yet or when the client's `sid`
   * does not match ours, else renegotiates (`configure` with `update: true`). Returns Janus's offer.
   */
  async requestOffer(selection?: StreamSelection, sid?: string): Promise<Jsep> {
    if (!this.#joined || (sid !== undefined && sid !== '' && sid !== this.sid)) return this.join(selection);
    return this.update(selection);
  }

  /** `join` as subscriber with the retries upstream does (425, 426, 428); returns the offer. */
  async join(selection?: StreamSelection): Promise<Jsep> {
    this.#assertOpen();
    const deadline = Date.now() + (this.#options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS);
    const backoff = new Backoff({ initial: 50, max: 1_000 });
    let reattached = 0;
    let waitingReported = false;
    for (;;) {
      try {
        const result = await this.#handle.message(this.#joinBody(selection), undefined, { timeoutMs: this.#options.timeoutMs });
        this.#joined = true;
        return offerOf(result, 'join');
      } catch (err) {
        if (!(err instanceof JanusError) || this.#closed) throw err;
        if (err.code === VideoRoomErrorCode.AlreadyJoined && reattached < MAX_REATTACH) {
          reattached += 1;
          this.#log.info('already joined as subscriber; re-attaching');
          await this.#reattach();
          continue;
        }
        if (err.code !== VideoRoomErrorCode.NoSuchRoom && err.code !== VideoRoomErrorCode.NoSuchFeed) throw err;
        if (Date.now() >= deadline) throw err;
        if (!waitingReported) {
          waitingReported = true;
          this.emit('waiting', err.code);
        }
        this.#log.debug({ code: err.code }, 'publisher not there yet; waiting to retry the join');
        await this.#waitForPublisher(deadline, backoff);
        this.#assertOpen();
      }
    }
  }

  /** `configure` with `update: true` (+ selection): renegotiation; returns the new offer. */
  async update(selection?: StreamSelection): Promise<Jsep> {
    this.#assertOpen();
    const result = await this.#handle.message({ request: 'configure', update: true, ...selectionBody(selection) }, undefined, {
      timeoutMs: this.#options.timeoutMs,
    });
    return offerOf(result, 'configure');
  }

  /** `configure` with `restart: true`: ICE restart; returns the new offer. */
  async restartIce(): Promise<Jsep> {
    this.#assertOpen();
    const result = await this.#handle.message({ request: 'configure', restart: true }, undefined, { timeoutMs: this.#options.timeoutMs });
    return offerOf(result, 'configure');
  }

  /** `start` with the client's answer. */
  async start(answer: Jsep): Promise<void> {
    this.#assertOpen();
    await this.#handle.message({ request: 'start', room: this.#options.roomId }, answer, { timeoutMs: this.#options.timeoutMs });
  }

  /**
   * Upstream `selectStream`: `configure` with `substream`/`temporal`/`audio`/`video`; a no-op
   * when the selection is empty.
   */
  async selectStream(selection: StreamSelection): Promise<void> {
    this.#assertOpen();
    const body = selectionBody(selection);
    if (Object.keys(body).length === 0) return;
    await this.#handle.message({ request: 'configure', ...body }, undefined, { timeoutMs: this.#options.timeoutMs });
  }

  /** Forwards a client candidate. */
  async trickle(candidate: IceCandidate | readonly IceCandidate[]): Promise<void> {
    this.#assertOpen();
    await this.#handle.trickle(candidate, { timeoutMs: this.#options.timeoutMs });
  }

  /** Tells Janus the client has no more candidates. */
  async trickleCompleted(): Promise<void> {
    this.#assertOpen();
    await this.#handle.trickleCompleted({ timeoutMs: this.#options.timeoutMs });
  }

  /** Detaches the handle (errors are logged, never thrown). */
  close(): Promise<void> {
    return this.#shutdown(undefined);
  }

  #joinBody(selection: StreamSelection | undefined): Record<string, unknown> {
    const body: Record<string, unknown> = { request: 'join', ptype: 'subscriber', room: this.#options.roomId };
    if (this.#options.multistream ?? true) body['streams'] = [{ feed: this.#options.feedId }];
    else body['feed'] = this.#options.feedId;
    return { ...body, ...selectionBody(selection) };
  }

  async #reattach(): Promise<void> {
    const old = this.#handle;
    old.removeAllListeners();
    await old.detach({ timeoutMs: this.#options.timeoutMs }).catch((err: unknown) => {
      this.#log.warn({ err }, 'could not detach old subscriber handle');
    });
    let handle: JanusHandle;
    try {
      handle = await this.#session.attach(VIDEOROOM_PLUGIN, { timeoutMs: this.#options.timeoutMs });
    } catch (err) {
      this.#finish(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    if (this.#closed) {
      await handle.detach().catch(() => undefined); // closed meanwhile; don't leak the new handle
      throw new ClosedError('subscriber closed');
    }
    this.#handle = handle;
    this.#log = this.#childLogger(handle);
    this.#joined = false;
    this.#bind(handle);
    this.emit('sid', this.sid);
  }

  async #waitForPublisher(deadline: number, backoff: Backoff): Promise<void> {
    const remaining = Math.max(0, deadline - Date.now());
    const ac = new AbortController();
    const abort = (): void => ac.abort();
    this.#abort.signal.addEventListener('abort', abort, { once: true });
    const timer = setTimeout(abort, remaining);
    const aborted = new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
    try {
      // Always at least the backoff delay, so a waiter that resolves at once (publisher already
      // up but the feed still missing) cannot spin. A waiter that rejects or is aborted simply
      // ends the wait: the next attempt (or the deadline check) decides.
      const delay = sleep(Math.min(backoff.next(), remaining), undefined, { signal: ac.signal }).catch(() => undefined);
      const waiter = this.#options.waitForPublisher?.(ac.signal).catch(() => undefined);
      await Promise.race([Promise.all([delay, waiter]), aborted]);
    } finally {
      clearTimeout(timer);
      this.#abort.signal.removeEventListener('abort', abort);
      ac.abort();
    }
  }

  #bind(handle: JanusHandle): void {
    handle.on('event', ({ data, jsep }) => {
      const kind = data['videoroom'];
      if (kind === 'destroyed') {
        this.#log.info('subscribed room destroyed');
        void this.#shutdown(new ClosedError('videoroom destroyed'));
      } else if (kind === 'event' && data['configured'] === 'ok' && jsep?.type === 'offer') {
        this.emit('offer', jsep);
      } else if (kind === 'updated' && Array.isArray(data['streams']) && !hasActiveMedia(data['streams'])) {
        // Upstream: an update that leaves no active audio/video stream ends the subscription.
        this.#log.info('no active media streams left');
        void this.#shutdown(new ClosedError('publisher stopped all streams'));
      } else if (kind === 'event' && (data['left'] !== undefined || data['unpublished'] !== undefined)) {
        this.#log.debug({ data }, 'publisher left');
      } else {
        this.#log.debug({ data }, 'unhandled subscriber event');
      }
    });
    handle.on('webrtcup', () => {
      this.#connected = true;
      this.emit('webrtcup');
    });
    handle.on('media', (event) => this.emit('media', event));
    handle.on('slowlink', (event) => this.emit('slowlink', event));
    handle.on('trickle', (candidate) => {
      // Upstream swallows the `completed` marker towards clients; we report it separately.
      if ('completed' in candidate) this.emit('candidatesCompleted');
      else this.emit('candidate', candidate);
    });
    handle.on('hangup', (reason) => {
      this.#log.info({ reason }, 'subscriber hangup');
      void this.#shutdown(new ClosedError(`janus hangup: ${reason}`));
    });
    handle.on('close', (reason) => {
      if (this.#closing || this.#handle !== handle) return;
      this.#finish(reason ?? new ClosedError('janus handle closed'));
    });
  }

  #childLogger(handle: JanusHandle): Logger {
    return handle.logger.child({ subscriber: handle.id, room: this.#options.roomId, feed: this.#options.feedId });
  }

  #assertOpen(): void {
    if (this.#closed || this.#closing) throw new ClosedError('subscriber closed');
  }

  #shutdown(reason: Error | undefined): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#abort.abort();
    this.#closing = (async () => {
      try {
        await this.#handle.detach({ timeoutMs: this.#options.timeoutMs });
      } catch (err) {
        if (!(err instanceof ClosedError)) this.#log.warn({ err }, 'could not detach subscriber handle');
      }
      this.#finish(reason);
    })();
    return this.#closing;
  }

  #finish(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.emit('close', reason);
  }
}

/** Selection fields as upstream adds them to `join`/`configure`. */
export function selectionBody(selection: StreamSelection | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (selection?.substream !== undefined) body['substream'] = selection.substream;
  if (selection?.temporal !== undefined) body['temporal'] = selection.temporal;
  if (selection?.audio !== undefined) body['audio'] = selection.audio;
  if (selection?.video !== undefined) body['video'] = selection.video;
  return body;
}

function offerOf(result: PluginResult, request: string): Jsep {
  if (result.jsep?.type !== 'offer') throw new Error(`videoroom ${request}: no offer in reply`);
  return result.jsep;
}

function hasActiveMedia(streams: unknown[]): boolean {
  return streams.some((s) => {
    const stream = s as { type?: unknown; active?: unknown };
    return (stream.type === 'audio' || stream.type === 'video') && stream.active !== false;
  });
}
