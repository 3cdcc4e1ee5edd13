import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { DEFAULT_FEATURES, type HelloV2Algorithm } from '@talk-signaling/fake-nextcloud';
import { TestClient } from '@talk-signaling/testing';
import { INTERNAL_SECRET, startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(20_000);

const SESSION_ID = /^[A-Za-z0-9_-]{40,}$/;

describe('hello 2.0 (JWT from Nextcloud capabilities)', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeEach(async () => {
    setup = await startTestSetup({ throttleSleep: async () => undefined });
  });
  afterEach(async () => {
    while (clients.length) clients.pop()!.close();
    await setup.stop();
  });

  async function connect(): Promise<TestClient> {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    await client.next('welcome');
    return client;
  }

  async function helloV2(token: string, id = 'h2') {
    const client = await connect();
    return client.hello({ version: '2.0', url: setup.nextcloud.backendUrl, params: { token }, id });
  }

  function invalidToken(id = 'h2'): unknown {
    return { id, type: 'error', error: { code: 'invalid_token', message: 'The passed token is invalid.' } };
  }

  it('announces hello-v2 in welcome and in the client and internal hello features', async () => {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    expect((await client.next('welcome')).welcome.features).toContain('hello-v2');
    const internal = await client.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET });
    expect(internal.hello.server.features).toContain('hello-v2');
    const user = await (await connect()).hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('u') });
    expect(user.hello.server.features).toContain('hello-v2');
  });

  it.each<HelloV2Algorithm>(['RS256', 'ES256', 'EdDSA'])('authenticates a user with a %s token', async (alg) => {
    await setup.nextcloud.useHelloV2Keys(alg);
    const token = await setup.nextcloud.issueHelloV2Token('alice', { userdata: { displayname: 'Alice', alg } });
    const reply = await helloV2(token, 'v2');
    expect(reply).toEqual({
      id: 'v2',
      type: 'hello',
      hello: {
        version: '2.0',
        sessionid: expect.stringMatching(SESSION_ID),
        resumeid: expect.stringMatching(SESSION_ID),
        userid: 'alice',
        server: { version: expect.any(String), features: setup.server.features.client },
      },
    });
    expect(Object.keys(reply.hello)).toEqual(['version', 'sessionid', 'resumeid', 'userid', 'server']);
    const session = setup.server.sessions.byPublicId(reply.hello.sessionid)!;
    expect(session.userId).toBe('alice');
    expect(session.user).toEqual({ displayname: 'Alice', alg });
    expect(session.helloVersion).toBe('2.0');
    // No auth request: Nextcloud is only asked for its capabilities (GET, no checksum).
    expect(setup.nextcloud.count('auth')).toBe(0);
    expect(setup.nextcloud.requests.map((r) => r.path)).toEqual(['/ocs/v2.php/cloud/capabilities']);
    expect(setup.nextcloud.requests[0]!.headers['ocs-apirequest']).toBe('true');
  });

  it('creates an anonymous session for a token without subject', async () => {
    await setup.nextcloud.useHelloV2Keys('ES256');
    const reply = await helloV2(await setup.nextcloud.issueHelloV2Token(''));
    expect(reply).toMatchObject({ type: 'hello', hello: { version: '2.0', userid: '' } });
    const session = setup.server.sessions.byPublicId(reply.hello.sessionid)!;
    expect(session.userId).toBe('');
    expect(session.user).toBeUndefined();
  });

  it('answers token_not_valid_yet for a token issued in the future', async () => {
    await setup.nextcloud.useHelloV2Keys('RS256');
    const token = await setup.nextcloud.issueHelloV2Token('alice', { issuedAtOffsetSec: 30 });
    expect(await helloV2(token)).toEqual({
      id: 'h2',
      type: 'error',
      error: { code: 'token_not_valid_yet', message: 'The token is not valid yet.' },
    });
  });

  it('answers token_expired for an expired token', async () => {
    await setup.nextcloud.useHelloV2Keys('RS256');
    const token = await setup.nextcloud.issueHelloV2Token('alice', { issuedAtOffsetSec: -120, expiresInSec: 60 });
    expect(await helloV2(token)).toEqual({
      id: 'h2',
      type: 'error',
      error: { code: 'token_expired', message: 'The token is expired.' },
    });
  });

  it('answers invalid_token for a token not valid before a future nbf', async () => {
    await setup.nextcloud.useHelloV2Keys('EdDSA');
    const token = await setup.nextcloud.issueHelloV2Token('alice', { notBeforeOffsetSec: 30 });
    expect(await helloV2(token)).toEqual(invalidToken());
    // A past nbf is fine.
    const ok = await setup.nextcloud.issueHelloV2Token('alice', { notBeforeOffsetSec: -5 });
    expect((await helloV2(ok)).type).toBe('hello');
  });

  it('answers invalid_token for garbage', async () => {
    await setup.nextcloud.useHelloV2Keys('RS256');
    expect(await helloV2('not-a-jwt')).toEqual(invalidToken());
    expect(await helloV2('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.')).toEqual(invalidToken());
  });

  it('answers invalid_token for a token signed by a key Nextcloud did not publish', async () => {
    await setup.nextcloud.useHelloV2Keys('RS256');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ userdata: { displayname: 'Mallory' } })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(setup.nextcloud.url)
      .setSubject('admin')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(privateKey);
    expect(await helloV2(forged)).toEqual(invalidToken());
    // Capabilities were fresh: no refetch for a bad signature.
    expect(setup.nextcloud.count('capabilities')).toBe(1);
  });

  it('rejects HMAC tokens keyed with the published public key', async () => {
    await setup.nextcloud.useHelloV2Keys('RS256');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('admin')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(Buffer.from(setup.nextcloud.helloV2PublicKey!));
    expect(await helloV2(forged)).toEqual(invalidToken());
  });

  it('answers invalid_token when Nextcloud publishes no key', async () => {
    await setup.nextcloud.useHelloV2Keys('RS256');
    const token = await setup.nextcloud.issueHelloV2Token('alice');
    setup.nextcloud.setCapabilities({ signaling: { 'hello-v2-token-key': '' } });
    expect(await helloV2(token)).toEqual(invalidToken());
  });

  it('refetches cached capabilities once when Nextcloud rotated its key', async () => {
    await setup.nextcloud.useHelloV2Keys('RS256');
    expect((await helloV2(await setup.nextcloud.issueHelloV2Token('alice'))).type).toBe('hello');
    expect((await helloV2(await setup.nextcloud.issueHelloV2Token('alice'))).type).toBe('hello');
    expect(setup.nextcloud.count('capabilities')).toBe(1);

    await setup.nextcloud.useHelloV2Keys('ES256');
    const reply = await helloV2(await setup.nextcloud.issueHelloV2Token('bob'));
    expect(reply).toMatchObject({ type: 'hello', hello: { userid: 'bob' } });
    expect(setup.nextcloud.count('capabilities')).toBe(2);

    // Another rotation within the minute: the invalidation limit keeps the cached key.
    await setup.nextcloud.useHelloV2Keys('ES256');
    expect(await helloV2(await setup.nextcloud.issueHelloV2Token('carol'))).toEqual(invalidToken());
    expect(setup.nextcloud.count('capabilities')).toBe(2);
  });

  it('refetches cached capabilities once when they had no key yet', async () => {
    await (await connect()).hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('u') });
    // The v3 lookup of the hello 1.0 request cached capabilities without a key.
    expect(setup.nextcloud.count('capabilities')).toBe(1);
    await setup.nextcloud.useHelloV2Keys('EdDSA');
    const reply = await helloV2(await setup.nextcloud.issueHelloV2Token('dave'));
    expect(reply).toMatchObject({ type: 'hello', hello: { userid: 'dave' } });
    expect(setup.nextcloud.count('capabilities')).toBe(2);
  });

  it('coalesces the capabilities fetch of concurrent hellos', async () => {
    await setup.nextcloud.useHelloV2Keys('ES256');
    setup.nextcloud.setDelay('capabilities', 200);
    const replies = await Promise.all(
      ['a', 'b', 'c'].map(async (user) => helloV2(await setup.nextcloud.issueHelloV2Token(user), user)),
    );
    expect(replies.map((r) => r.hello?.userid)).toEqual(['a', 'b', 'c']);
    expect(setup.nextcloud.count('capabilities')).toBe(1);
  });
});

