/**
 * Wire shapes of the Janus WebSocket API (https://janus.conf.meetecho.com/docs/rest.html), as far
 * as this client reads them. Everything Janus sends is a JSON object with a `janus` verb; replies
 * carry the request's `transaction`, events for a handle carry `session_id` + `sender`.
 */

/** Any message from Janus, before routing. */
export interface JanusMessage {
  janus: string;
  transaction?: string;
  session_id?: number;
  sender?: number;
  [key: string]: unknown;
}

/** WebRTC session description as Janus takes and returns it. */
export interface Jsep {
  type: 'offer' | 'answer';
  sdp: string;
  /** Janus 1.x: set on offers that follow an ICE restart. */
  restart?: boolean;
  /** Janus e2ee flag (passed through). */
  e2ee?: boolean;
  [key: string]: unknown;
}

/** An ICE candidate as browsers produce it (and Janus trickles it back). */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** A trickled candidate from Janus: either a candidate or the end marker. */
export type TrickleCandidate = IceCandidate | { completed: true };

/** `server_info` (answer to `info`). Only the fields upstream reads are typed. */
export interface ServerInfo {
  name: string;
  /** Numeric version, e.g. 1102 for 1.1.2; ≥ 1000 means the multistream API. */
  version: number;
  version_string: string;
  author: string;
  data_channels: boolean;
  'full-trickle': boolean;
  ipv6?: boolean;
  'local-ip'?: string;
  'ice-tcp'?: boolean;
  plugins: Record<string, PluginInfo>;
  transports?: Record<string, PluginInfo>;
  [key: string]: unknown;
}

/** One entry of `server_info.plugins` / `.transports`. */
export interface PluginInfo {
  name: string;
  author: string;
  description: string;
  version_string: string;
  version: number;
}

/** The plugin part of a reply or event (`plugindata`). */
export interface PluginData {
  plugin: string;
  data: Record<string, unknown>;
}

/** Result of a plugin message: the plugin's data plus an optional JSEP. */
export interface PluginResult {
  data: Record<string, unknown>;
  jsep?: Jsep;
}

/** `media` event: Janus started/stopped receiving a medium on a PeerConnection. */
export interface MediaEvent {
  /** `audio` or `video`. */
  type: string;
  receiving: boolean;
  /** Janus 1.x: the m-line's mid. */
  mid?: string;
  /** Seconds without media when `receiving` is false. */
  seconds?: number;
}

/** `slowlink` event: many NACKs in the last second. */
export interface SlowLinkEvent {
  /** true: Janus → peer direction (what Janus sends); false: peer → Janus. */
  uplink: boolean;
  /** Lost packets in the last second (Janus 1.x `lost`). */
  lost?: number;
  mid?: string;
  media?: string;
}

/** Event map of a {@link JanusHandle}. */
export type JanusHandleEvents = {
  /** A plugin event not tied to a request of ours (e.g. videoroom `destroyed`, renegotiation). */
  event: [PluginResult];
  /** ICE and DTLS are up for this handle's PeerConnection. */
  webrtcup: [];
  media: [MediaEvent];
  /** The PeerConnection went away (`reason` as Janus says it: "DTLS alert", "Close PC", …). */
  hangup: [reason: string];
  slowlink: [SlowLinkEvent];
  /** A candidate of Janus's side (full-trickle). */
  trickle: [TrickleCandidate];
  /** The handle is gone: detached by us, by Janus, or its session/connection closed. */
  close: [reason?: Error];
};

/** Event map of a {@link JanusSession}. */
export type JanusSessionEvents = {
  /** Janus expired the session (`timeout` message): no keepalive for `session_timeout`. */
  timeout: [];
  /** The session is gone; `reason` is undefined when destroyed by us. */
  close: [reason?: Error];
};

/** Event map of a {@link JanusConnection}. */
export type JanusConnectionEvents = {
  /** The first successful connect. */
  connected: [];
  /** The WebSocket was lost; all sessions and pending requests have failed. */
  disconnect: [reason: Error];
  /** A reconnect attempt is scheduled after `delayMs`. */
  reconnecting: [info: { attempt: number; delayMs: number; error?: Error }];
  /** Connected again after a loss; the owner re-creates sessions and handles. */
  reconnect: [];
  /** Closed for good (by `close()`); no more events follow. */
  close: [];
};
