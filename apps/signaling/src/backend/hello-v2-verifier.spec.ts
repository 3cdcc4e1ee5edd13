import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { SignalingError } from '@talk-signaling/protocol';
import { silentLogger } from '@talk-signaling/runtime';
import type { Backend } from './backend';
import { HelloV2TokenVerifier } from './hello-v2-verifier';

const URL = 'https://nc.example.com/ocs/v2.php/apps/spreed/api/v3/signaling/backend';
const BACKEND = { id: 'nc1' } as Backend;
const NOW_SEC = 1_700_000_000;

function rsa(): { privateKey: KeyObject; published: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, published: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

const KEY = rsa();

/** Capabilities stand-in: `key` is what Nextcloud publishes now, `cachedKey` what the cache holds. */
class FakeKeys {
  key: string | undefined = KEY.published;
  cachedKey: string | undefined;
  cached = false;
  calls: { forceRefresh?: boolean }[] = [];
  /** Whether a forced refresh is still allowed (the once-per-minute limit). */
  mayInvalidate = true;

  async helloV2TokenKey(_url: string, opts: { forceRefresh?: boolean } = {}): Promise<{ key: string | undefined; cached: boolean }> {
    this.calls.push(opts);
    if (opts.forceRefresh && this.mayInvalidate) {
      this.cached = false;
      this.mayInvalidate = false;
    }
    if (this.cached) return { key: this.cachedKey, cached: true };
    this.cached = true;
    this.cachedKey = this.key;
    return { key: this.key, cached: false };
  }
}

async function sign(claims: Record<string, unknown>, key: KeyObject = KEY.privateKey, alg = 'RS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SignalingError) return err.code;
    throw err;
  }
  return 'ok';
}

describe('HelloV2TokenVerifier', () => {
  let keys: FakeKeys;
  let nowMs: number;
  let verifier: HelloV2TokenVerifier;

  beforeEach(() => {
    keys = new FakeKeys();
    nowMs = NOW_SEC * 1000 + 500;
    verifier = new HelloV2TokenVerifier({ capabilities: keys, log: silentLogger(), now: () => nowMs });
  });

  it('returns subject and userdata', async () => {
    const token = await sign({ iat: NOW_SEC, exp: NOW_SEC + 60, sub: 'alice', userdata: { displayname: 'Alice' } });
    await expect(verifier.verify(URL, BACKEND, token)).resolves.toEqual({ userId: 'alice', user: { displayname: 'Alice' } });
  });

  it('accepts tokens without sub as anonymous', async () => {
    const token = await sign({ iat: NOW_SEC, exp: NOW_SEC + 60 });
    await expect(verifier.verify(URL, BACKEND, token)).resolves.toEqual({ userId: '', user: undefined });
  });

  it.each([
    ['iat one second ahead', 'token_not_valid_yet', { iat: NOW_SEC + 1, exp: NOW_SEC + 60 }],
    ['iat ahead and expired', 'token_not_valid_yet', { iat: NOW_SEC + 1, exp: NOW_SEC }],
    ['exp reached', 'token_expired', { iat: NOW_SEC - 60, exp: NOW_SEC }],
    ['missing iat (upstream: VerifyIssuedAt required)', 'token_not_valid_yet', { exp: NOW_SEC + 60 }],
    ['missing exp (upstream: VerifyExpiresAt required)', 'token_expired', { iat: NOW_SEC }],
    ['nbf ahead', 'invalid_token', { iat: NOW_SEC, exp: NOW_SEC + 60, nbf: NOW_SEC + 1 }],
    ['nbf reached', 'ok', { iat: NOW_SEC, exp: NOW_SEC + 60, nbf: NOW_SEC }],
    ['exp as numeric string (Go decodes it as json.Number)', 'ok', { iat: NOW_SEC, exp: String(NOW_SEC + 60) }],
    ['exp as other string', 'invalid_token', { iat: NOW_SEC, exp: 'tomorrow' }],
    ['numeric sub', 'invalid_token', { iat: NOW_SEC, exp: NOW_SEC + 60, sub: 42 }],
    ['audience list', 'ok', { iat: NOW_SEC, exp: NOW_SEC + 60, aud: ['a', 'b'], iss: 'anything' }],
  ])('%s -> %s', async (_name, code, claims) => {
    expect(await codeOf(verifier.verify(URL, BACKEND, await sign(claims)))).toBe(code);
  });

  it('rejects malformed tokens and disallowed algorithms without asking for the key', async () => {
    const hmac = await new SignJWT({ iat: NOW_SEC, exp: NOW_SEC + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(Buffer.from(KEY.published));
    for (const token of ['', 'abc', 'a.b.c', hmac, 'eyJhbGciOiJub25lIn0.e30.']) {
      expect(await codeOf(verifier.verify(URL, BACKEND, token))).toBe('invalid_token');
    }
    expect(keys.calls).toEqual([]);
  });

  it('rejects a key of the wrong type for the algorithm', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = await sign({ iat: NOW_SEC, exp: NOW_SEC + 60 }, privateKey, 'ES256');
    expect(await codeOf(verifier.verify(URL, BACKEND, token))).toBe('invalid_token');
  });

  it('refetches once when the cached key is missing or does not verify', async () => {
    const token = await sign({ iat: NOW_SEC, exp: NOW_SEC + 60, sub: 'bob' });
    keys.key = undefined;
    expect(await codeOf(verifier.verify(URL, BACKEND, token))).toBe('invalid_token'); // fresh fetch, no key
    keys.key = KEY.published; // Nextcloud enables hello v2; our cache still says no key
    await expect(verifier.verify(URL, BACKEND, token)).resolves.toMatchObject({ userId: 'bob' });
    expect(keys.calls).toEqual([{}, {}, { forceRefresh: true }]);

    // Rotation while the invalidation limit holds: no second refetch.
    const next = rsa();
    keys.key = next.published;
    const rotated = await sign({ iat: NOW_SEC, exp: NOW_SEC + 60 }, next.privateKey);
    expect(await codeOf(verifier.verify(URL, BACKEND, rotated))).toBe('invalid_token');
    keys.mayInvalidate = true;
    expect(await codeOf(verifier.verify(URL, BACKEND, rotated))).toBe('ok');
  });

  it('does not refetch when the key was just fetched', async () => {
    const other = rsa();
    const token = await sign({ iat: NOW_SEC, exp: NOW_SEC + 60 }, other.privateKey);
    expect(await codeOf(verifier.verify(URL, BACKEND, token))).toBe('invalid_token');
    expect(keys.calls).toEqual([{}]);
  });

  it('accepts Ed25519 keys as PEM or raw base64 and rejects bad raw keys', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const token = await sign({ iat: NOW_SEC, exp: NOW_SEC + 60, sub: 'ed' }, privateKey, 'EdDSA');
    const raw = Buffer.from(String(publicKey.export({ format: 'jwk' }).x), 'base64url');
    for (const published of [publicKey.export({ type: 'spki', format: 'pem' }).toString(), raw.toString('base64')]) {
      keys = new FakeKeys();
      keys.key = published;
      verifier = new HelloV2TokenVerifier({ capabilities: keys, log: silentLogger(), now: () => nowMs });
      await expect(verifier.verify(URL, BACKEND, token)).resolves.toMatchObject({ userId: 'ed' });
    }
    keys = new FakeKeys();
    keys.key = raw.subarray(0, 31).toString('base64');
    verifier = new HelloV2TokenVerifier({ capabilities: keys, log: silentLogger(), now: () => nowMs });
    expect(await codeOf(verifier.verify(URL, BACKEND, token))).toBe('invalid_token');
  });
});
