import { createPublicKey, type KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { parseJsonLimited, signalingError } from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import type { Backend } from './backend';
import type { Capabilities } from './capabilities';

/**
 * Only public-key algorithms (upstream `processHelloV2`); HMAC and `none` would let anyone
 * who knows the published key forge tokens.
 */
const ALGORITHM_KEY_TYPES: Readonly<Record<string, string>> = {
  RS256: 'rsa',
  RS384: 'rsa',
  RS512: 'rsa',
  ES256: 'ec',
  ES384: 'ec',
  ES512: 'ec',
  EdDSA: 'ed25519',
};

/** Imported keys kept per published key string; Nextcloud instances rarely rotate. */
const MAX_CACHED_KEYS = 64;
/** SPKI DER prefix of an Ed25519 public key (RFC 8410 section 4); the 32 key bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_KEY_BYTES = 32;

export interface HelloV2TokenVerifierOptions {
  capabilities: Pick<Capabilities, 'helloV2TokenKey'>;
  log: Logger;
  /** Clock in ms since the epoch; tests inject a fake one. Default `Date.now`. */
  now?: () => number;
}

/** Why a signature check failed (logged only; the client always sees `invalid_token`). */
type KeyFailure = 'no_key' | 'bad_key' | 'wrong_key_type' | 'bad_signature';

/**
 * Verifies hello 2.0 JWTs (fact sheet 1.4.3) against the `hello-v2-token-key` Nextcloud
 * publishes in its capabilities for the hello `auth.url`.
 *
 * ```
 *  token ──alg allowed?──> key from capabilities ──signature ok?──> claims ──> {userId, user}
 *            │ no              │ cached & unusable       │ no (fresh key)   │ iat > now  → token_not_valid_yet
 *            ▼                 ▼                         ▼                  │ exp <= now → token_expired
 *       invalid_token    refetch once (≤ 1/min)     invalid_token           │ nbf > now  → invalid_token
 * ```
 *
 * Upstream refetches only when the key is missing from cached capabilities; this also does it
 * when the cached key cannot verify the token, so a key rotation in Nextcloud does not lock
 * clients out for the rest of the hour. The once-per-minute invalidation limit bounds what
 * forged tokens can cost Nextcloud.
 */
/** Verifies hello 2.0 tokens (the hub's authenticator uses it once hello v2 is available). */
export interface HelloV2Verifier {
  verify(authUrl: string, backend: Backend, token: string): Promise<{ userId: string; user: unknown }>;
}

export class HelloV2TokenVerifier implements HelloV2Verifier {
  readonly #capabilities: Pick<Capabilities, 'helloV2TokenKey'>;
  readonly #log: Logger;
  readonly #now: () => number;
  /** Imported public keys by their published string (insertion order = age). */
  readonly #keys = new Map<string, KeyObject>();

  constructor(opts: HelloV2TokenVerifierOptions) {
    this.#capabilities = opts.capabilities;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Resolves with the token's subject (empty for guests) and `userdata`, or throws
   * `SignalingError` `invalid_token` / `token_not_valid_yet` / `token_expired`.
   */
  async verify(authUrl: string, backend: Backend, token: string): Promise<{ userId: string; user: unknown }> {
    const alg = algorithmOf(token);
    const keyType = alg === undefined ? undefined : ALGORITHM_KEY_TYPES[alg];
    if (alg === undefined || keyType === undefined) {
      this.#log.debug({ backend: backend.id, alg }, 'hello v2 token with unsupported algorithm');
      throw signalingError('invalid_token');
    }

    const first = await this.#capabilities.helloV2TokenKey(authUrl);
    let result = await this.#verifySignature(token, alg, keyType, first.key);
    if (typeof result === 'string' && first.cached) {
      // Nextcloud may just have enabled hello v2 or rotated its key (fact sheet 1.4.3).
      const second = await this.#capabilities.helloV2TokenKey(authUrl, { forceRefresh: true });
      if (!second.cached && second.key !== first.key) result = await this.#verifySignature(token, alg, keyType, second.key);
    }
    if (typeof result === 'string') {
      this.#log.info({ backend: backend.id, alg, reason: result }, 'hello v2 token rejected');
      throw signalingError('invalid_token');
    }
    return this.#checkClaims(result);
  }

  async #verifySignature(token: string, alg: string, keyType: string, published: string | undefined): Promise<Uint8Array | KeyFailure> {
    if (published === undefined) return 'no_key';
    const key = this.#importKey(published, alg);
    if (key === undefined) return 'bad_key';
    if (key.asymmetricKeyType !== keyType) return 'wrong_key_type';
    try {
      return (await compactVerify(token, key, { algorithms: [alg] })).payload;
    } catch {
      // jose also rejects curve/alg mismatches and short RSA keys here.
      return 'bad_signature';
    }
  }

