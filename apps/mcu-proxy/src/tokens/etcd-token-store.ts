import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Logger } from '@talk-signaling/runtime';
import type { TokenStore } from './token-store';

/** Parsed keys kept (upstream LRU of 4096). */
export const TOKEN_CACHE_SIZE = 4096;

/** What the store needs of an etcd client (`EtcdClient` of libs/cluster). */
export interface EtcdKeyReader {
  get(key: string): Promise<Buffer | undefined>;
  close(): void;
}

/**
 * `tokentype = etcd`: the public key of token id `X` is the value of the first existing key of
 * `[tokens] keyformat` (comma-separated, `%s` = `X`, default `/%s`). Read from etcd on every
 * hello (so a new or removed key counts at once), parsed keys cached by key name and value.
 * A read error or an unparsable value is logged and the next format tried (upstream).
 */
export class EtcdTokenStore implements TokenStore {
  readonly #etcd: EtcdKeyReader;
  readonly #log: Logger;
  #formats: string[];
  readonly #cache = new Map<string, { pem: Buffer; key: KeyObject }>();

  constructor(etcd: EtcdKeyReader, formats: string[], log: Logger) {
    this.#etcd = etcd;
    this.#formats = formats;
    this.#log = log;
  }

  async get(issuer: string): Promise<KeyObject | undefined> {
    for (const format of this.#formats) {
      const name = format.replaceAll('%s', issuer);
      let value: Buffer | undefined;
      try {
        value = await this.#etcd.get(name);
      } catch (err) {
        this.#log.warn({ err: (err as Error).message, key: name }, 'could not read token key from etcd');
        continue;
      }
      if (!value) continue;
      const cached = this.#cache.get(name);
      if (cached && cached.pem.equals(value)) {
        // Refresh its place in the LRU order.
        this.#cache.delete(name);
        this.#cache.set(name, cached);
        return cached.key;
      }
      try {
        const key = createPublicKey(value);
        if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA public key');
        this.#cache.delete(name);
        this.#cache.set(name, { pem: Buffer.from(value), key });
        if (this.#cache.size > TOKEN_CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
        return key;
      } catch (err) {
        this.#log.warn({ err: (err as Error).message, key: name }, 'could not parse token key from etcd');
      }
    }
    return undefined;
  }

  /** SIGHUP: new key formats. */
  reload(formats?: string[]): void {
    if (formats) this.#formats = formats;
  }

  close(): void {
    this.#etcd.close();
    this.#cache.clear();
  }
}
