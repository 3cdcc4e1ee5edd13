import pino from 'pino';

/**
 * The logger shape every component takes: pino's, so production gets pino and tests can pass
 * `silentLogger()` or a capturing stub. Components never create loggers themselves.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  debug(msg: string): void;
  info(obj: object, msg?: string): void;
  info(msg: string): void;
  warn(obj: object, msg?: string): void;
  warn(msg: string): void;
  error(obj: object, msg?: string): void;
  error(msg: string): void;
  child(bindings: Record<string, unknown>): Logger;
  isLevelEnabled(level: LogLevel): boolean;
  /** Writes out buffered lines (before the process exits). */
  flush(): void;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LoggerOptions {
  /** Minimum level; default `info`, or `LOG_LEVEL` as read by the composition root. */
  level?: LogLevel;
  /** Service name written into every line (`name` field). */
  name: string;
  /** Human-readable single-line output for development instead of JSON lines. */
  pretty?: boolean;
}

/**
 * Structured JSON lines on stdout (pino): one object per event, ids as fields. Writes are
 * asynchronous (sonic-boom): a synchronous write per line cost ~80 µs of the event loop per
 * session created or closed in a connect storm. Lines are also gathered into writes of at
 * least 4 KiB, flushed every 250 ms at the latest (one `fs.write` per line was ~13 % of the
 * server's CPU in a hello storm); pino flushes synchronously on exit. Call `flush()` before
 * exiting.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { name: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 250 }),
  ) as unknown as Logger;
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' }) as unknown as Logger;
}
