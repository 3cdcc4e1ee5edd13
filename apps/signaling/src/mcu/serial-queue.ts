/**
 * Runs tasks one after the other, in submission order (upstream's per-client `deferred`
 * channel): a candidate sent right after an offer reaches the SFU after the offer.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
