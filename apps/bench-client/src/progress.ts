// Progress display for the set-up phases (connecting, joining, filling rooms): one rewritten
// line on a terminal, otherwise a line per second. Written to stderr so stdout stays parseable.

/** Where progress text goes; replaced in tests. */
export interface ProgressOutput {
  isTTY: boolean;
  write(text: string): void;
}

const TTY_INTERVAL_MS = 200;
const LOG_INTERVAL_MS = 1_000;

export class Progress {
  readonly #label: string;
  readonly #total: number;
  readonly #out: ProgressOutput | undefined;
  readonly #started = Date.now();
  #lastDraw = 0;

  /** `out` undefined: quiet. */
  constructor(label: string, total: number, out: ProgressOutput | undefined) {
    this.#label = label;
    this.#total = total;
    this.#out = out;
  }

  /** Shows the current count (throttled). */
  update(done: number, failed = 0): void {
    if (this.#out === undefined) return;
    const now = Date.now();
    if (now - this.#lastDraw < (this.#out.isTTY ? TTY_INTERVAL_MS : LOG_INTERVAL_MS)) return;
    this.#lastDraw = now;
    this.#draw(done, failed, false);
  }

  /** Shows the final count and ends the line. */
  finish(done: number, failed = 0): void {
    if (this.#out === undefined) return;
    this.#draw(done, failed, true);
  }

  #draw(done: number, failed: number, final: boolean): void {
    const out = this.#out as ProgressOutput;
    const secs = (Date.now() - this.#started) / 1_000;
    const rate = secs > 0 ? Math.round(done / secs) : 0;
    const width = 30;
    const filled = this.#total > 0 ? Math.min(width, Math.round((done / this.#total) * width)) : width;
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const text = `${this.#label} ${bar} ${done}/${this.#total}${failed > 0 ? ` (${failed} failed)` : ''} ${rate}/s ${secs.toFixed(1)}s`;
    if (out.isTTY) out.write(`\r${text}\x1b[K${final ? '\n' : ''}`);
    else out.write(`${text}\n`);
  }
}
