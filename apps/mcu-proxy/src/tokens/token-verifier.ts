import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { TokenStore } from './token-store';

/** Signature algorithms accepted for hello and remote tokens (upstream: RSA only). */
export const TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512'] as const;
/** A token may be at most this old (upstream `maxTokenAge`)… */
export const MAX_TOKEN_AGE_S = 5 * 60;
/** …with this clock leeway between signaling server and proxy (upstream `tokenLeeway`). */
export const TOKEN_LEEWAY_S = 60;

/** Proxy error codes a token check can end in. */
export type TokenErrorCode = 'auth_failed' | 'token_expired' | 'token_not_valid_yet';
/** Reasons counted in `signaling_proxy_token_errors_total`. */
export type TokenErrorReason =
  | 'auth-failed'
  | 'unsupported-signing-method'
  | 'unsupported-claims'
  | 'missing-issuer'
  | 'unsupported-issuer'
  | 'not-valid-yet'
  | 'expired';

export class TokenError extends Error {
  override readonly name = 'TokenError';

  constructor(
    readonly code: TokenErrorCode,
    readonly reason: TokenErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** Verified claims. */
export interface TokenClaims {
  iss: string;
  sub: string;
  iat: number;
}

/**
 * Checks a proxy token: RS256/384/512, key by `iss` from the store, signature, `exp`/`nbf` when
 * present, and the `iat` rules of upstream (required; in the future beyond the leeway ⇒
 * `token_not_valid_yet`; older than 5 min + leeway ⇒ `token_expired`).
 */
export async function verifyProxyToken(token: string, store: TokenStore, now = Date.now()): Promise<TokenClaims> {
  let alg: unknown;
  let payload: JWTPayload;
  try {
    alg = decodeProtectedHeader(token).alg;
    payload = decodeJwt(token);
  } catch (err) {
    throw new TokenError('auth_failed', 'auth-failed', `malformed token: ${(err as Error).message}`);
  }
  if (typeof alg !== 'string' || !(TOKEN_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new TokenError('auth_failed', 'unsupported-signing-method', `unsupported signing method ${String(alg)}`);
  }
  const issuer = typeof payload.iss === 'string' ? payload.iss : '';
  let key;
  try {
    key = await store.get(issuer);
  } catch (err) {
    throw new TokenError('auth_failed', 'missing-issuer', `no key for issuer ${issuer}: ${(err as Error).message}`);
  }
  if (!key) throw new TokenError('auth_failed', 'unsupported-issuer', `issuer "${issuer}" is not supported`);
  try {
    await jwtVerify(token, key, {
      algorithms: [...TOKEN_ALGORITHMS],
      clockTolerance: TOKEN_LEEWAY_S,
      currentDate: new Date(now),
    });
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new TokenError('token_expired', 'expired', err.message);
    if (err instanceof joseErrors.JWTClaimValidationFailed && (err.claim === 'nbf' || err.claim === 'iat')) {
      throw new TokenError('token_not_valid_yet', 'not-valid-yet', err.message);
    }
    throw new TokenError('auth_failed', 'auth-failed', (err as Error).message);
  }
  const nowS = Math.floor(now / 1000);
  const iat = payload.iat;
  if (typeof iat === 'number' && iat > nowS + TOKEN_LEEWAY_S) {
    throw new TokenError('token_not_valid_yet', 'not-valid-yet', 'token issued in the future');
  }
  if (typeof iat !== 'number' || iat < nowS - MAX_TOKEN_AGE_S - TOKEN_LEEWAY_S) {
    throw new TokenError('token_expired', 'expired', typeof iat === 'number' ? 'token too old' : 'token has no iat');
  }
  return { iss: issuer, sub: typeof payload.sub === 'string' ? payload.sub : '', iat };
}
