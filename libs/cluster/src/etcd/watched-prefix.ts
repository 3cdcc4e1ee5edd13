import { EventEmitter } from 'node:events';
import { Backoff, type Logger } from '@talk-signaling/runtime';
import type { Etcd3, Watcher } from 'etcd3';
import type { ValueDecoder } from './value-decoder';

/** What a {@link WatchedPrefix} needs from the etcd client ({@link EtcdClient} fits). */
export interface PrefixSource {
  getPrefix(prefix: string): Promise<{ revision: string; entries: readonly { key: string; value: Buffer }[] }>;
  readonly etcd3: Etcd3;
}

/** Options of {@link EtcdClient.watchPrefix}. */
export interface WatchedPrefixOptions<T> {
  /** Raw value → stored value; a throw means "invalid": logged, the update ignored. */
  decode: ValueDecoder<T>;
  /** Values larger than this are ignored like invalid ones (bytes; default 64 KiB). */
  maxValueBytes?: number;
  /** Retry delays after a failed read or a lost watch (ms; default 1 s doubling to 8 s, upstream). */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/** `syncing`: reading the prefix (first time, or after the watch was lost); `watching`: up to date. */
export type WatchedPrefixState = 'syncing' | 'watching' | 'closed';

export interface WatchedPrefixEvents<T> {
  /** A key appeared with a valid value. */
  added: [key: string, value: T];
  /** A key's value changed to another valid value. */
  changed: [key: string, value: T, previous: T];
  /** A key with a known value was deleted. */
  removed: [key: string, previous: T];
  /** A full read of the prefix was applied (first time, or after etcd came back). */
  synced: [];
  /** The watch was lost (etcd gone, watch cancelled); known values stay until the next sync. */
  lost: [error: Error];
  close: [];
}

const DEFAULT_MAX_VALUE_BYTES = 64 * 1024;

interface Known<T> {
  raw: Buffer;
  value: T;
}

/**
 * The live contents of one etcd key prefix (upstream: initial `Get` with prefix, then `Watch`
 * from the next revision, restarted with backoff). Emits `added`/`changed`/`removed` with decoded
 * values. When etcd goes away the last known values are kept; when it is back the prefix is read
 * again and the differences are emitted, so changes missed meanwhile (or a wiped etcd) are picked
 * up. An invalid or oversized value is logged and ignored (a known key keeps its last valid value).
 */
export class WatchedPrefix<T> extends EventEmitter<WatchedPrefixEvents<T>> {
  readonly #source: PrefixSource;
  readonly #decode: ValueDecoder<T>;
  readonly #maxValueBytes: number;
  readonly #logger: Logger;
  readonly #known = new Map<string, Known<T>>();
  readonly #backoff: Backoff;
  #state: WatchedPrefixState = 'syncing';
  #watcher: Watcher | undefined;
  #wake: (() => void) | undefined;
  #syncedOnce = false;
  readonly #firstSync: Promise<void>;
  #resolveFirstSync!: () => void;

