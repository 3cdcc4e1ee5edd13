import type { JanusMessage } from './janus-types';
import { JanusError, JanusTimeoutError, toJanusError } from './errors';

/** Options for one transaction. */
export interface TransactionOptions {
  /** The Janus verb (or plugin request) for error messages. */
  request: string;
  /** Fail with {@link JanusTimeoutError} after this many ms. */
  timeoutMs: number;
  /**
   * Whether an `ack` ends the transaction. Janus acks asynchronous plugin messages first and
   * answers with an `event` later (same transaction); `keepalive` and `trickle` end with the ack.
   */
  ackIsFinal: boolean;
  /** Who started it (a session or handle); {@link TransactionTable.rejectOwner} fails only these. */
  owner?: object;
}

interface Pending {
  readonly options: TransactionOptions;
  readonly resolve: (msg: JanusMessage) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Requests waiting for their answer, keyed by the `transaction` string sent to Janus. Each has a
 * timeout; a Janus `error` reply rejects with {@link JanusError}, anything else final resolves
 * with the raw message.
 */
export class TransactionTable {
  readonly #pending = new Map<string, Pending>();
  #next = 0;

  /** Number of transactions waiting for an answer. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Registers a new transaction; returns its id (a decimal counter, as upstream sends) and a
   * promise for the final answer.
   */
  create(options: TransactionOptions): { id: string; result: Promise<JanusMessage> } {
    const id = String(++this.#next);
    const result = new Promise<JanusMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new JanusTimeoutError(options.request, options.timeoutMs));
      }, options.timeoutMs);
      this.#pending.set(id, { options, resolve, reject, timer });
    });
    return { id, result };
  }

  /**
   * Delivers a message carrying a `transaction`. Returns false when no such transaction waits
   * (late answers after a timeout, or events for transactions of another client).
   */
  deliver(msg: JanusMessage): boolean {
    const id = msg.transaction;
    if (id === undefined) return false;
    const pending = this.#pending.get(id);
    if (pending === undefined) return false;
    if (msg.janus === 'ack' && !pending.options.ackIsFinal) return true;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (msg.janus === 'error') {
      pending.reject(
        toJanusError(msg['error'], pending.options.request) ??
          new JanusError(JanusErrorUnknown, 'malformed error reply', pending.options.request),
      );
    } else {
      pending.resolve(msg);
    }
    return true;
  }

  /** Fails one transaction (e.g. its send failed). */
  reject(id: string, err: Error): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.reject(err);
  }

  /** Fails every transaction started by `owner` (its session or handle closed). */
  rejectOwner(owner: object, err: Error): void {
    for (const [id, pending] of this.#pending) {
      if (pending.options.owner === owner) this.reject(id, err);
    }
  }

  /** Fails every pending transaction (connection lost or closed). */
  rejectAll(err: Error): void {
    for (const id of [...this.#pending.keys()]) this.reject(id, err);
  }
}

/** `JANUS_ERROR_UNKNOWN`, for error replies without a usable body. */
const JanusErrorUnknown = 490;
