import type { EventEmitter } from 'node:events';

/** Stream types an SFU publishes and subscribes (upstream: only `video` and `screen`). */
export type SfuStreamType = 'video' | 'screen';

/** WebRTC session description as clients send it in `payload` (`{type, sdp}`, passed through). */
export interface SfuJsep {
  type: 'offer' | 'answer';
  sdp: string;
  [key: string]: unknown;
}

/** Simulcast / SVC layer and media toggles of a subscription (`selectStream`, `requestoffer`). */
export interface SfuStreamSelection {
  substream?: number;
  temporal?: number;
  audio?: boolean;
  video?: boolean;
}

/** Codec settings of a publisher's room (feature `offer-codecs`). */
export interface SfuCodecs {
  audioCodec?: string;
  videoCodec?: string;
  vp9Profile?: string;
  h264Profile?: string;
}

/** What a new publisher needs. */
export interface SfuPublisherRequest {
  /** The publishing session's public id (the SFU's publisher id). */
  publisherId: string;
  /** The `sid` the client chose in its first offer; answers carry it back. */
  sid: string;
  streamType: SfuStreamType;
  /** Requested bit/s after the backend cap; 0 = the SFU's maximum. The SFU caps it again. */
  bitrate: number;
  /** `MediaType` bits the offer carries (see `sdp-media.ts`). */
  mediaTypes: number;
  codecs?: SfuCodecs;
  /** The client's ISO country (GeoIP), when known: proxies nearby are preferred. */
  country?: string | undefined;
}

/** What a new subscriber needs. */
export interface SfuSubscriberRequest {
  /** The subscribing session's public id. */
  subscriberId: string;
  /** Whose stream. */
  publisherId: string;
  streamType: SfuStreamType;
  /** The subscribing client's ISO country (GeoIP), when known. */
  country?: string | undefined;
}

export type SfuPublisherEvents = {
  /** A candidate of the SFU's for the publishing client. */
  candidate: [candidate: unknown];
  /** Gone for good (closed by us, by the SFU, or not recoverable after a restart). */
  close: [];
};

export type SfuSubscriberEvents = {
  /** The SFU renegotiates on its own: the client gets this offer. */
  offer: [jsep: SfuJsep];
  candidate: [candidate: unknown];
  close: [];
};

/** One published stream. Survives SFU reconnects (its SFU objects are re-created underneath). */
export interface SfuPublisher extends EventEmitter<SfuPublisherEvents> {
  readonly publisherId: string;
  readonly sid: string;
  readonly streamType: SfuStreamType;
  /** Effective bit/s. */
  readonly bitrate: number;
  /** `MediaType` bits of the last offer (updated on `update-sdp`). */
  mediaTypes: number;
  readonly closed: boolean;
  /** Client offer → SFU answer (first offer and renegotiations). */
  offer(jsep: SfuJsep): Promise<SfuJsep>;
  trickle(candidate: unknown): Promise<void>;
  close(): Promise<void>;
}

/** One subscription of one session to one published stream. Survives SFU reconnects. */
export interface SfuSubscriber extends EventEmitter<SfuSubscriberEvents> {
  readonly publisherId: string;
  readonly streamType: SfuStreamType;
  /** Current stream session id (changes after re-joins and reconnects). */
  readonly sid: string;
  readonly closed: boolean;
  /** Join (`sid` empty or not ours) or renegotiate (`sid` ours): the SFU's offer. */
  requestOffer(selection: SfuStreamSelection | undefined, sid: string | undefined): Promise<SfuJsep>;
  answer(jsep: SfuJsep): Promise<void>;
  trickle(candidate: unknown): Promise<void>;
  selectStream(selection: SfuStreamSelection): Promise<void>;
  close(): Promise<void>;
}

export type SfuEvents = {
  /** Usable (first connect and after every recovery). */
  connected: [];
  /** Lost; publishers and subscribers wait to be re-created. */
  disconnected: [];
};

/**
 * The selective forwarding unit the signaling server talks to (`[mcu] type`). Owned by the app;
 * the Janus implementation lives in `janus/`. Knows nothing about rooms, calls or permissions.
 */
export interface Sfu extends EventEmitter<SfuEvents> {
  /** True while usable. */
  readonly connected: boolean;
  /**
   * True when a subscriber can only reach publishers created through this very SFU object (Janus:
   * its own connection's publishers), so a publisher whose session lives on another signaling
   * node is never found. The proxy MCU asks the other nodes (`GetPublisherId`) instead.
   */
  readonly localPublishersOnly?: boolean;
  /** Starts connecting in the background (retrying until it works or {@link stop}). */
  start(): void;
  stop(): Promise<void>;
  /** Maximum bit/s of a stream type (`[mcu] maxstreambitrate` / `maxscreenbitrate`). */
  maxBitrate(streamType: SfuStreamType): number;
  newPublisher(request: SfuPublisherRequest): Promise<SfuPublisher>;
  /** Waits (up to the SFU timeout) for the publisher to exist. */
  newSubscriber(request: SfuSubscriberRequest): Promise<SfuSubscriber>;
  /** The `mcu` object of `/api/v1/stats`. */
  stats(): Record<string, unknown>;
  /** The `sfu` object of `/api/v1/serverinfo` (upstream `BackendServerInfoSfu`), when implemented. */
  serverInfo?(): Record<string, unknown>;
}

/** An SFU operation on something that is not (or no longer) there. */
export class SfuNotFoundError extends Error {
  override readonly name = 'SfuNotFoundError';
}
