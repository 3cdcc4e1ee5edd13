import type { Bus, BusInfo, BusSubscription } from './bus';
import { busLimits, type BusLimits } from './bus-limits';
import { DeliveryQueue, SubjectState, type Handler } from './delivery-queue';
import { estimateJsonSize } from './json-size';
import type { BusMetrics } from './metrics';
import { addSubjectHandler } from './subject-handlers';

export const LOOPBACK_URL = 'nats://loopback';

const NOTHING = Object.freeze({});

export interface LoopbackBusOptions {
  /** A handler threw (the other handlers still get the message). */
  onError?: (err: unknown, subject: string) => void;
  limits?: Partial<BusLimits>;
  metrics?: BusMetrics;
}

/**
 * The in-process bus (`[nats] url = nats://loopback`): a single node, and the same code paths
 * as with NATS. Delivery is asynchronous (a microtask after `publish`), in publish order, so
 * callers see the same ordering and re-entrancy rules as with a real NATS connection, and the
 * queue has the same budget (bytes estimated from the object, since nothing is serialised).
 */
export class LoopbackBus implements Bus {
  readonly kind = 'loopback';
  readonly #subjects = new Map<string, SubjectState>();
  readonly #queue: DeliveryQueue;
  readonly #metrics: BusMetrics | undefined;
  readonly #sizeOf = (limit: number): number => estimateJsonSize(this.#sizing, limit);
  /** The message being queued, for #sizeOf (saves a closure per publish). */
  #sizing: object = NOTHING;
  #closed = false;

  constructor(opts: LoopbackBusOptions = {}) {
    this.#metrics = opts.metrics;
    this.#queue = new DeliveryQueue({ limits: busLimits(opts.limits), onError: opts.onError ?? (() => undefined) });
    this.#metrics?.connected.set(1);
    this.#metrics?.setSource({
      subjects: () => this.#subjects.size,
      queuedMessages: () => this.#queue.queuedMessages,
      queuedBytes: () => this.#queue.queuedBytes,
    });
  }

  async start(): Promise<void> {}

  async flush(): Promise<void> {}

  publish(subject: string, message: object): void {
    if (this.#closed) return;
    const state = this.#subjects.get(subject);
    if (!state) return;
    this.#sizing = message;
    const queued = this.#queue.pushLocal(state, message, this.#sizeOf);
    this.#sizing = NOTHING;
    if (!queued) this.#metrics?.dropped.inc({ reason: 'queue_full' });
  }

  subscribe(subject: string, handler: Handler): BusSubscription {
    return addSubjectHandler(this.#subjects, subject, handler, (name) => new SubjectState(name));
  }

  info(): BusInfo {
    return { urls: [LOOPBACK_URL], connected: true, serverurl: LOOPBACK_URL };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#queue.flush();
    this.#closed = true;
    this.#subjects.clear();
    this.#queue.clear();
    this.#metrics?.connected.set(0);
  }

  /** Number of subjects with at least one subscriber (tests, metrics). */
  get subjectCount(): number {
    return this.#subjects.size;
  }
}
