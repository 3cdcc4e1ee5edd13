/** What the subscriber's `getStats()` showed (summed over inbound-rtp entries per kind). */
export interface InboundStats {
  videoFramesDecoded: number;
  videoPacketsReceived: number;
  audioPacketsReceived: number;
  /** Local and remote address:port of the selected ICE candidate pair (if reported). */
  localCandidate?: string;
  remoteCandidate?: string;
  /** ms from the first poll until both thresholds were met. */
  pollMs: number;
}

/** Stream types the MCU publishes and subscribes (fact sheet 1.9). */
export type StreamType = 'video' | 'screen';

/** One message the page received from the signaling server (for the outage check). */
export interface ReceivedMessage {
  /** `Date.now()` on arrival. */
  at: number;
  /** `type` of the server message (`message`, `event`, `error`, …). */
  type: string;
  /** `message.data.type` / `event.type` / `error.code`, when there is one. */
  detail?: string;
}

/** `window.e2e`: the page's progress, read by the runner through Playwright. */
export interface E2eState {
  role: 'publisher' | 'subscriber';
  phase: 'starting' | 'joined' | 'publishing' | 'receiving' | 'done' | 'failed';
  sessionId?: string;
  connected?: boolean;
  stats?: InboundStats;
  error?: string;
  /** `error` messages the signaling server sent outside of a request/reply (code: message). */
  serverErrors?: string[];
  /** Every server message after the room join (signaling mode), in order. */
  received?: ReceivedMessage[];
  log: string[];
  startedAt: number;
  doneAt?: number;
}

/**
 * `window.e2eApi` (signaling mode): the steps after the first media, called by the runner with
 * `page.evaluate`. Each call resolves once its signaling round trip is done (or rejects).
 */
export interface E2eApi {
  /** Publisher: publishes an animated canvas as `roomType: "screen"` (new PeerConnection, own sid). */
  publishScreen(): Promise<void>;
  /**
   * Publisher: a new offer for an already published stream on the same PeerConnection and with
   * the same sid (`update-sdp`); `iceRestart` as after an ICE failure. Resolves once the MCU's
   * answer is applied.
   */
  reoffer(streamType: StreamType, iceRestart: boolean): Promise<void>;
  /** Subscriber: `requestoffer` for the publisher's stream (the video one is requested on load). */
  subscribe(streamType: StreamType): Promise<void>;
  /**
   * Subscriber: `requestoffer` with the subscription's current `sid` (renegotiation; after a
   * Janus restart the server no longer knows that sid and joins afresh). Resolves once the new
   * offer is answered; returns the sid the offer carried.
   */
  requestOfferAgain(streamType: StreamType): Promise<string>;
  /** Subscriber: `selectStream` with `payload` (`{video:false}` …). */
  selectStream(streamType: StreamType, payload: Record<string, unknown>): void;
  /** Subscriber: the current inbound counters of a subscription. */
  stats(streamType: StreamType): Promise<InboundStats>;
  /** Subscriber: offers received / answers sent per stream type, and the current sid. */
  offers(streamType: StreamType): { offers: number; answers: number; sid: string };
}
