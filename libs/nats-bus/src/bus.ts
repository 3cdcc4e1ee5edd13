/** A live subscription; `unsubscribe()` is idempotent. */
export interface BusSubscription {
  unsubscribe(): void;
}

/** What `GET /api/v1/serverinfo` reports under `nats` (upstream's `BackendServerInfoNats`). */
export interface BusInfo {
  /** Configured URLs, credentials masked. */
  urls: string[];
  connected: boolean;
  serverurl?: string;
  serverid?: string;
  version?: string;
  clustername?: string;
}

/**
 * The cluster message bus on upstream's subjects (`session.<id>`, `user.<enc>`, `room.<enc>`,
 * `backend.room.<enc>`). Messages are plain JSON-compatible objects (upstream's `AsyncMessage`).
 * Subscribers on the publishing node get the published object itself, without a copy; other
 * nodes get a parsed copy. Treat received messages as read-only either way.
 */
export interface Bus {
  /** `loopback` (in-process, one node) or `nats`. */
  readonly kind: 'loopback' | 'nats';
  /** Resolves once the bus can reach other nodes (NATS: first connection made, retried 1 s → 8 s). */
  start(): Promise<void>;
  /** Delivers `message` to every subscriber of `subject`, on every node. Never throws. */
  publish(subject: string, message: object): void;
  /** Handlers of one subject are called in publish order, never re-entrantly from `publish`. */
  subscribe(subject: string, handler: (message: object) => void): BusSubscription;
  /**
   * Resolves once what was published and subscribed so far is in effect at the NATS server (one
   * round trip; loopback: at once). For tests that hand a session id to another node at once.
   */
  flush(): Promise<void>;
  /** Connection state for `/api/v1/serverinfo`. */
  info(): BusInfo;
  /** Flushes what was published (NATS: drains the connection) and stops delivering. */
  close(): Promise<void>;
}
