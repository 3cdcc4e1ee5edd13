import { EventEmitter } from 'node:events';
import type { Logger } from '@talk-signaling/runtime';
import { ClosedError, JanusError, VideoRoomErrorCode } from '../gateway/errors';
import type { JanusHandle } from '../gateway/janus-handle';
import type { JanusSession } from '../gateway/janus-session';
import type { IceCandidate, Jsep } from '../gateway/janus-types';
import { publisherStreamsFromSdp, type PublisherStream } from './publisher-streams';
import { FEED_IDS, VIDEOROOM_PLUGIN, type PublisherEvents, type PublisherSettings, type PublisherStreamType } from './videoroom-types';

/** The Janus room `description` upstream uses: `"<publisher id>|<stream type>"`. */
export function streamId(publisherId: string, streamType: string): string {
  return `${publisherId}|${streamType}`;
}

/**
 * One published stream: its own handle and its own VideoRoom room (`publishers: 1`), joined as
 * publisher with feed id 1 (video) or 2 (screen).
 *
 * ```
 * create(): attach ─► create room ─► join ptype=publisher ─► ready
 * offer():  configure {audio,video,data} + jsep offer ─► event + jsep answer
 * close():  destroy room ─► detach
 * ```
 * The publisher closes itself when Janus destroys the room, hangs up or detaches the handle, or
 * the session goes away; it then emits `'close'` once.
 */
export class VideoRoomPublisher extends EventEmitter<PublisherEvents> {
  readonly #handle: JanusHandle;
  readonly #log: Logger;
  readonly #settings: Readonly<PublisherSettings>;
  /** Room id; 0 once destroyed. */
  #roomId: number;
  #closed = false;
  #connected = false;
  #offerSdp: string | undefined;
  #answerSdp: string | undefined;
  #closing: Promise<void> | undefined;

