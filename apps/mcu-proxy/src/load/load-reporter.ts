import type { ProxyClients } from '../server/proxy-clients';

/** `[bandwidth]` values are MBit/s; upstream multiplies by 1024 × 1024. */
const MBIT = 1024 * 1024;

export interface LoadReporterOptions {
  clients: ProxyClients;
  maxIncomingMbit: number;
  maxOutgoingMbit: number;
  intervalMs: number;
  /** Receives an `update-load` event body whenever the figures changed. */
  broadcast: (event: Record<string, unknown>) => void;
}

/**
 * Load reporting (fact sheet 5.8): every interval (and right after clients come or go), load = Σ max bitrate of all publishers and
 * subscribers / 1024; incoming = Σ publisher bitrates, outgoing = Σ subscriber bitrates, as
 * percentages of `[bandwidth]` when set. Broadcast only when something changed.
 */
export class LoadReporter {
  readonly #options: LoadReporterOptions;
  #maxIncoming: number;
  #maxOutgoing: number;
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Immediate | undefined;
  #load = 0;
  #incoming = 0;
  #outgoing = 0;

  constructor(options: LoadReporterOptions) {
    this.#options = options;
    this.#maxIncoming = options.maxIncomingMbit * MBIT;
    this.#maxOutgoing = options.maxOutgoingMbit * MBIT;
  }

  get current(): number {
    return this.#load;
  }

  start(): void {
    this.#timer = setInterval(() => this.update(), this.#options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    if (this.#soon) clearImmediate(this.#soon);
  }

  /**
   * Recompute right after the current burst of changes (publishers created or closed), so the
   * signaling servers place the next publisher with fresh figures; the periodic tick stays.
   */
  updateSoon(): void {
    this.#soon ??= setImmediate(() => {
      this.#soon = undefined;
      this.update();
    });
  }

  setLimits(incomingMbit: number, outgoingMbit: number): void {
    const incoming = incomingMbit * MBIT;
    const outgoing = outgoingMbit * MBIT;
    if (incoming === this.#maxIncoming && outgoing === this.#maxOutgoing) return;
    this.#maxIncoming = incoming;
    this.#maxOutgoing = outgoing;
    this.#options.broadcast(this.event());
  }

  /** Recomputes; broadcasts when load or bandwidth changed. */
  update(): void {
    const { incoming, outgoing } = this.#options.clients.bandwidth();
    const load = Math.floor((incoming + outgoing) / 1024);
    if (load === this.#load && incoming === this.#incoming && outgoing === this.#outgoing) return;
    this.#load = load;
    this.#incoming = incoming;
    this.#outgoing = outgoing;
    this.#options.broadcast(this.event());
  }

  /** The current `update-load` event body. */
  event(): Record<string, unknown> {
    const event: Record<string, unknown> = { type: 'update-load', load: this.#load };
    if (this.#maxIncoming > 0 || this.#maxOutgoing > 0 || this.#incoming !== 0 || this.#outgoing !== 0) {
      const bandwidth: Record<string, number> = {};
      if (this.#maxIncoming > 0) bandwidth['incoming'] = (this.#incoming / this.#maxIncoming) * 100;
      if (this.#maxOutgoing > 0) bandwidth['outgoing'] = (this.#outgoing / this.#maxOutgoing) * 100;
      if (this.#incoming !== 0) bandwidth['received'] = this.#incoming;
      if (this.#outgoing !== 0) bandwidth['sent'] = this.#outgoing;
      event['bandwidth'] = bandwidth;
    }
    return event;
  }
}
