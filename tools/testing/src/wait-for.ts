import type { EventEmitter } from 'node:events';

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms. */
  timeout: number;
  /** What is awaited; named in the timeout error. */
  name: string;
  /** Poll interval in ms; default 20. */
  interval?: number;
}

const DEFAULT_INTERVAL_MS = 20;

/**
 * Polls `check` until it returns a truthy value and resolves with it (nats.js `nst` `check`).
 * A `check` that throws counts as "not yet"; the last error is attached to the timeout error, so
 * a failing `expect()` inside `check` explains the timeout.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  opts: WaitForOptions,
): Promise<T> {
  const deadline = Date.now() + opts.timeout;
  const interval = opts.interval ?? DEFAULT_INTERVAL_MS;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError === undefined ? '' : `: last error: ${errorText(lastError)}`;
      throw new Error(`timed out after ${opts.timeout} ms waiting for ${opts.name}${detail}`, {
        cause: lastError,
      });
    }
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
}

/** Options for {@link waitForEvent}. */
export interface WaitForEventOptions {
  /** Give up after this many ms. */
  timeout: number;
}

/**
 * Resolves with the arguments of the next `event` on `emitter` (etcd3 `onceEvent` with a
 * deadline). An `'error'` event rejects unless `error` itself is awaited.
 */
export function waitForEvent<T extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string,
  opts: WaitForEventOptions,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onEvent = (...args: unknown[]): void => {
      cleanup();
      resolve(args as T);
    };
    const onError = (err: unknown): void => {
      cleanup();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${opts.timeout} ms waiting for event '${event}'`));
    }, opts.timeout);
    const cleanup = (): void => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      if (event !== 'error') emitter.off('error', onError);
    };
    emitter.on(event, onEvent);
    if (event !== 'error') emitter.on('error', onError);
  });
}

/** Plain delay; for the harness's own polling, tests should use {@link waitFor}. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
