import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { TokenError, verifyProxyToken } from './token-verifier';
import type { TokenStore } from './token-store';

describe('verifyProxyToken', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const store: TokenStore = { get: (iss) => (iss === 'server1' ? publicKey : undefined), reload: () => undefined, close: () => undefined };
  const now = 1_800_000_000_000;
  const nowS = now / 1000;
  const sign = (claims: { iat?: number; exp?: number; nbf?: number; iss?: string; sub?: string }, alg = 'RS256'): Promise<string> => {
    const jwt = new SignJWT({ ...claims }).setProtectedHeader({ alg });
    return jwt.sign(privateKey);
  };
  const outcome = async (token: Promise<string>): Promise<string> => {
    try {
      const claims = await verifyProxyToken(await token, store, now);
      return `ok:${claims.sub}`;
    } catch (err) {
      return err instanceof TokenError ? `${err.code}/${err.reason}` : `other:${(err as Error).message}`;
    }
  };

  it('applies the iat rules with one minute of leeway', async () => {
    expect(await outcome(sign({ iss: 'server1', sub: 'x', iat: nowS }))).toBe('ok:x');
    expect(await outcome(sign({ iss: 'server1', iat: nowS - 6 * 60 + 1 }))).toBe('ok:');
    expect(await outcome(sign({ iss: 'server1', iat: nowS - 6 * 60 - 1 }))).toBe('token_expired/expired');
    expect(await outcome(sign({ iss: 'server1', iat: nowS + 59 }))).toBe('ok:');
    expect(await outcome(sign({ iss: 'server1', iat: nowS + 61 }))).toBe('token_not_valid_yet/not-valid-yet');
    expect(await outcome(sign({ iss: 'server1' }))).toBe('token_expired/expired');
  });

  it('honours exp and nbf when present', async () => {
    expect(await outcome(sign({ iss: 'server1', iat: nowS, exp: nowS - 120 }))).toBe('token_expired/expired');
    expect(await outcome(sign({ iss: 'server1', iat: nowS, nbf: nowS + 120 }))).toBe('token_not_valid_yet/not-valid-yet');
  });

  it('accepts RS256/384/512 only, and only known issuers', async () => {
    for (const alg of ['RS256', 'RS384', 'RS512']) expect(await outcome(sign({ iss: 'server1', iat: nowS }, alg))).toBe('ok:');
    expect(await outcome(sign({ iss: 'server1', iat: nowS }, 'PS256'))).toBe('auth_failed/unsupported-signing-method');
    expect(await outcome(sign({ iss: 'other', iat: nowS }))).toBe('auth_failed/unsupported-issuer');
    expect(await outcome(sign({ iat: nowS }))).toBe('auth_failed/unsupported-issuer');
    expect(await outcome(Promise.resolve('garbage'))).toBe('auth_failed/auth-failed');
    const failing: TokenStore = { get: () => Promise.reject(new Error('etcd down')), reload: () => undefined, close: () => undefined };
    await expect(verifyProxyToken(await sign({ iss: 'server1', iat: nowS }), failing, now)).rejects.toMatchObject({ reason: 'missing-issuer' });
  });
});
