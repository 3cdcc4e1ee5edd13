import type { KeyObject } from 'node:crypto';

/**
 * Where the public keys of the signaling servers allowed to connect come from (`[app]
 * tokentype`). `get` answers `undefined` for an unknown issuer and throws when the store cannot
 * answer at all (upstream counts the two as `unsupported-issuer` and `missing-issuer`).
 */
export interface TokenStore {
  get(issuer: string): Promise<KeyObject | undefined> | KeyObject | undefined;
  /** SIGHUP: re-read the key files (static) — a failing entry is logged and skipped. */
  reload(): void;
  close(): void;
}
