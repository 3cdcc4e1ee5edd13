/** Bounds of a {@link SerialQueue} that holds client data (tasks waiting, and their bytes). */
export interface SerialQueueBudget {
  maxTasks: number;
  maxBytes: number;
}

/**
 * Runs tasks one after the other, in submission order (upstream's per-client `deferred`
 * channel): a candidate sent right after an offer reaches the SFU after the offer.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  readonly #budget: SerialQueueBudget | undefined;
  /** Tasks submitted with {@link tryRun} and not finished yet, and their bytes. */
  #tasks = 0;
  #bytes = 0;

  constructor(budget?: SerialQueueBudget) {
    this.#budget = budget;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /**
   * {@link run} for a task holding `bytes` of client data; undefined (and the task is not run)
   * when the waiting tasks are already at the budget.
   */
  tryRun<T>(task: () => Promise<T>, bytes: number): Promise<T> | undefined {
    const budget = this.#budget;
    if (budget !== undefined && (this.#tasks >= budget.maxTasks || this.#bytes + bytes > budget.maxBytes)) return undefined;
    this.#tasks++;
    this.#bytes += bytes;
    const done = (): void => {
      this.#tasks--;
      this.#bytes -= bytes;
    };
    return this.run(async () => {
      try {
        return await task();
      } finally {
        done();
      }
    });
  }
}
