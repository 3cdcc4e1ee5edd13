import { createHmac, createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importSPKI, jwtVerify, decodeProtectedHeader, decodeJwt } from 'jose';
import { checksum } from './checksum';
import { startFakeNextcloud, type FakeNextcloud } from './fake-nextcloud';

/* eslint-disable @typescript-eslint/no-explicit-any -- free-form JSON */

const SECRET = 'the-secret';

/** Posts like the signaling server (Go `PerformJSONRequest`). */
async function post(url: string, body: unknown, opts: { secret?: string; random?: string; raw?: string } = {}): Promise<{ status: number; contentType: string | null; json: any; text: string }> {
  const data = opts.raw ?? JSON.stringify(body);
  const random = opts.random ?? 'a'.repeat(64);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'OCS-APIRequest': 'true',
      'Spreed-Signaling-Random': random,
      'Spreed-Signaling-Checksum': createHmac('sha256', opts.secret ?? SECRET).update(random + data).digest('hex'),
    },
    body: data,
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type'), json, text };
}

const ok = { status: 'ok', statuscode: 200, message: 'OK' };

describe('FakeNextcloud', () => {
  let nc: FakeNextcloud;

  beforeEach(async () => {
    nc = await startFakeNextcloud({ secret: SECRET });
  });
  afterEach(async () => {
    await nc.close();
  });

  it('has the documented urls', () => {
    expect(nc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(nc.backendUrl).toBe(`${nc.url}ocs/v2.php/apps/spreed/api/v1/signaling/backend`);
    expect(nc.secret).toBe(SECRET);
  });

  it('matches the documented checksum example', () => {
    expect(
      checksum(
        'afb6b872ab03e3376b31bf0af601067222ff7990335ca02d327071b73c0119c6',
        '{"type":"auth","auth":{"version":"1.0","params":{"hello":"world"}}}',
        'MySecretValue',
      ),
    ).toBe('3c4a69ff328299803ac2879614b707c807b4758cf19450755c60656cac46e3bc');
  });

  it('authenticates users with their ticket, in an OCS envelope', async () => {
    const params = nc.addUser('alice', { user: { displayname: 'Alice' } });
    const res = await post(nc.backendUrl, { type: 'auth', auth: { version: '1.0', params } });
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/json; charset=utf-8');
    expect(res.json).toEqual({ ocs: { meta: ok, data: { type: 'auth', auth: { version: '1.0', userid: 'alice', user: { displayname: 'Alice' } } } } });
    expect(nc.requests[0]).toMatchObject({ type: 'auth', checksumValid: true, body: { auth: { params } } });
    expect(nc.count('auth')).toBe(1);
  });

  it('refuses a bad checksum exactly like Talk', async () => {
    const params = nc.addUser('alice');
    for (const opts of [{ secret: 'wrong' }, { random: 'short' }]) {
      const res = await post(nc.backendUrl, { type: 'auth', auth: { version: '1.0', params } }, opts);
      expect(res.json).toEqual({
        ocs: { meta: ok, data: { type: 'error', error: { code: 'invalid_request', message: 'The request could not be authenticated.' } } },
      });
    }
    expect(nc.requests.map((r) => r.checksumValid)).toEqual([false, false]);
  });

  it('accepts the v2 and v3 paths', async () => {
    const params = nc.addUser('bob', { ticket: 'fixed' });
    expect(params).toEqual({ userid: 'bob', ticket: 'fixed' });
    for (const v of ['v2', 'v3']) {
      const res = await post(nc.backendUrl.replace('/v1/', `/${v}/`), { type: 'auth', auth: { version: '1.0', params } });
      expect(res.json.ocs.data.auth.userid).toBe('bob');
    }
  });

  it('rejects wrong tickets, unknown users and denied users', async () => {
    nc.addUser('alice');
    const bad = await post(nc.backendUrl, { type: 'auth', auth: { version: '1.0', params: { userid: 'alice', ticket: 'nope' } } });
    expect(bad.json.ocs.data).toEqual({ type: 'error', error: { code: 'invalid_ticket', message: 'The given ticket is not valid for this user.' } });
    const unknown = await post(nc.backendUrl, { type: 'auth', auth: { version: '1.0', params: { userid: 'x', ticket: 'y' } } });
    expect(unknown.json.ocs.data.error.code).toBe('invalid_ticket');
    const params = nc.addUser('carol');
    nc.denyUser('carol', { code: 'no_such_user', message: 'The given user does not exist.' });
    const denied = await post(nc.backendUrl, { type: 'auth', auth: { version: '1.0', params } });
    expect(denied.json.ocs.data).toEqual({ type: 'error', error: { code: 'no_such_user', message: 'The given user does not exist.' } });
  });

  it('accepts anonymous tickets it issued', async () => {
    const params = nc.anonymousParams();
    expect(params.userid).toBe('');
    const res = await post(nc.backendUrl, { type: 'auth', auth: { version: '1.0', params } });
    expect(res.json.ocs.data).toEqual({ type: 'auth', auth: { version: '1.0' } });
    const bad = await post(nc.backendUrl, { type: 'auth', auth: { version: '1.0', params: { userid: null, ticket: 'made-up' } } });
    expect(bad.json.ocs.data.error.code).toBe('invalid_ticket');
  });

  it('answers room joins and leaves', async () => {
    nc.setRoom('r1', { properties: { name: 'Room 1', type: 2 }, permissions: ['publish-audio'], sessionUserId: 'phone' });
    const join = await post(nc.backendUrl, { type: 'room', room: { version: '1.0', roomid: 'r1', userid: 'alice', sessionid: 's1' } });
    expect(join.json.ocs.data).toEqual({
      type: 'room',
      room: { version: '1.0', roomid: 'r1', properties: { name: 'Room 1', type: 2 }, permissions: ['publish-audio'], session: { userid: 'phone' } },
    });
    const leave = await post(nc.backendUrl, { type: 'room', room: { version: '1.0', roomid: 'r1', userid: 'alice', sessionid: 's1', action: 'leave' } });
    expect(leave.json.ocs.data.type).toBe('room');
    nc.setRoom('plain', {});
    const plain = await post(nc.backendUrl, { type: 'room', room: { version: '1.0', roomid: 'plain', userid: '', sessionid: 's' } });
    expect(plain.json.ocs.data.room).toEqual({ version: '1.0', roomid: 'plain', properties: { name: 'plain', type: 3 } });
  });

  it('refuses unknown rooms, scripted errors and users not allowed', async () => {
    const unknown = await post(nc.backendUrl, { type: 'room', room: { version: '1.0', roomid: 'nope', userid: 'a', sessionid: 's' } });
    expect(unknown.json.ocs.data).toEqual({ type: 'error', error: { code: 'no_such_room', message: 'The user is not invited to this room.' } });
    nc.setRoom('broken', { error: { code: 'room_join_failed', message: 'x' } });
    const broken = await post(nc.backendUrl, { type: 'room', room: { version: '1.0', roomid: 'broken', userid: 'a', sessionid: 's' } });
    expect(broken.json.ocs.data.error.code).toBe('room_join_failed');
    nc.setRoom('private', { allowedUsers: ['a'] });
    const a = await post(nc.backendUrl, { type: 'room', room: { version: '1.0', roomid: 'private', userid: 'a', sessionid: 's' } });
    expect(a.json.ocs.data.type).toBe('room');
    const b = await post(nc.backendUrl, { type: 'room', room: { version: '1.0', roomid: 'private', userid: 'b', sessionid: 's' } });
    expect(b.json.ocs.data.error.code).toBe('no_such_room');
  });

  it('answers ping, session and unknown types like Talk', async () => {
    const ping = await post(nc.backendUrl, { type: 'ping', ping: { version: '1.0', roomid: 'r', entries: [{ sessionid: 's' }] } });
    expect(ping.json.ocs.data).toEqual({ type: 'room', room: { version: '1.0' } });
    const session = await post(nc.backendUrl, { type: 'session', session: { version: '1.0', roomid: 'r', action: 'add', sessionid: 'v' } });
    expect(session.json.ocs.data).toEqual({ type: 'session', session: { version: '1.0', roomid: 'r' } });
    const other = await post(nc.backendUrl, { type: 'what' });
    expect(other.json.ocs.data.error.code).toBe('unknown_type');
  });

  it('serves capabilities', async () => {
    const res = await fetch(`${nc.url}ocs/v2.php/cloud/capabilities`, { headers: { 'OCS-APIRequest': 'true', Accept: 'application/json' } });
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as any;
    expect(body.ocs.meta).toEqual(ok);
    expect(body.ocs.data.capabilities.spreed.features).not.toContain('signaling-v3');
    expect(body.ocs.data.capabilities.spreed.config.signaling).toEqual({});
    nc.setCapabilities({ features: ['signaling-v3'], signaling: { 'session-ping-limit': 2 } });
    await nc.useHelloV2Keys('ES256');
    const after = (await (await fetch(`${nc.url}ocs/v2.php/cloud/capabilities`)).json()) as any;
    expect(after.ocs.data.capabilities.spreed.features).toEqual(['signaling-v3']);
    expect(after.ocs.data.capabilities.spreed.config.signaling).toEqual({ 'session-ping-limit': 2, 'hello-v2-token-key': nc.helloV2PublicKey });
    expect(nc.count('capabilities')).toBe(2);
  });

  it.each(['RS256', 'ES256'] as const)('issues %s hello v2 tokens verifiable with the published PEM key', async (alg) => {
    await nc.useHelloV2Keys(alg);
    const token = await nc.issueHelloV2Token('alice');
    const { payload, protectedHeader } = await jwtVerify(token, await importSPKI(nc.helloV2PublicKey!, alg));
    expect(protectedHeader.alg).toBe(alg);
    expect(payload).toMatchObject({ iss: nc.url, sub: 'alice', userdata: { displayname: 'alice' } });
    expect(payload.exp! - payload.iat!).toBe(60);
  });

  it('publishes EdDSA keys as raw base64 and honours the time offsets', async () => {
    await nc.useHelloV2Keys('EdDSA');
    const raw = Buffer.from(nc.helloV2PublicKey!, 'base64');
    expect(raw).toHaveLength(32);
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    const token = await nc.issueHelloV2Token('', { expiresInSec: 10, issuedAtOffsetSec: -100, notBeforeOffsetSec: 5, userdata: { a: 1 } });
    expect(decodeProtectedHeader(token).alg).toBe('EdDSA');
    const claims = decodeJwt(token);
    expect(claims.sub).toBeUndefined();
    expect(claims.userdata).toEqual({ a: 1 });
    expect(claims.exp! - claims.iat!).toBe(10);
    expect(claims.iat!).toBeLessThan(Date.now() / 1000 - 90);
    expect(claims.nbf!).toBeGreaterThan(Date.now() / 1000);
    await expect(jwtVerify(token, key)).rejects.toThrow(); // expired
    const { payload } = await jwtVerify(await nc.issueHelloV2Token(''), key);
    expect(payload.sub).toBeUndefined();
    expect(payload.userdata).toBeUndefined();
  });

  it('delays and fails scripted requests', async () => {
    const params = nc.addUser('alice');
    const auth = { type: 'auth', auth: { version: '1.0', params } };
    nc.setDelay('auth', 200);
    const started = Date.now();
    await post(nc.backendUrl, auth);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    nc.setDelay('auth', 0);

    nc.failNext('auth', 'http500');
    nc.failNext('auth', 'garbage');
    nc.failNext('auth', 'wrong-type');
    nc.failNext('auth', 'ocs-429');
    nc.failNext('auth', 'close');
    const r500 = await post(nc.backendUrl, auth);
    expect(r500.status).toBe(500);
    expect(r500.contentType).toMatch(/^text\/html/);
    const garbage = await post(nc.backendUrl, auth);
    expect(garbage.json).toBeUndefined();
    expect(garbage.contentType).toMatch(/^application\/json/);
    const wrong = await post(nc.backendUrl, auth);
    expect(wrong.json.ocs.data.type).toBe('unexpected');
    const r429 = await post(nc.backendUrl, auth);
    expect(r429.status).toBe(429);
    expect(r429.json.ocs.meta.statuscode).toBe(429);
    await expect(post(nc.backendUrl, auth)).rejects.toThrow();
    const fine = await post(nc.backendUrl, auth);
    expect(fine.json.ocs.data.auth.userid).toBe('alice');
  });

  it('waits for and clears requests', async () => {
    const waiting = nc.waitForRequest((r) => r.type === 'ping', 2_000);
    await post(nc.backendUrl, { type: 'ping', ping: { version: '1.0', roomid: 'r', entries: [] } });
    expect((await waiting).body.ping.roomid).toBe('r');
    await expect(nc.waitForRequest((r) => r.type === 'ping')).resolves.toBeDefined();
    nc.clearRequests();
    expect(nc.requests).toHaveLength(0);
    await expect(nc.waitForRequest((r) => r.type === 'ping', 50)).rejects.toThrow(/timed out after 50 ms/);
  });

  describe('backendRequest', () => {
    let server: Server;
    let seen: { url: string; headers: Record<string, unknown>; body: string }[];
    let base: string;
    beforeEach(async () => {
      seen = [];
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          seen.push({ url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
          res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
          res.end('{}');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterEach(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('signs like the BackendNotifier', async () => {
      const res = await nc.backendRequest(base, 'room 1', { type: 'update', update: { userids: ['a'] } });
      expect(res).toMatchObject({ status: 200, body: '{}' });
      const req = seen[0]!;
      expect(req.url).toBe('/api/v1/room/room%201');
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.headers['ocs-apirequest']).toBe('true');
      expect(req.headers['spreed-signaling-backend']).toBe(nc.url);
      const random = req.headers['spreed-signaling-random'] as string;
      expect(random).toMatch(/^[0-9a-f]{64}$/);
      expect(req.headers['spreed-signaling-checksum']).toBe(createHmac('sha256', SECRET).update(random + req.body).digest('hex'));
    });

    it('supports overrides', async () => {
      await nc.backendRequest(base.slice(0, -1), 'r', 'not json', { secret: 'other', backendHeader: '', contentType: 'text/plain' });
      const req = seen[0]!;
      expect(req.url).toBe('/api/v1/room/r');
      expect(req.body).toBe('not json');
      expect(req.headers['spreed-signaling-backend']).toBeUndefined();
      expect(req.headers['content-type']).toBe('text/plain');
      expect(req.headers['spreed-signaling-checksum']).toBe(checksum(req.headers['spreed-signaling-random'] as string, 'not json', 'other'));
    });
  });
});

describe('FakeNextcloud --open', () => {
  it('accepts any user and ticket and any room', async () => {
    const nc = await startFakeNextcloud({ secret: SECRET, open: true });
    try {
      const user = await post(nc.backendUrl, { type: 'auth', auth: { version: '1.0', params: { userid: 'anyone', ticket: 'whatever' } } });
      expect(user.json.ocs.data.auth).toEqual({ version: '1.0', userid: 'anyone', user: { displayname: 'anyone' } });
      const guest = await post(nc.backendUrl, { type: 'auth', auth: { version: '1.0', params: { userid: '', ticket: 'x' } } });
      expect(guest.json.ocs.data.auth).toEqual({ version: '1.0' });
      const room = await post(nc.backendUrl, { type: 'room', room: { version: '1.0', roomid: 'abc', userid: '', sessionid: 's' } });
      expect(room.json.ocs.data.room.properties).toEqual({ name: 'abc', type: 3 });
      const badSum = await post(nc.backendUrl, { type: 'ping' }, { secret: 'wrong' });
      expect(badSum.json.ocs.data.error.code).toBe('invalid_request');
    } finally {
      await nc.close();
    }
  });
});
