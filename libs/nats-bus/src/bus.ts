/** A live subscription; `unsubscribe()` is idempotent. */
export interface BusSubscription {
  unsubscribe(): void;
}

/**
 * The cluster message bus on upstream's subjects (`session.<id>`, `user.<enc>`, `room.<enc>`,
 * `backend.room.<enc>`). Messages are plain JSON-compatible objects (upstream's `AsyncMessage`);
 * the NATS implementation encodes them as JSON, the loopback one hands the same object to every
 * subscriber of this process without copying, so treat received messages as read-only.
 */
export interface Bus {
  /** Delivers `message` to every subscriber of `subject`, on every node. Never throws. */
  publish(subject: string, message: object): void;
  /** Handlers of one subject are called in publish order, never re-entrantly from `publish`. */
  subscribe(subject: string, handler: (message: object) => void): BusSubscription;
  /** Flushes what was published and stops delivering. */
  close(): Promise<void>;
}
