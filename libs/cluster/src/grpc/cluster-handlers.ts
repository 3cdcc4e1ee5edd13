import type { ProxySessionStream } from './proxy-session-stream';

/** An internal client's session in a room (`GetInternalSessions`). */
export interface InternalSessionInfo {
  sessionId: string;
  /** In-call flags. */
  inCall: number;
  features: string[];
}

/** A virtual session (e.g. a SIP participant) in a room. */
export interface VirtualSessionInfo {
  sessionId: string;
  inCall: number;
}

/** One transient data entry of a room. */
export interface TransientEntry {
  /** Any JSON value. */
  value: unknown;
  /** Expiry as ms since the Unix epoch; `undefined` = never (travels as µs, 0 = never). */
  expires?: number;
}

/** A publisher found by `GetPublisherId` (proxy MCU set-ups). */
export interface PublisherInfo {
  publisherId: string;
  proxyUrl: string;
  ip: string;
  connectToken: string;
  publisherToken: string;
}

type Answer<T> = T | Promise<T>;

/**
 * What a node answers to its peers: the app implements this over its hub and passes it to
 * {@link ClusterServer}. `undefined` means "not here" (sent as NOT_FOUND, which peers read as
 * "no result"); throwing a `ClusterError` sends its code (e.g. `invalid_argument`), anything
 * else is logged and sent as INTERNAL. Handlers must not trust their arguments: they are what
 * another node sent.
 */
export interface ClusterHandlers {
  /** Private (resume) session id → public id of a session on this node. */
  lookupResumeId(resumeId: string): Answer<string | undefined>;
  /**
   * Nextcloud room session id → public id of a session on this node; when `disconnectReason`
   * is not empty, that session is sent a bye with this reason and closed.
   */
  lookupSessionId(roomSessionId: string, disconnectReason: string): Answer<string | undefined>;
  /** Whether the session is in that room (id and backend URL) and in its call; `undefined` if unknown here. */
  isSessionInCall(sessionId: string, roomId: string, backendUrl: string): Answer<boolean | undefined>;
  /**
   * Internal and virtual sessions of a room on this node. `backendUrls` are the room's backend
   * URLs; `['']` means the compat backend (a peer that sent neither list nor URL).
   */
  getInternalSessions(roomId: string, backendUrls: string[]): Answer<{ internal: InternalSessionInfo[]; virtual: VirtualSessionInfo[] } | undefined>;
  /** Client sessions of the backend of `url` on this node; `undefined` if no such backend. */
  getSessionCount(url: string): Answer<number | undefined>;
  /** A room's transient data on this node (`backendUrls` as above); `undefined`/empty = none. */
  getTransientData(roomId: string, backendUrls: string[]): Answer<Record<string, TransientEntry> | undefined>;
  /**
   * Waits until the session has a publisher of that stream type, or `signal` aborts (the
   * caller's deadline); `undefined` if there is none to wait for.
   */
  getPublisherId(sessionId: string, streamType: string, signal: AbortSignal): Promise<PublisherInfo | undefined>;
  /** A client connection relayed from another node (resume there of a session living here). */
  proxySession(stream: ProxySessionStream): void;
}
