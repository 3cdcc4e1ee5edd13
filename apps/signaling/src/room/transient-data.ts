/**
 * Called after every change of a key: `value` is undefined when the key was removed, `oldValue`
 * when the key had no value before.
 */
export type TransientChangeListener = (key: string, value: unknown, oldValue: unknown) => void;

export interface TransientDataOptions {
  /** Told about every set and remove (not about {@link TransientData.clear}). */
  onChange: TransientChangeListener;
  /** Bound of keys plus JSON values, in string length; default {@link DEFAULT_TRANSIENT_MAX_BYTES}. */
  maxBytes?: number;
}

/**
 * What one room's transient data may hold (issue 10: memory a client can fill is bounded in
 * bytes). Talk keeps small values there, one `sd:<session>` entry per participant at most:
 * 4 MiB leave room for thousands of participants.
 */
export const DEFAULT_TRANSIENT_MAX_BYTES = 4 * 1024 * 1024;

/** Outcome of {@link TransientData.trySet}. */
export type TransientSetResult = 'changed' | 'unchanged' | 'full';

/** Node's setTimeout limit (2^31 - 1 ms, about 24.8 days); longer TTLs re-arm. */
const MAX_TIMER_MS = 2_147_483_647;
const NANOS_PER_MS = 1_000_000;

interface Entry {
  value: unknown;
  /** `JSON.stringify(value)`, for upstream's byte-wise comparison of raw JSON. */
  json: string;
  /** Expiry timer; undefined when the key has no TTL. */
  timer: NodeJS.Timeout | undefined;
  /** When the key expires (ms since the epoch); undefined without a TTL. */
  deadline: number | undefined;
}

/**
 * A room's transient data (fact sheet 1.11, upstream `transient_data.go`): a key/value store
 * kept in memory on this node, told to its listener on every change, with optional expiry.
 *
 * Values are compared by their JSON text (upstream compares the raw JSON bytes), so setting the
 * value a key already has changes nothing but its TTL.
 */
export class TransientData {
  readonly #onChange: TransientChangeListener;
  readonly #entries = new Map<string, Entry>();
  readonly #maxBytes: number;
  /** Sum of key and JSON lengths of all entries. */
  #bytes = 0;

  constructor(opts: TransientDataOptions) {
    this.#onChange = opts.onChange;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_TRANSIENT_MAX_BYTES;
  }

  /** Number of keys. */
  get size(): number {
    return this.#entries.size;
  }

  /** The current value of `key`, or undefined. */
  get(key: string): unknown {
    return this.#entries.get(key)?.value;
  }

  /**
   * Sets `key` to `value` and notifies; `undefined` removes the key. Setting the current value
   * again only replaces the TTL. `ttlMs > 0` removes the key after that long unless it has been
   * changed meanwhile; without a TTL (or `ttlMs <= 0`) the key stays until removed.
   *
   * Server-side writers (dialout call status, 1.12.6) call this directly.
   * @returns whether the value changed
   */
  set(key: string, value: unknown, ttlMs = 0): boolean {
    return this.trySet(key, value, ttlMs) === 'changed';
  }

  /**
   * {@link set}, telling apart a value that did not fit: `full` when the room's data would pass
   * its byte bound (nothing is changed then).
   */
  trySet(key: string, value: unknown, ttlMs = 0): TransientSetResult {
    if (value === undefined) return this.remove(key) ? 'changed' : 'unchanged';
    const json = JSON.stringify(value);
    const entry = this.#entries.get(key);
    if (entry && entry.json === json) {
      this.#arm(key, entry, ttlMs);
      return 'unchanged';
    }
    const bytes = this.#bytes - (entry ? key.length + entry.json.length : 0) + key.length + json.length;
    if (bytes > this.#maxBytes) return 'full';
    this.#bytes = bytes;
    clearTimeout(entry?.timer);
    const next: Entry = { value, json, timer: undefined, deadline: undefined };
    this.#entries.set(key, next);
    this.#arm(key, next, ttlMs);
    this.#onChange(key, value, entry?.value);
    return 'changed';
  }

  /** Key and JSON lengths of all entries (what the byte bound counts). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Removes `key` and notifies; nothing happens when the key is not set.
   * @returns whether the key existed
   */
  remove(key: string): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.#entries.delete(key);
    this.#bytes -= key.length + entry.json.length;
    this.#onChange(key, undefined, entry.value);
    return true;
  }

