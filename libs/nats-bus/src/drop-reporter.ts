import type { Logger } from '@talk-signaling/runtime';
import type { BusMetrics, DropReason } from './metrics';

/** At most one log line per reason in this window (ms); the rest are counted into the next line. */
const LOG_WINDOW_MS = 10_000;

/**
 * Counts every dropped message in the metrics and logs it — at most once per reason and 10 s,
 * with the number of drops not logged since, so a hostile flood cannot flood the log too.
 */
export class DropReporter {
  readonly #log: Logger;
  readonly #metrics: BusMetrics | undefined;
  readonly #lastLogged = new Map<DropReason, { at: number; suppressed: number }>();

  constructor(log: Logger, metrics: BusMetrics | undefined) {
    this.#log = log;
    this.#metrics = metrics;
  }

  drop(reason: DropReason, subject: string, detail?: string): void {
    this.#metrics?.dropped.inc({ reason });
    const now = Date.now();
    const last = this.#lastLogged.get(reason);
    if (last && now - last.at < LOG_WINDOW_MS) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.#lastLogged.set(reason, { at: now, suppressed: 0 });
    this.#log.warn({ subject, reason, detail, suppressed }, 'bus message dropped');
  }
}