  private constructor(handle: JanusHandle, roomId: number, settings: PublisherSettings) {
    super();
    this.#handle = handle;
    this.#roomId = roomId;
    this.#settings = Object.freeze({ ...settings });
    this.#log = handle.logger.child({ publisher: settings.publisherId, streamType: settings.streamType, room: roomId });
    handle.on('event', ({ data }) => {
      if (data['videoroom'] === 'destroyed') {
        this.#log.info('publisher room destroyed by janus');
        this.#roomId = 0;
        void this.#shutdown(new ClosedError('videoroom destroyed'));
      }
    });
    handle.on('webrtcup', () => {
      this.#connected = true;
      this.emit('webrtcup');
    });
    handle.on('media', (event) => {
      // Screen shares arrive as `video`; report them under the stream type as upstream does.
      const type = event.type === 'video' && settings.streamType === 'screen' ? 'screen' : event.type;
      this.emit('media', { ...event, type });
    });
    handle.on('slowlink', (event) => this.emit('slowlink', event));
    handle.on('trickle', (candidate) => {
      if ('completed' in candidate) this.emit('candidatesCompleted');
      else this.emit('candidate', candidate);
    });
    handle.on('hangup', (reason) => {
      this.#log.info({ reason }, 'publisher hangup');
      void this.#shutdown(new ClosedError(`janus hangup: ${reason}`));
    });
    handle.on('close', (reason) => {
      if (this.#closing) return; // our own detach; #shutdown finishes
      // Handle gone (detached by Janus, session or connection closed). The room outlives the
      // handle in Janus (rooms are plugin-wide); VideoRoomRegistry.reconcile() destroys it later.
      this.#finish(reason ?? new ClosedError('janus handle closed'));
    });
  }

  /**
   * Attaches a handle, creates the room (one per published stream) and joins it as publisher.
   * On failure the handle is detached again; nothing is left behind in Janus.
   */
  static async create(session: JanusSession, settings: PublisherSettings): Promise<VideoRoomPublisher> {
    const timeoutMs = settings.timeoutMs;
    const handle = await session.attach(VIDEOROOM_PLUGIN, { timeoutMs });
    let roomId = 0;
    try {
      const create: Record<string, unknown> = {
        request: 'create',
        description: streamId(settings.publisherId, settings.streamType),
        // Every stream gets its own room.
        publishers: 1,
        // The video-orientation RTP extension breaks orientation changes in Firefox (upstream).
        videoorient_ext: false,
        bitrate: settings.bitrate,
      };
      if (settings.audioCodec) create['audiocodec'] = settings.audioCodec;
      if (settings.videoCodec) create['videocodec'] = settings.videoCodec;
      if (settings.vp9Profile) create['vp9_profile'] = settings.vp9Profile;
      if (settings.h264Profile) create['h264_profile'] = settings.h264Profile;
      const created = await handle.request(create, { timeoutMs });
      if (typeof created['room'] !== 'number' || created['room'] === 0) {
        throw new Error(`videoroom create: no room id in ${JSON.stringify(created)}`);
      }
      roomId = created['room'];
      await handle.message(
        { request: 'join', ptype: 'publisher', room: roomId, id: FEED_IDS[settings.streamType] },
        undefined,
        { timeoutMs },
      );
      return new VideoRoomPublisher(handle, roomId, settings);
    } catch (err) {
      // Best-effort cleanup of what we made; the original error is what the caller needs.
      if (roomId !== 0) await handle.request({ request: 'destroy', room: roomId }, { timeoutMs }).catch(() => undefined);
      await handle.detach({ timeoutMs }).catch(() => undefined);
      throw err;
    }
  }

  /** Who publishes. */
  get publisherId(): string {
    return this.#settings.publisherId;
  }

  get streamType(): PublisherStreamType {
    return this.#settings.streamType;
  }

  /** `"<publisher id>|<stream type>"`, also the room description. */
  get streamId(): string {
    return streamId(this.#settings.publisherId, this.#settings.streamType);
  }

  /** Janus room id; 0 once the room is destroyed. */
  get roomId(): number {
    return this.#roomId;
  }

  /** VideoRoom publisher id inside the room (1 video, 2 screen). */
  get feedId(): number {
    return FEED_IDS[this.#settings.streamType];
  }

  /** Janus handle id. */
  get handleId(): number {
    return this.#handle.id;
  }

  /** Handle id as decimal string (the `sid` upstream tells clients). */
  get sid(): string {
    return String(this.#handle.id);
  }

  /** Room bitrate (bit/s). */
  get bitrate(): number {
    return this.#settings.bitrate;
  }

  /** The settings the publisher was created with. */
  get settings(): Readonly<PublisherSettings> {
    return this.#settings;
  }

  /** True after Janus reported `webrtcup`. */
  get connected(): boolean {
    return this.#connected;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Last offer SDP sent to Janus (kept for remote streams). */
  get offerSdp(): string | undefined {
    return this.#offerSdp;
  }

  /** Last answer SDP from Janus. */
  get answerSdp(): string | undefined {
    return this.#answerSdp;
  }

  /**
   * Sends the client's offer (`configure` with `audio`/`video`/`data` as upstream) and returns
   * Janus's answer. Also the way to renegotiate (`update-sdp`): a new offer on the same handle.
   */
  async offer(offer: Jsep): Promise<Jsep> {
    this.#assertOpen();
    const result = await this.#handle.message(
      { request: 'configure', audio: true, video: true, data: true },
      offer,
      { timeoutMs: this.#settings.timeoutMs },
    );
    if (result.jsep?.type !== 'answer') throw new Error('videoroom configure: no answer in reply');
    this.#offerSdp = offer.sdp;
    this.#answerSdp = result.jsep.sdp;
    return result.jsep;
  }

  /** Streams for a remote publisher elsewhere; undefined until an offer was answered. */
  streams(): PublisherStream[] | undefined {
    if (this.#offerSdp === undefined || this.#answerSdp === undefined) return undefined;
    return publisherStreamsFromSdp(this.#offerSdp, this.#answerSdp);
  }

  /**
   * Janus 1.1 `publish_remotely`: forward this publisher's RTP to a remote publisher of another
   * Janus at `host:port` (`rtcpPort` for RTCP). `remoteId` names the forwarding; an existing one
   * with that id (436) is replaced.
   */
  async publishRemotely(remote: { remoteId: string; host: string; port: number; rtcpPort: number }): Promise<void> {
    this.#assertOpen();
    const body = {
      request: 'publish_remotely',
      room: this.#roomId,
      publisher_id: this.feedId,
      remote_id: remote.remoteId,
      host: remote.host,
      port: remote.port,
      rtcp_port: remote.rtcpPort,
    };
    try {
      await this.#handle.request(body, { timeoutMs: this.#settings.timeoutMs });
    } catch (err) {
      if (!(err instanceof JanusError) || err.code !== VideoRoomErrorCode.IdExists) throw err;
      await this.unpublishRemotely(remote.remoteId);
      await this.#handle.request(body, { timeoutMs: this.#settings.timeoutMs });
    }
  }

  /** Janus 1.1 `unpublish_remotely`. */
  async unpublishRemotely(remoteId: string): Promise<void> {
    this.#assertOpen();
    await this.#handle.request(
      { request: 'unpublish_remotely', room: this.#roomId, publisher_id: this.feedId, remote_id: remoteId },
      { timeoutMs: this.#settings.timeoutMs },
    );
  }

  /** Forwards a client candidate. */
  async trickle(candidate: IceCandidate | readonly IceCandidate[]): Promise<void> {
    this.#assertOpen();
    await this.#handle.trickle(candidate, { timeoutMs: this.#settings.timeoutMs });
  }

  /** Tells Janus the client has no more candidates. */
  async trickleCompleted(): Promise<void> {
    this.#assertOpen();
    await this.#handle.trickleCompleted({ timeoutMs: this.#settings.timeoutMs });
  }

  /** Destroys the room and detaches the handle (errors are logged, never thrown). */
  close(): Promise<void> {
    return this.#shutdown(undefined);
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('publisher closed');
  }

  #shutdown(reason: Error | undefined): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      const timeoutMs = this.#settings.timeoutMs;
      if (this.#roomId !== 0 && !this.#handle.closed) {
        const room = this.#roomId;
        this.#roomId = 0;
        try {
          await this.#handle.request({ request: 'destroy', room }, { timeoutMs });
          this.#log.debug({ room }, 'room destroyed');
        } catch (err) {
          this.#log.warn({ err, room }, 'could not destroy publisher room');
        }
      }
      try {
        await this.#handle.detach({ timeoutMs });
      } catch (err) {
        if (!(err instanceof ClosedError)) this.#log.warn({ err }, 'could not detach publisher handle');
      }
      this.#finish(reason);
    })();
    return this.#closing;
  }

  #finish(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close', reason);
  }
}
