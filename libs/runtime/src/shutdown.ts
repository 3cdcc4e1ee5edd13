import type { Logger } from './logger';

type Closer = { name: string; close: () => Promise<void> | void };

/**
 * LIFO list of closers, registered as the composition root builds objects (the Go `defer`
 * chain). `run()` closes them in reverse order, each bounded by the overall deadline, and
 * never throws: a failing closer is logged and the next one still runs.
 */
export class ShutdownRegistry {
  readonly #closers: Closer[] = [];
  readonly #log: Logger;
  #running: Promise<void> | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  add(name: string, close: () => Promise<void> | void): void {
    this.#closers.push({ name, close });
  }

  /** Runs every closer once (later calls return the same promise). */
  run(deadlineMs: number): Promise<void> {
    this.#running ??= this.#runAll(deadlineMs);
    return this.#running;
  }

  async #runAll(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (this.#closers.length > 0) {
      const closer = this.#closers.pop()!;
      const left = deadline - Date.now();
      if (left <= 0) {
        this.#log.warn({ closer: closer.name }, 'shutdown deadline passed, skipping closer');
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(closer.close),
          new Promise<void>((_, reject) => {
            timer = setTimeout(() => reject(new Error('timeout')), left);
          }),
        ]);
        this.#log.debug({ closer: closer.name }, 'closed');
      } catch (err) {
        this.#log.error({ closer: closer.name, err }, 'closer failed');
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
