import { createHmac } from 'node:crypto';
import { startTestSetup, type TestSetup } from './test-server';

/** `GET /turn/credentials` (fact sheet 7.6) over a real socket. */
describe('TURN credentials REST API', () => {
  let setup: TestSetup;
  let bare: TestSetup;

  beforeAll(async () => {
    setup = await startTestSetup({
      extraConfig: ['[turn]', 'apikey = test-turn-api-key', 'secret = test-turn-secret', 'servers = turn:127.0.0.1:3478?transport=udp, turns:127.0.0.1:5349'].join('\n'),
    });
    bare = await startTestSetup({ extraConfig: ['[turn]', 'apikey = test-turn-api-key'].join('\n') });
  });
  afterAll(async () => {
    await setup.stop();
    await bare.stop();
  });

  const get = (base: string, query: string) => fetch(`${base}turn/credentials${query}`);

  it('issues HMAC-SHA1 credentials valid for 24 h for the given user name', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await get(setup.baseUrl, '?service=turn&key=test-turn-api-key&username=alice');
    const after = Math.floor(Date.now() / 1000);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('x-spreed-signaling-features')!.split(', ')).toContain('hello-v2');
    const body = (await res.json()) as { username: string; password: string; ttl: number; uris: string[] };
    expect(body.ttl).toBe(86400);
    expect(body.uris).toEqual(['turn:127.0.0.1:3478?transport=udp', 'turns:127.0.0.1:5349']);
    const [expiry, name] = body.username.split(':');
    expect(name).toBe('alice');
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 86400);
    expect(Number(expiry)).toBeLessThanOrEqual(after + 86400);
    // What a TURN server with `static-auth-secret` computes to check the password.
    expect(body.password).toBe(createHmac('sha1', 'test-turn-secret').update(body.username).digest('base64'));
  });

  it('accepts the key as `api=` (as Janus sends it) and invents a 32-character user name', async () => {
    const res = await get(setup.baseUrl, '?service=turn&api=test-turn-api-key');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { username: string };
    expect(body.username).toMatch(/^\d+:[0-9a-f]{32}$/);
    const again = (await (await get(setup.baseUrl, '?service=turn&api=test-turn-api-key')).json()) as { username: string };
    expect(again.username.split(':')[1]).not.toBe(body.username.split(':')[1]);
  });

  it.each([
    ['no service', '?key=test-turn-api-key', 400, 'Invalid service and/or key sent.'],
    ['another service', '?service=stun&key=test-turn-api-key', 400, 'Invalid service and/or key sent.'],
    ['no key', '?service=turn', 400, 'Invalid service and/or key sent.'],
    ['a wrong key', '?service=turn&key=wrong', 403, 'Not allowed to access this service.'],
    ['a key prefix', '?service=turn&key=test-turn', 403, 'Not allowed to access this service.'],
  ])('answers a request with %s with %d', async (_what, query, status, text) => {
    const res = await get(setup.baseUrl, query);
    expect(res.status).toBe(status);
    expect(await res.text()).toBe(`${text}\n`);
    expect(res.headers.get('x-spreed-signaling-features')).toContain('welcome');
  });

  it('answers 404 without TURN servers', async () => {
    const res = await get(bare.baseUrl, '?service=turn&key=test-turn-api-key');
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('No TURN servers available.\n');
  });

  it('answers 405 to other methods', async () => {
    const res = await fetch(`${setup.baseUrl}turn/credentials?service=turn&key=test-turn-api-key`, { method: 'POST' });
    expect(res.status).toBe(405);
  });
});
