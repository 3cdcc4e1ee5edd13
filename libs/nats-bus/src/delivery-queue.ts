import type { BusLimits } from './bus-limits';

export type Handler = (message: object) => void;

/** One subject's local handlers and its share of the queue. */
export class SubjectState {
  readonly handlers = new Set<Handler>();
  queuedMessages = 0;
  queuedBytes = 0;
  constructor(readonly subject: string) {}
}

export interface DeliveryQueueOptions {
  limits: Pick<BusLimits, 'maxSubjectMessages' | 'maxSubjectBytes' | 'maxTotalBytes' | 'maxBatch'>;
  /** Turns a queued raw payload (from another node) into a message; undefined drops it. */
  decode?: (raw: string, state: SubjectState) => object | undefined;
  /** A handler threw; the others still get the message. */
  onError: (err: unknown, subject: string) => void;
}

/** Local entries queued without measuring their size (see pushLocal). */
const UNMEASURED_ENTRIES = 64;
/** What an entry whose content is already queued is charged: its `AsyncMessage` envelope. */
const ENVELOPE_BYTES = 96;

/** The part of an `AsyncMessage` that is shared between publishes: the server message inside, else the whole. */
function sharedPart(message: object): object {
  const inner = (message as { message?: unknown }).message;
  return typeof inner === 'object' && inner !== null ? inner : message;
}

/** Entries are stored flat (state, item, bytes): no object allocated per message. */
const STRIDE = 3;
/** Drop the consumed head of the array once it is this long (and at least half of it). */
const COMPACT_AT = 3 * 1024;

/**
 * The messages waiting for local handlers, in arrival order (so each subject's messages are
 * handled in order), with a count and byte budget per subject and in total. Delivery starts in
 * a microtask, so a publisher never re-enters its own handlers; after `maxBatch` messages the
 * rest waits for the next event-loop turn, so a flood cannot starve sockets and timers — and
 * a flood that outpaces the handlers fills the budget and is dropped instead of growing memory.
 */
export class DeliveryQueue {
  readonly #limits: DeliveryQueueOptions['limits'];
  readonly #decode: DeliveryQueueOptions['decode'];
  readonly #onError: DeliveryQueueOptions['onError'];
  readonly #entries: (SubjectState | object | string | number)[] = [];
  #head = 0;
  #bytes = 0;
  /** Content of the last local message queued (see pushLocal). */
  #lastShared: object | undefined;
  #scheduled = false;
  readonly #drainTask = (): void => this.#drain();

  constructor(opts: DeliveryQueueOptions) {
    this.#limits = opts.limits;
    this.#decode = opts.decode;
    this.#onError = opts.onError;
  }

  /**
   * Queues a message published on this node, charged `size`: its serialised size when known
   * (NATS serialises anyway), else a function estimating it. The estimate walks the object, so
   * it is skipped while the queue is nearly empty — the usual state, as local messages are
   * delivered in the next microtask — and fewer than UNMEASURED_ENTRIES entries can hold only
   * that many messages this process built from bounded input. A server message published to
   * many subjects in a row (a room's member list to each of 200 joiners, an event to each
   * session of a user) is one object in memory: it is charged once, the other entries only for
   * their envelope (one comparison, no map lookup on the hot path).
   */
  pushLocal(state: SubjectState, message: object, size: number | ((limit: number) => number)): boolean {
    const inner = sharedPart(message);
    let bytes: number;
    if (inner === this.#lastShared) bytes = ENVELOPE_BYTES;
    else if (typeof size === 'number') bytes = size;
    else if (this.#entries.length - this.#head < UNMEASURED_ENTRIES * STRIDE) bytes = ENVELOPE_BYTES;
    else bytes = size(this.#limits.maxSubjectBytes);
    if (!this.#push(state, message, bytes)) return false;
    this.#lastShared = inner;
    return true;
  }

  /** Queues a payload received from another node (`decode` turns it into a message in its turn). */
  pushRaw(state: SubjectState, text: string, bytes: number): boolean {
    return this.#push(state, text, bytes);
  }

  #push(state: SubjectState, item: object | string, bytes: number): boolean {
    const limits = this.#limits;
    if (
      state.queuedMessages >= limits.maxSubjectMessages ||
      state.queuedBytes + bytes > limits.maxSubjectBytes ||
      this.#bytes + bytes > limits.maxTotalBytes
    ) {
      return false;
    }
    state.queuedMessages++;
    state.queuedBytes += bytes;
    this.#bytes += bytes;
    this.#entries.push(state, item, bytes);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#drainTask);
    }
    return true;
  }

  get queuedMessages(): number {
    return (this.#entries.length - this.#head) / STRIDE;
  }

  get queuedBytes(): number {
    return this.#bytes;
  }

  /** Delivers everything queued now, ignoring the batch limit (shutdown). */
  flush(): void {
    this.#drain(Infinity);
  }

  /** Forgets everything queued. */
  clear(): void {
    for (let i = this.#head; i < this.#entries.length; i += STRIDE) {
      const state = this.#entries[i] as SubjectState;
      state.queuedMessages = 0;
      state.queuedBytes = 0;
    }
    this.#entries.length = 0;
    this.#head = 0;
    this.#bytes = 0;
    this.#lastShared = undefined;
  }

  #drain(max = this.#limits.maxBatch): void {
    this.#scheduled = false;
    const entries = this.#entries;
    let done = 0;
    // Messages queued by handlers during the drain are appended and delivered in this loop.
    while (this.#head < entries.length && done < max) {
      const state = entries[this.#head] as SubjectState;
      const item = entries[this.#head + 1] as object | string;
      const bytes = entries[this.#head + 2] as number;
      entries[this.#head + 1] = 0; // release the message early
      this.#head += STRIDE;
      done++;
      state.queuedMessages--;
      state.queuedBytes -= bytes;
      this.#bytes -= bytes;
      if (state.handlers.size === 0) continue;
      const message = typeof item === 'string' ? this.#decode?.(item, state) : item;
      if (message === undefined) continue;
      for (const handler of state.handlers) {
        try {
          handler(message);
        } catch (err) {
          this.#onError(err, state.subject);
        }
      }
    }
    if (this.#head >= entries.length) {
      entries.length = 0;
      this.#head = 0;
      this.#lastShared = undefined; // charged entries are gone: the next one pays in full
    } else {
      if (this.#head >= COMPACT_AT && this.#head * 2 >= entries.length) {
        entries.splice(0, this.#head);
        this.#head = 0;
      }
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#drainTask);
      }
    }
  }
}
