import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '@talk-signaling/runtime';
import type { TokenStore } from './token-store';

/** Reads an RSA public key PEM (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`, as upstream). */
export function readRsaPublicKey(file: string): KeyObject {
  const key = createPublicKey(readFileSync(file));
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`${file}: not an RSA public key (${key.asymmetricKeyType ?? 'unknown'})`);
  return key;
}

/**
 * `tokentype = static`: `[tokens] <token id> = <public key file>`. At start-up a missing or
 * unreadable file is fatal (upstream); on reload it is logged and that id is dropped.
 */
export class StaticTokenStore implements TokenStore {
  #keys = new Map<string, KeyObject>();
  #files: ReadonlyMap<string, string>;
  readonly #log: Logger;

  constructor(files: ReadonlyMap<string, string>, log: Logger) {
    this.#files = files;
    this.#log = log;
    this.#keys = this.#load(false);
  }

  get(issuer: string): KeyObject | undefined {
    return this.#keys.get(issuer);
  }

  /** Re-reads the files; `files` replaces the configured list when given (config reload). */
  reload(files?: ReadonlyMap<string, string>): void {
    if (files) this.#files = files;
    this.#keys = this.#load(true);
  }

  close(): void {
    this.#keys = new Map();
  }

  /** Token ids with a usable key. */
  get ids(): string[] {
    return [...this.#keys.keys()].sort();
  }

  #load(ignoreErrors: boolean): Map<string, KeyObject> {
    const keys = new Map<string, KeyObject>();
    for (const [id, file] of this.#files) {
      try {
        keys.set(id, readRsaPublicKey(file));
      } catch (err) {
        if (!ignoreErrors) throw new Error(`[tokens] ${id}: could not load public key: ${(err as Error).message}`, { cause: err });
        this.#log.warn({ err, id, file }, 'could not load token key, ignoring it');
      }
    }
    this.#log.info({ ids: [...keys.keys()].sort() }, keys.size > 0 ? 'token keys loaded' : 'no token keys loaded');
    return keys;
  }
}