  /**
   * Takes the entries other nodes had (`GetTransientData`, upstream `SetInitial`) without
   * notifying: keys already set here win, expired ones are dropped, the byte bound applies.
   * @returns the keys taken, with their values, for the `initial` message
   */
  setInitial(entries: Record<string, { value: unknown; expires?: number }>, now = Date.now()): Record<string, unknown> {
    const added: Record<string, unknown> = {};
    for (const key of Object.keys(entries).sort()) {
      const { value, expires } = entries[key]!;
      if (this.#entries.has(key) || value === undefined || (expires !== undefined && expires <= now)) continue;
      const json = JSON.stringify(value);
      if (this.#bytes + key.length + json.length > this.#maxBytes) continue;
      this.#bytes += key.length + json.length;
      const entry: Entry = { value, json, timer: undefined, deadline: undefined };
      this.#entries.set(key, entry);
      if (expires !== undefined) this.#arm(key, entry, expires - now);
      added[key] = value;
    }
    return added;
  }

  /**
   * All keys and values, as sent in the `initial` message. Keys are sorted: Go's encoding/json
   * writes map keys sorted, and captures should compare line by line.
   */
  snapshot(): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const key of [...this.#entries.keys()].sort()) data[key] = this.#entries.get(key)!.value;
    return data;
  }

  /** Every key with its value and expiry (ms since the epoch), for other nodes (`GetTransientData`). */
  entries(): Record<string, { value: unknown; expires?: number }> {
    const out: Record<string, { value: unknown; expires?: number }> = {};
    for (const [key, entry] of this.#entries) out[key] = entry.deadline === undefined ? { value: entry.value } : { value: entry.value, expires: entry.deadline };
    return out;
  }

  /** Drops everything without notifying (the room is going away) and cancels every timer. */
  clear(): void {
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
    this.#bytes = 0;
  }

  /** (Re)starts or, for `ttlMs <= 0`, cancels the expiry of `entry`. */
  #arm(key: string, entry: Entry, ttlMs: number): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.deadline = undefined;
    if (!(ttlMs > 0)) return;
    const deadline = Date.now() + ttlMs;
    entry.deadline = deadline;
    const schedule = (ms: number): void => {
      entry.timer = setTimeout(() => {
        const left = deadline - Date.now();
        if (left > 0) schedule(left);
        // Only the value this timer was set for expires (upstream `compareAndRemove`).
        else if (this.#entries.get(key) === entry) this.remove(key);
      }, Math.min(Math.ceil(ms), MAX_TIMER_MS));
      // A pending expiry must not keep the process alive on shutdown.
      entry.timer.unref();
    };
    schedule(ttlMs);
  }
}

/** Converts a wire TTL (Go `time.Duration`, nanoseconds) to milliseconds. */
export function ttlFromNanoseconds(ns: number | undefined): number {
  return ns === undefined ? 0 : ns / NANOS_PER_MS;
}

/**
 * The notification for one change, in upstream's key order (`type`, `key`, `oldvalue`,
 * `value`); `oldvalue` only when there was a previous value.
 */
export function transientChangeMessage(key: string, value: unknown, oldValue: unknown): { type: 'transient'; transient: Record<string, unknown> } {
  const transient: Record<string, unknown> = { type: value === undefined ? 'remove' : 'set', key };
  if (oldValue !== undefined) transient['oldvalue'] = oldValue;
  if (value !== undefined) transient['value'] = value;
  return { type: 'transient', transient };
}

/** `{"type":"transient","transient":{"type":"initial","data":{...}}}` for a joiner. */
export function transientInitialMessage(data: Record<string, unknown>): { type: 'transient'; transient: Record<string, unknown> } {
  return { type: 'transient', transient: { type: 'initial', data } };
}
