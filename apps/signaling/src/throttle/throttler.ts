import { isIP } from 'node:net';
import { Counter, type Registry } from 'prom-client';

export type ThrottleAction = 'HelloResume' | 'HelloInternal' | 'BackendRoomAuth';

const MAX_ATTEMPTS = 10;
const BLOCK_WINDOW_MS = 30 * 60_000; // 10 failures within 30 minutes block the address
const FORGET_AFTER_MS = 12 * 60 * 60_000; // failures are remembered for 12 hours
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 25_000;

export interface ThrottleCheck {
  /** True when the address is blocked for this action: answer `too_many_requests` / 429. */
  readonly blocked: boolean;
  /** Records a failure and resolves after the delay the failing response must wait. */
  failed(): Promise<void>;
}

/**
 * Brute-force protection for failed authentication (upstream section 7.5): per client address
 * (IPv6 per /64) and action, each failure delays its answer by 100 ms doubling up to 25 s, and
 * ten failures within 30 minutes block further attempts.
 */
export class Throttler {
  readonly #failures = new Map<string, number[]>();
  readonly #delayed: Counter<'action' | 'delay'>;
  readonly #bruteforce: Counter<'action'>;
  readonly #sweep: NodeJS.Timeout;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(registry: Registry, opts: { sleep?: (ms: number) => Promise<void> } = {}) {
    this.#delayed = new Counter({
      name: 'signaling_throttle_delayed_total',
      help: 'The total number of delayed requests',
      labelNames: ['action', 'delay'] as const,
      registers: [registry],
    });
    this.#bruteforce = new Counter({
      name: 'signaling_throttle_bruteforce_total',
      help: 'The total number of rejected bruteforce requests',
      labelNames: ['action'] as const,
      registers: [registry],
    });
    this.#sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#sweep = setInterval(() => this.#purge(Date.now()), 60_000);
    this.#sweep.unref();
  }

  check(ip: string, action: ThrottleAction): ThrottleCheck {
    const key = `${action}|${addressKey(ip)}`;
    const now = Date.now();
    const list = this.#failures.get(key);
    let blocked = false;
    if (list && list.length >= MAX_ATTEMPTS && now - list[list.length - MAX_ATTEMPTS]! <= BLOCK_WINDOW_MS) {
      blocked = true;
      this.#bruteforce.inc({ action });
    }
    return {
      blocked,
      failed: () => {
        const entries = this.#failures.get(key) ?? [];
        entries.push(Date.now());
        this.#failures.set(key, entries);
        const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(entries.length - 1, 20));
        this.#delayed.inc({ action, delay: String(delay) });
        return this.#sleep(delay);
      },
    };
  }

  close(): void {
    clearInterval(this.#sweep);
  }

  #purge(now: number): void {
    for (const [key, list] of this.#failures) {
      const kept = list.filter((t) => now - t < FORGET_AFTER_MS);
      if (kept.length === 0) this.#failures.delete(key);
      else if (kept.length !== list.length) this.#failures.set(key, kept);
    }
  }
}

/** IPv6 clients are throttled per /64 (upstream 1.3.1): one host usually owns the whole prefix. */
function addressKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [head] = ip.split('::');
  const groups = ip.includes('::') ? (head ? head.split(':') : []) : ip.split(':');
  return `${[...groups, '0', '0', '0', '0'].slice(0, 4).join(':')}::/64`;
}