  #importKey(published: string, alg: string): KeyObject | undefined {
    let key = this.#keys.get(published);
    if (key !== undefined) return key;
    try {
      key = createPublicKey(alg === 'EdDSA' && !published.startsWith('-----BEGIN ') ? ed25519Spki(published) : published);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'could not parse hello v2 token key');
      return undefined;
    }
    if (this.#keys.size >= MAX_CACHED_KEYS) this.#keys.delete(this.#keys.keys().next().value!);
    this.#keys.set(published, key);
    return key;
  }

  /**
   * Claim checks of golang-jwt v4 as upstream uses them: registered claims validated without
   * leeway, then `iat` and `exp` required. A missing `iat` answers `token_not_valid_yet` and a
   * missing `exp` `token_expired`, as upstream's `VerifyIssuedAt/VerifyExpiresAt(now, true)` do.
   */
  #checkClaims(payload: Uint8Array): { userId: string; user: unknown } {
    const json = parseJsonLimited(Buffer.from(payload));
    if (!json.ok) throw signalingError('invalid_token');
    const claims = json.value;
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw signalingError('invalid_token');
    const c = claims as Record<string, unknown>;
    const iat = numericDate(c['iat']);
    const exp = numericDate(c['exp']);
    const nbf = numericDate(c['nbf']);
    const sub = c['sub'] ?? '';
    if (iat === null || exp === null || nbf === null || typeof sub !== 'string' || !validOptionalStrings(c)) {
      throw signalingError('invalid_token');
    }
    const now = this.#now() / 1000;
    if (iat !== undefined && now < iat) throw signalingError('token_not_valid_yet');
    if (exp !== undefined && now >= exp) throw signalingError('token_expired');
    if (nbf !== undefined && now < nbf) throw signalingError('invalid_token');
    if (iat === undefined) throw signalingError('token_not_valid_yet');
    if (exp === undefined) throw signalingError('token_expired');
    return { userId: sub, user: c['userdata'] ?? undefined };
  }
}

/** The protected header's `alg`, or undefined for anything that is not a readable JWS. */
function algorithmOf(token: string): string | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    const alg = decodeProtectedHeader(token).alg;
    return typeof alg === 'string' ? alg : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Nextcloud publishes Ed25519 keys as standard base64 of the raw 32 bytes; wrap them as SPKI
 * DER like upstream wraps them into a PKIX PEM.
 */
function ed25519Spki(published: string): { key: Buffer; format: 'der'; type: 'spki' } {
  const raw = Buffer.from(published.trim(), 'base64');
  if (raw.length !== ED25519_KEY_BYTES || raw.toString('base64') !== published.trim()) {
    throw new Error('not a base64 encoded Ed25519 public key');
  }
  return { key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' };
}

/** A JSON number literal (what Go's `json.Number` also accepts inside a string). */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * A NumericDate claim in whole seconds (golang-jwt truncates fractions): undefined when absent
 * or null, null when present but not a number (upstream fails to decode such a token).
 */
function numericDate(value: unknown): number | undefined | null {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && JSON_NUMBER.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? Math.trunc(n) : null;
}

/** `iss`/`jti` must be strings and `aud` a string or string array when present (Go decoding). */
function validOptionalStrings(c: Record<string, unknown>): boolean {
  for (const name of ['iss', 'jti']) {
    const v = c[name];
    if (v !== undefined && v !== null && typeof v !== 'string') return false;
  }
  const aud = c['aud'];
  return aud === undefined || aud === null || typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string'));
}
