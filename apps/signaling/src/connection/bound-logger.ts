import type { Logger, LogLevel } from '@talk-signaling/runtime';

/**
 * A child logger for things that exist once per connection or session: it keeps its parent
 * and bindings and merges the bindings into each line it writes, instead of creating a pino
 * child up front. A pino child costs ~350 bytes of heap per connection and per session (its
 * own level methods and serialised bindings), held for thousands of connections that mostly
 * never log after their first line. The lines are the same: child bindings come before the
 * line's own fields either way.
 */
export class BoundLogger implements Logger {
  readonly #parent: Logger;
  readonly #bindings: Record<string, unknown>;

  constructor(parent: Logger, bindings: Record<string, unknown>) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  debug(obj: object, msg?: string): void;
  debug(msg: string): void;
  debug(obj: object | string, msg?: string): void {
    if (this.#parent.isLevelEnabled('debug')) this.#parent.debug(...this.#args(obj, msg));
  }

  info(obj: object, msg?: string): void;
  info(msg: string): void;
  info(obj: object | string, msg?: string): void {
    if (this.#parent.isLevelEnabled('info')) this.#parent.info(...this.#args(obj, msg));
  }

  warn(obj: object, msg?: string): void;
  warn(msg: string): void;
  warn(obj: object | string, msg?: string): void {
    if (this.#parent.isLevelEnabled('warn')) this.#parent.warn(...this.#args(obj, msg));
  }

  error(obj: object, msg?: string): void;
  error(msg: string): void;
  error(obj: object | string, msg?: string): void {
    if (this.#parent.isLevelEnabled('error')) this.#parent.error(...this.#args(obj, msg));
  }

  child(bindings: Record<string, unknown>): Logger {
    return new BoundLogger(this.#parent, { ...this.#bindings, ...bindings });
  }

  isLevelEnabled(level: LogLevel): boolean {
    return this.#parent.isLevelEnabled(level);
  }

  flush(): void {
    this.#parent.flush();
  }

  #args(obj: object | string, msg: string | undefined): [object, string?] {
    if (typeof obj === 'string') return [this.#bindings, obj];
    // pino logs a bare Error as `err` with its message; spreading would lose both.
    if (obj instanceof Error) return [{ ...this.#bindings, err: obj }, msg ?? obj.message];
    const merged = { ...this.#bindings, ...obj };
    return msg === undefined ? [merged] : [merged, msg];
  }
}
