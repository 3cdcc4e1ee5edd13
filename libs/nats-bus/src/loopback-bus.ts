import type { Bus, BusSubscription } from './bus';

type Handler = (message: object) => void;

/**
 * The in-process bus (`[nats] url = nats://loopback`): a single node, and the same code paths
 * as with NATS. Delivery is asynchronous (a microtask after `publish`), in publish order, so
 * callers see the same ordering and re-entrancy rules as with a real NATS connection.
 */
export class LoopbackBus implements Bus {
  readonly #subjects = new Map<string, Set<Handler>>();
  /** Pending deliveries as flat (subject, message) pairs: no object allocated per publish. */
  readonly #queue: (string | object)[] = [];
  #scheduled = false;
  readonly #drainTask = (): void => this.#drain();
  #closed = false;
  #onError: (err: unknown, subject: string) => void;

  constructor(opts: { onError?: (err: unknown, subject: string) => void } = {}) {
    this.#onError = opts.onError ?? (() => undefined);
  }

  publish(subject: string, message: object): void {
    if (this.#closed || !this.#subjects.has(subject)) return;
    this.#queue.push(subject, message);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#drainTask);
    }
  }

  subscribe(subject: string, handler: Handler): BusSubscription {
    let handlers = this.#subjects.get(subject);
    if (!handlers) {
      handlers = new Set();
      this.#subjects.set(subject, handlers);
    }
    // A wrapper per subscription, so subscribing the same function twice yields two deliveries.
    const entry: Handler = (m) => handler(m);
    handlers.add(entry);
    let active = true;
    return {
      unsubscribe: () => {
        if (!active) return;
        active = false;
        const set = this.#subjects.get(subject);
        if (!set) return;
        set.delete(entry);
        if (set.size === 0) this.#subjects.delete(subject);
      },
    };
  }

  async close(): Promise<void> {
    this.#drain();
    this.#closed = true;
    this.#subjects.clear();
  }

  /** Number of subjects with at least one subscriber (tests, metrics). */
  get subjectCount(): number {
    return this.#subjects.size;
  }

  #drain(): void {
    this.#scheduled = false;
    // Messages published by handlers during the drain are appended and delivered in this loop.
    for (let i = 0; i < this.#queue.length; i += 2) {
      const subject = this.#queue[i] as string;
      const message = this.#queue[i + 1] as object;
      const handlers = this.#subjects.get(subject);
      if (!handlers) continue;
      for (const handler of handlers) {
        try {
          handler(message);
        } catch (err) {
          this.#onError(err, subject);
        }
      }
    }
    this.#queue.length = 0;
  }
}
