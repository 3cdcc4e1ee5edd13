export interface BackoffOptions {
  /** First delay in ms. */
  initial: number;
  /** Upper bound for the delay in ms. */
  max: number;
  /** Factor applied after each failure; default 2 (upstream doubles). */
  multiplier?: number;
  /** Random spread as a fraction of the delay (0..1); default 0. Spreads reconnect storms. */
  jitter?: number;
}

/**
 * Exponential backoff state: `next()` returns the delay to wait before the next attempt and
 * advances; `reset()` after a success. Upstream uses 1 s doubling to 32 s for Janus and proxies.
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #multiplier: number;
  readonly #jitter: number;
  #current: number;

  constructor(options: BackoffOptions) {
    this.#initial = options.initial;
    this.#max = options.max;
    this.#multiplier = options.multiplier ?? 2;
    this.#jitter = options.jitter ?? 0;
    this.#current = options.initial;
  }

  /** The delay for this attempt (ms); the following call returns a longer one, up to `max`. */
  next(): number {
    const base = this.#current;
    this.#current = Math.min(this.#max, this.#current * this.#multiplier);
    if (this.#jitter === 0) return base;
    const spread = base * this.#jitter;
    return Math.max(0, Math.round(base - spread + Math.random() * 2 * spread));
  }

  reset(): void {
    this.#current = this.#initial;
  }
}
