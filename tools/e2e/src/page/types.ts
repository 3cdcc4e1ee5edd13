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
  log: string[];
  startedAt: number;
  doneAt?: number;
}
