import type { Logger } from './logger';

export interface ProcessStopOptions {
  log: Logger;
  /** Stops the app; the process exits 0 when it resolves, 1 when it rejects. */
  stop: () => Promise<void>;
  /** The process exits 1 if stopping takes longer than this (ms). */
  deadlineMs: number;
}

/**
 * The one way an app's process ends on a signal: stop once (later signals are ignored), within
 * a deadline, and flush the asynchronously written log lines before `process.exit`.
 * Returns the function to call with the signal's name.
 */
export function processStop(opts: ProcessStopOptions): (signal: string) => void {
  const { log } = opts;
  const exit = (code: number): never => {
    log.flush();
    process.exit(code);
  };
  let stopping = false;
  return (signal) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown deadline passed, exiting');
      exit(1);
    }, opts.deadlineMs).unref();
    opts.stop().then(
      () => exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
}