describe('signaling-v3 URL rewrite', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeEach(async () => {
    setup = await startTestSetup();
  });
  afterEach(async () => {
    while (clients.length) clients.pop()!.close();
    await setup.stop();
  });

  async function helloV1(userid: string) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    await client.next('welcome');
    return client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
  }

  it('sends the hello 1.0 auth request to /api/v3/ when Nextcloud advertises signaling-v3', async () => {
    setup.nextcloud.setCapabilities({ features: [...DEFAULT_FEATURES, 'signaling-v3'] });
    expect(setup.nextcloud.backendUrl).toContain('/spreed/api/v1/signaling/');
    expect((await helloV1('alice')).hello.userid).toBe('alice');
    const auth = setup.nextcloud.requests.filter((r) => r.type === 'auth');
    expect(auth.map((r) => r.path)).toEqual(['/ocs/v2.php/apps/spreed/api/v3/signaling/backend']);
    expect(auth[0]!.checksumValid).toBe(true);
    expect(setup.nextcloud.requests.map((r) => r.type)).toEqual(['capabilities', 'auth']);
  });

  it('keeps the v1 path without signaling-v3', async () => {
    expect((await helloV1('bob')).hello.userid).toBe('bob');
    expect((await helloV1('bob')).hello.userid).toBe('bob');
    const auth = setup.nextcloud.requests.filter((r) => r.type === 'auth');
    expect(auth.map((r) => r.path)).toEqual([
      '/ocs/v2.php/apps/spreed/api/v1/signaling/backend',
      '/ocs/v2.php/apps/spreed/api/v1/signaling/backend',
    ]);
    expect(setup.nextcloud.count('capabilities')).toBe(1);
  });

  it('keeps the v1 path when capabilities cannot be fetched', async () => {
    setup.nextcloud.setCapabilities({ features: [...DEFAULT_FEATURES, 'signaling-v3'] });
    setup.nextcloud.failNext('capabilities', 'http500');
    expect((await helloV1('carol')).hello.userid).toBe('carol');
    expect(setup.nextcloud.requests.find((r) => r.type === 'auth')!.path).toBe('/ocs/v2.php/apps/spreed/api/v1/signaling/backend');
  });
});