  /** Use {@link EtcdClient.watchPrefix}. */
  constructor(source: PrefixSource, readonly prefix: string, options: WatchedPrefixOptions<T>, logger: Logger) {
    super();
    this.#source = source;
    this.#decode = options.decode;
    this.#maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.#logger = logger;
    this.#backoff = new Backoff({ initial: options.retryInitialMs ?? 1_000, max: options.retryMaxMs ?? 8_000 });
    this.#firstSync = new Promise((resolve) => (this.#resolveFirstSync = resolve));
    // Start after the caller attached its listeners (same tick), so no `added` is missed.
    queueMicrotask(() => void this.#run());
  }

  get state(): WatchedPrefixState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Resolves after the first complete read of the prefix (upstream `WaitForInitialized`). */
  ready(): Promise<void> {
    return this.#firstSync;
  }

  /** The current value of `key`, if known and valid. */
  get(key: string): T | undefined {
    return this.#known.get(key)?.value;
  }

  /** Number of keys with a valid value. */
  get size(): number {
    return this.#known.size;
  }

  /** Current `[key, value]` pairs. */
  *entries(): IterableIterator<[string, T]> {
    for (const [key, known] of this.#known) yield [key, known.value];
  }

  /** Stops watching. Known values stay readable; no further events. Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stopWatcher();
    this.#wake?.();
    this.#resolveFirstSync();
    this.emit('close');
    this.removeAllListeners();
  }

  async #run(): Promise<void> {
    while (this.#state !== 'closed') {
      this.#state = 'syncing';
      let revision: string;
      try {
        const snapshot = await this.#source.getPrefix(this.prefix);
        if (this.closed) return;
        this.#applySnapshot(snapshot.entries);
        revision = snapshot.revision;
      } catch (err) {
        if (this.closed) return;
        const delay = this.#backoff.next();
        this.#logger.warn({ err, retryInMs: delay }, 'could not read etcd prefix, retrying');
        await this.#sleep(delay);
        continue;
      }
      if (!this.#syncedOnce) {
        this.#syncedOnce = true;
        this.#resolveFirstSync();
      }
      this.#safeEmit('synced');
      this.#state = 'watching';
      const error = await this.#watch((BigInt(revision) + 1n).toString());
      if (this.closed) return;
      this.#state = 'syncing';
      const delay = this.#backoff.next();
      this.#logger.warn({ err: error, retryInMs: delay }, 'etcd watch lost, keeping last known values until resync');
      this.#safeEmit('lost', error);
      await this.#sleep(delay);
    }
  }

  /** Watches from `startRevision` until the watch is lost; resolves with the reason. */
  #watch(startRevision: string): Promise<Error> {
    return new Promise((resolve) => {
      const watcher = this.#source.etcd3.watch().prefix(this.prefix).startRevision(startRevision).watcher();
      this.#watcher = watcher;
      let done = false;
      const finish = (err: Error): void => {
        if (done) return;
        done = true;
        this.#stopWatcher();
        this.#wake = undefined;
        resolve(err);
      };
      this.#wake = () => finish(new Error('closed'));
      watcher.on('connected', () => this.#backoff.reset());
      watcher.on('put', (kv) => this.#put(kv.key.toString('utf8'), kv.value));
      watcher.on('delete', (kv) => this.#delete(kv.key.toString('utf8')));
      // etcd3 would reconnect on its own and resume from the last revision; we resync instead,
      // which also covers an etcd that came back empty or compacted.
      watcher.on('disconnected', (err) => finish(err));
      watcher.on('error', (err) => finish(err));
      watcher.on('end', () => finish(new Error('watch ended')));
    });
  }

  #stopWatcher(): void {
    const watcher = this.#watcher;
    if (watcher === undefined) return;
    this.#watcher = undefined;
    watcher.removeAllListeners('put').removeAllListeners('delete');
    // Late errors of a cancelled watcher must not become unhandled 'error' events.
    watcher.on('error', () => undefined);
    watcher.cancel().catch((err: unknown) => this.#logger.debug({ err }, 'cancelling etcd watch failed'));
  }

  #applySnapshot(entries: readonly { key: string; value: Buffer }[]): void {
    const seen = new Set<string>();
    for (const { key, value } of entries) {
      seen.add(key);
      this.#put(key, value);
    }
    for (const key of [...this.#known.keys()]) {
      if (!seen.has(key)) this.#delete(key);
    }
  }

  #put(key: string, raw: Buffer): void {
    const known = this.#known.get(key);
    if (known !== undefined && known.raw.equals(raw)) return;
    let value: T;
    try {
      if (raw.length > this.#maxValueBytes) throw new Error(`value of ${raw.length} bytes exceeds ${this.#maxValueBytes}`);
      value = this.#decode(raw, key);
    } catch (err) {
      this.#logger.warn({ key, err: err instanceof Error ? err.message : String(err), value: raw.subarray(0, 200).toString('utf8') }, 'ignoring invalid etcd value');
      return;
    }
    this.#known.set(key, { raw: Buffer.from(raw), value });
    if (known === undefined) this.#safeEmit('added', key, value);
    else this.#safeEmit('changed', key, value, known.value);
  }

  #delete(key: string): void {
    const known = this.#known.get(key);
    if (known === undefined) return;
    this.#known.delete(key);
    this.#safeEmit('removed', key, known.value);
  }

  /** A throwing listener must not break the watch loop. */
  #safeEmit<K extends keyof WatchedPrefixEvents<T>>(event: K, ...args: WatchedPrefixEvents<T>[K]): void {
    try {
      (this.emit as (e: K, ...a: WatchedPrefixEvents<T>[K]) => boolean)(event, ...args);
    } catch (err) {
      this.#logger.error({ err, event }, 'etcd prefix listener threw');
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }
}
