import type { Logger } from '@talk-signaling/runtime';
import { ClosedError } from '../gateway/errors';
import type { JanusHandle } from '../gateway/janus-handle';
import type { JanusSession } from '../gateway/janus-session';
import { streamId } from './publisher';
import type { PublisherStream } from './publisher-streams';
import { FEED_IDS, VIDEOROOM_PLUGIN, type PublisherStreamType } from './videoroom-types';

/** Settings for {@link VideoRoomRemotePublisher.create}. */
export interface RemotePublisherSettings {
  /** Id of the publisher on the other side (room description `<id>|<stream type>`). */
  publisherId: string;
  streamType: PublisherStreamType;
  bitrate: number;
  /** The publisher's streams (from the other side's `publisherStreamsFromSdp`). */
  streams: PublisherStream[];
  timeoutMs?: number;
}

/**
 * Janus 1.1 remote publisher: a room of its own with a feed fed by RTP from another Janus
 * (`add_remote_publisher` → `port`/`rtcp_port` to send to). Subscribers join the feed like a
 * local one. `close()` removes the feed, destroys the room and detaches.
 */
export class VideoRoomRemotePublisher {
  readonly #handle: JanusHandle;
  readonly #settings: RemotePublisherSettings;
  readonly #log: Logger;
  readonly roomId: number;
  readonly port: number;
  readonly rtcpPort: number;
  #closing: Promise<void> | undefined;
  #onClose: (() => void)[] = [];

  private constructor(handle: JanusHandle, settings: RemotePublisherSettings, roomId: number, port: number, rtcpPort: number) {
    this.#handle = handle;
    this.#settings = settings;
    this.roomId = roomId;
    this.port = port;
    this.rtcpPort = rtcpPort;
    this.#log = handle.logger.child({ remotePublisher: settings.publisherId, room: roomId });
    handle.on('close', () => {
      if (!this.#closing) this.#closing = Promise.resolve().then(() => this.#finish());
    });
  }

  /** Attaches, creates the room, adds the remote feed; cleans up after itself on failure. */
  static async create(session: JanusSession, settings: RemotePublisherSettings): Promise<VideoRoomRemotePublisher> {
    const timeoutMs = settings.timeoutMs;
    const handle = await session.attach(VIDEOROOM_PLUGIN, { timeoutMs });
    let roomId = 0;
    try {
      const created = await handle.request(
        {
          request: 'create',
          description: streamId(settings.publisherId, settings.streamType),
          publishers: 1,
          videoorient_ext: false,
          bitrate: settings.bitrate,
        },
        { timeoutMs },
      );
      if (typeof created['room'] !== 'number') throw new Error(`videoroom create: no room id in ${JSON.stringify(created)}`);
      roomId = created['room'];
      const added = await handle.request(
        { request: 'add_remote_publisher', room: roomId, id: FEED_IDS[settings.streamType], streams: settings.streams },
        { timeoutMs },
      );
      const port = added['port'];
      const rtcpPort = added['rtcp_port'];
      if (typeof port !== 'number' || typeof rtcpPort !== 'number') throw new Error(`add_remote_publisher: no ports in ${JSON.stringify(added)}`);
      return new VideoRoomRemotePublisher(handle, settings, roomId, port, rtcpPort);
    } catch (err) {
      if (roomId !== 0) await handle.request({ request: 'destroy', room: roomId }, { timeoutMs }).catch(() => undefined);
      await handle.detach({ timeoutMs }).catch(() => undefined);
      throw err;
    }
  }

  get publisherId(): string {
    return this.#settings.publisherId;
  }

  get streamType(): PublisherStreamType {
    return this.#settings.streamType;
  }

  get feedId(): number {
    return FEED_IDS[this.#settings.streamType];
  }

  get bitrate(): number {
    return this.#settings.bitrate;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Called once when the remote publisher is gone (closed by us or its handle lost). */
  onClose(callback: () => void): void {
    this.#onClose.push(callback);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const timeoutMs = this.#settings.timeoutMs;
      if (!this.#handle.closed) {
        await this.#handle
          .request({ request: 'remove_remote_publisher', room: this.roomId, id: this.feedId }, { timeoutMs })
          .catch((err: unknown) => this.#log.debug({ err }, 'could not remove remote publisher'));
        await this.#handle
          .request({ request: 'destroy', room: this.roomId }, { timeoutMs })
          .catch((err: unknown) => this.#log.warn({ err }, 'could not destroy remote publisher room'));
        await this.#handle.detach({ timeoutMs }).catch((err: unknown) => {
          if (!(err instanceof ClosedError)) this.#log.warn({ err }, 'could not detach remote publisher handle');
        });
      }
      this.#finish();
    })();
    return this.#closing;
  }

  #finish(): void {
    const callbacks = this.#onClose;
    this.#onClose = [];
    for (const cb of callbacks) cb();
  }
}
