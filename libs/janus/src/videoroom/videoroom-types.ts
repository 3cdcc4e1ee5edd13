import type { IceCandidate, Jsep, MediaEvent, SlowLinkEvent } from '../gateway/janus-types';

/** The VideoRoom plugin's package name. */
export const VIDEOROOM_PLUGIN = 'janus.plugin.videoroom';

/** Stream types that can be published (upstream: only `video` and `screen`). */
export type PublisherStreamType = 'video' | 'screen';

/**
 * Janus publisher ("feed") id per stream type. Each published stream has a room of its own, so
 * the feed id only needs to tell video from screen (upstream `videoPublisherUserId` /
 * `screenPublisherUserId`).
 */
export const FEED_IDS: Readonly<Record<PublisherStreamType, number>> = { video: 1, screen: 2 };

/** Stream selection for subscribers (simulcast substream / SVC temporal layer, media on/off). */
export interface StreamSelection {
  substream?: number;
  temporal?: number;
  audio?: boolean;
  video?: boolean;
}

/** Settings for a new publisher (upstream `NewPublisherSettings`). */
export interface PublisherSettings {
  /** Who publishes (upstream: the public session id); the room description is `<id>|<type>`. */
  publisherId: string;
  streamType: PublisherStreamType;
  /** Room `bitrate` in bit/s, already capped by the caller (upstream: min(requested, MCU max)). */
  bitrate: number;
  /** Room `audiocodec` (e.g. `opus`, or a list `opus,g722`); Janus default when unset. */
  audioCodec?: string;
  /** Room `videocodec` (e.g. `vp8,vp9,h264`); Janus default when unset. */
  videoCodec?: string;
  /** Room `vp9_profile` (e.g. `2`). */
  vp9Profile?: string;
  /** Room `h264_profile` (e.g. `42e01f`). */
  h264Profile?: string;
  /** Deadline per Janus request (ms); default the connection's. */
  timeoutMs?: number;
}

/** Event map of a {@link VideoRoomPublisher}. */
export type PublisherEvents = {
  /** Janus's PeerConnection for this publisher is up. */
  webrtcup: [];
  /** Janus started/stopped receiving audio or video (`type` is `screen` for screen video). */
  media: [MediaEvent];
  slowlink: [SlowLinkEvent];
  /** A local candidate of Janus's (full-trickle) for the client. */
  candidate: [IceCandidate];
  /** Janus has no more candidates. */
  candidatesCompleted: [];
  /** Closed; `reason` is undefined when closed by {@link VideoRoomPublisher.close}. */
  close: [reason?: Error];
};

/** Event map of a {@link VideoRoomSubscriber}. */
export type SubscriberEvents = {
  /** Janus renegotiates on its own (`configured: ok` with an offer); answer with `start`. */
  offer: [Jsep];
  webrtcup: [];
  media: [MediaEvent];
  slowlink: [SlowLinkEvent];
  candidate: [IceCandidate];
  candidatesCompleted: [];
  /** The handle was replaced (after error 425); `sid` is the new handle id. */
  sid: [sid: string];
  /** A join hit 426/428 and waits for the publisher (upstream counts `signaling_mcu_nopublisher_total`). */
  waiting: [code: number];
  close: [reason?: Error];
};

export type { IceCandidate, Jsep, MediaEvent, SlowLinkEvent };
