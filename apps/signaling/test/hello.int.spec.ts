import WebSocket from 'ws';
import { TestClient, waitFor } from '@talk-signaling/testing';
import { INTERNAL_SECRET, startTestSetup, type TestSetup } from './test-server';


jest.setTimeout(20_000);

describe('welcome and hello', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    setup = await startTestSetup({ throttleSleep: async () => undefined, backendConfig: '' });
  });
  afterAll(async () => {
    await setup.stop();
  });
  afterEach(() => {
    while (clients.length) clients.pop()!.close();
  });

  async function connect(): Promise<TestClient> {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    return client;
  }

  /** After bad input the server must still serve a fresh client end to end. */
  async function expectServerStillServes(): Promise<void> {
    const other = await connect();
    await other.next('welcome');
    const reply = await other.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('still-there') });
    expect(reply.type).toBe('hello');
  }

  it('sends the welcome message first, with version and sorted features', async () => {
    const client = await connect();
    const welcome = await client.next('welcome');
    expect(welcome).toEqual({ type: 'welcome', welcome: { version: expect.any(String), features: expect.any(Array) } });
    expect(welcome.welcome.features).toContain('welcome');
    expect([...welcome.welcome.features].sort()).toEqual(welcome.welcome.features);
    expect(Object.keys(welcome)).toEqual(['type', 'welcome']);
  });

  it('authenticates a user with hello 1.0 through Nextcloud', async () => {
    const client = await connect();
    await client.next('welcome');
    const params = setup.nextcloud.addUser('alice', { user: { displayname: 'Alice' } });
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params, id: 'h1' });
    expect(reply).toEqual({
      id: 'h1',
      type: 'hello',
      hello: {
        version: '1.0',
        sessionid: expect.stringMatching(/^[A-Za-z0-9_-]{40,}$/),
        resumeid: expect.stringMatching(/^[A-Za-z0-9_-]{40,}$/),
        userid: 'alice',
        server: { version: expect.any(String), features: expect.arrayContaining(['welcome']) },
      },
    });
    expect(reply.hello.sessionid).not.toEqual(reply.hello.resumeid);
    const auth = setup.nextcloud.requests.filter((r) => r.type === 'auth').at(-1)!;
    expect(auth.checksumValid).toBe(true);
    expect(auth.body).toEqual({ type: 'auth', auth: { version: '1.0', params } });
    expect(auth.headers['ocs-apirequest']).toBe('true');
    expect(auth.headers['x-spreed-signaling-features']).toEqual(expect.stringContaining('welcome'));
  });

  it('creates an anonymous session with an empty userid', async () => {
    const client = await connect();
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.anonymousParams() });
    expect(reply.type).toBe('hello');
    expect(reply.hello.userid).toBe('');
  });

  it('authenticates internal clients by HMAC of the random string', async () => {
    const client = await connect();
    const reply = await client.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET, id: 'i1' });
    expect(reply).toMatchObject({ id: 'i1', type: 'hello', hello: { version: '1.0', userid: '' } });
    expect(setup.server.sessions.byPublicId(reply.hello.sessionid)?.clientType).toBe('internal');
  });

  it('refuses an unknown backend URL with invalid_backend', async () => {
    const client = await connect();
    const reply = await client.hello({ url: 'https://unknown.example.com/ocs/v2.php/x', params: { userid: 'a', ticket: 't' }, id: 'x' });
    expect(reply).toEqual({
      id: 'x',
      type: 'error',
      error: { code: 'invalid_backend', message: 'The backend URL is not supported.' },
    });
    await expectServerStillServes();
  });

  it('passes Nextcloud error objects through verbatim', async () => {
    setup.nextcloud.addUser('mallory');
    setup.nextcloud.denyUser('mallory');
    const client = await connect();
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: { userid: 'mallory', ticket: 'wrong' } });
    expect(reply.type).toBe('error');
    expect(reply.error).toEqual({ code: 'invalid_ticket', message: 'The given ticket is not valid for this user.' });
  });

  it('answers auth_failed when Nextcloud answers with another type', async () => {
    setup.nextcloud.failNext('auth', 'wrong-type');
    const client = await connect();
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('bob') });
    expect(reply.error).toEqual({ code: 'auth_failed', message: 'The user could not be authenticated.' });
  });

  it.each(['http500', 'garbage', 'close', 'ocs-429'] as const)('answers internal_error when Nextcloud fails (%s)', async (how) => {
    setup.nextcloud.failNext('auth', how);
    const client = await connect();
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('carol') });
    expect(reply.type).toBe('error');
    expect(reply.error.code).toBe('internal_error');
    expect(typeof reply.error.message).toBe('string');
    await expectServerStillServes();
  });

  it('rejects unsupported hello versions and malformed hellos', async () => {
    const client = await connect();
    await client.next('welcome');
    client.send({ id: 'v', type: 'hello', hello: { version: '3.0', auth: { url: setup.nextcloud.backendUrl, params: {} } } });
    expect(await client.expectError('invalid_hello_version')).toEqual({
      id: 'v',
      type: 'error',
      error: { code: 'invalid_hello_version', message: 'The hello version is not supported.' },
    });
    client.send({ id: 'f', type: 'hello', hello: { version: '1.0', auth: { type: 'nonsense', url: setup.nextcloud.backendUrl, params: { a: 1 } } } });
    expect((await client.expectError('invalid_format')).id).toBe('f');
    client.send({ id: 'p', type: 'hello', hello: { version: '1.0', auth: { url: setup.nextcloud.backendUrl } } });
    expect((await client.expectError('invalid_format')).id).toBe('p');
    // The connection is still usable for a proper hello.
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('dave') });
    expect(reply.type).toBe('hello');
  });

  it('rejects internal clients with a wrong token or unknown backend', async () => {
    const client = await connect();
    const bad = await client.helloInternal({ backend: setup.nextcloud.url, secret: 'not-the-secret' });
    expect(bad.error).toEqual({ code: 'invalid_token', message: 'The passed token is invalid.' });
    const shortRandom = await client.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET, random: 'too-short' });
    expect(shortRandom.error.code).toBe('invalid_token');
    const backend = await client.helloInternal({ backend: 'https://elsewhere.example.com/', secret: INTERNAL_SECRET });
    expect(backend.error.code).toBe('invalid_backend');
  });

  it('blocks an address after ten failed internal logins with too_many_requests', async () => {
    const client = await TestClient.connect(setup.wsUrl, { headers: { 'X-Real-IP': '198.51.100.77' } });
    clients.push(client);
    for (let i = 0; i < 10; i++) {
      const reply = await client.helloInternal({ backend: setup.nextcloud.url, secret: 'wrong' });
      expect(reply.error.code).toBe('invalid_token');
    }
    const blocked = await client.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET });
    expect(blocked.error).toEqual({ code: 'too_many_requests', message: 'Too many requests.' });
    // Other addresses are not affected.
    const other = await connect();
    expect((await other.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET })).type).toBe('hello');
  });

  it('answers hello_expected to anything before hello, echoing the id', async () => {
    const client = await connect();
    await client.next('welcome');
    client.send({ id: 'r1', type: 'room', room: { roomid: 'abc' } });
    expect(await client.next('error')).toEqual({
      id: 'r1',
      type: 'error',
      error: { code: 'hello_expected', message: 'Expected Hello request.' },
    });
  });

  it('answers malformed JSON with invalid_format (no id) and keeps the connection', async () => {
    const client = await connect();
    await client.next('welcome');
    client.sendRaw('{"type":"hello",');
    expect(await client.next('error')).toEqual({ type: 'error', error: { code: 'invalid_format', message: 'Invalid data format.' } });
    client.sendRaw('[1,2,3]');
    expect((await client.expectError('invalid_format')).id).toBeUndefined();
    client.send({ id: 'e', type: '' });
    expect((await client.expectError('invalid_format')).id).toBe('e');
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('erin') });
    expect(reply.type).toBe('hello');
    await expectServerStillServes();
  });

  it('answers binary frames with invalid_format and keeps the connection', async () => {
    const client = await connect();
    await client.next('welcome');
    client.sendRaw(Buffer.from('{"type":"bye"}'), { binary: true });
    expect(await client.next('error')).toEqual({ type: 'error', error: { code: 'invalid_format', message: 'Invalid data format.' } });
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('frank') });
    expect(reply.type).toBe('hello');
  });

  it('closes the connection with 1009 on frames over 64 KiB', async () => {
    const client = await connect();
    await client.next('welcome');
    client.sendRaw(JSON.stringify({ type: 'hello', pad: 'x'.repeat(65 * 1024) }));
    expect((await client.closed()).code).toBe(1009);
    await expectServerStillServes();
  });

  it('ignores unknown message types after hello and a second hello', async () => {
    const client = await connect();
    await client.next('welcome');
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('gina') });
    expect(reply.type).toBe('hello');
    client.send({ id: 'u', type: 'something-new', 'something-new': {} });
    client.send({ id: 'h2', type: 'hello', hello: { version: '1.0', auth: { url: setup.nextcloud.backendUrl, params: { a: 1 } } } });
    await client.expectNoMessage(300);
  });

  it('answers a client bye without a bye object, then closes (1005) and ends the session', async () => {
    const client = await connect();
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('hank') });
    const sessionId = reply.hello.sessionid;
    expect(setup.server.sessions.byPublicId(sessionId)).toBeDefined();
    await client.next('welcome');
    client.send({ id: 'b1', type: 'bye', bye: {} });
    expect(await client.next('bye')).toEqual({ id: 'b1', type: 'bye' });
    expect((await client.closed()).code).toBe(1005);
    expect(setup.server.sessions.byPublicId(sessionId)).toBeUndefined();
    // The session cannot be resumed after bye.
    const again = await connect();
    expect((await again.resume(reply.hello.resumeid)).error.code).toBe('no_such_session');
  });

  it('serves /api/v1/welcome with upstream shape and headers', async () => {
    const res = await fetch(`${setup.baseUrl}api/v1/welcome`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('x-spreed-signaling-features')).toContain('welcome');
    expect(await res.json()).toEqual({ 'nextcloud-spreed-signaling': 'Welcome', version: expect.any(String) });
  });

  it('serves health and readiness', async () => {
    expect((await fetch(`${setup.baseUrl}health`)).status).toBe(200);
    expect((await fetch(`${setup.baseUrl}ready`)).status).toBe(200);
    expect((await fetch(`${setup.baseUrl}nothing-here`)).status).toBe(404);
  });

  it('exposes hub metrics and stats to loopback only', async () => {
    const metrics = await (await fetch(`${setup.baseUrl}metrics`)).text();
    expect(metrics).toMatch(/signaling_hub_sessions\{backend="nc1",clienttype="client"\} \d+/);
    expect(metrics).toMatch(/signaling_hub_sessions_total\{backend="nc1",clienttype="internal"\} \d+/);
    expect(metrics).toContain('signaling_backend_current 1');
    const stats = await fetch(`${setup.baseUrl}api/v1/stats`);
    expect(stats.status).toBe(200);
    expect(await stats.json()).toEqual({ rooms: 0, sessions: setup.server.sessions.size });
    // A non-allowed client address (through a trusted proxy on loopback) is refused.
    const refused = await fetch(`${setup.baseUrl}metrics`, { headers: { 'X-Real-IP': '203.0.113.9' } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toBe('Authentication check failed\n');
  });

  it('sends the features header on the WebSocket upgrade response', async () => {
    const ws = new WebSocket(setup.wsUrl);
    const headers = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
      ws.once('upgrade', (res) => resolve(res.headers));
      ws.once('error', reject);
    });
    ws.close();
    expect(headers['x-spreed-signaling-features']).toContain('welcome');
  });

  it('counts sessions in the gauge and removes them on bye', async () => {
    const client = await connect();
    const before = setup.server.sessions.size;
    await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('ivy') });
    expect(setup.server.sessions.size).toBe(before + 1);
    await client.bye();
    await waitFor(() => setup.server.sessions.size === before, { timeout: 2_000, name: 'session removed' });
  });
});

describe('hello timeout, session limits, internal clients disabled', () => {
  it('says bye hello_timeout and closes when no hello arrives in time', async () => {
    const setup = await startTestSetup({ timeouts: { helloMs: 200 } });
    try {
      const client = await TestClient.connect(setup.wsUrl);
      await client.next('welcome');
      expect(await client.next('bye', 2_000)).toEqual({ type: 'bye', bye: { reason: 'hello_timeout' } });
      expect((await client.closed()).code).toBe(1005);
    } finally {
      await setup.stop();
    }
  });

  it('does not cut a client off while Nextcloud is still checking its hello', async () => {
    const setup = await startTestSetup({ timeouts: { helloMs: 200 } });
    try {
      setup.nextcloud.setDelay('auth', 600);
      const client = await TestClient.connect(setup.wsUrl);
      await client.next('welcome');
      const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('slow-auth') });
      expect(reply.type).toBe('hello');
      expect(reply.hello.sessionid).toEqual(expect.any(String));
      client.close();
    } finally {
      await setup.stop();
    }
  });

  it('re-arms the hello timer after a failed hello', async () => {
    const setup = await startTestSetup({ timeouts: { helloMs: 400 } });
    try {
      const client = await TestClient.connect(setup.wsUrl);
      await client.next('welcome');
      await new Promise((r) => setTimeout(r, 250));
      const failed = await client.hello({ url: 'https://unknown.example/', params: { a: 1 } });
      expect(failed.error.code).toBe('invalid_backend');
      const started = Date.now();
      expect((await client.next('bye', 2_000)).bye.reason).toBe('hello_timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    } finally {
      await setup.stop();
    }
  });

  it('refuses client sessions beyond the backend session limit, but not internal ones', async () => {
    const setup = await startTestSetup({ backendConfig: 'sessionlimit = 1' });
    try {
      const a = await TestClient.connect(setup.wsUrl);
      expect((await a.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('a') })).type).toBe('hello');
      const b = await TestClient.connect(setup.wsUrl);
      expect((await b.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('b') })).error).toEqual({
        code: 'session_limit_exceeded',
        message: 'Too many sessions connected for this backend.',
      });
      const internal = await TestClient.connect(setup.wsUrl);
      expect((await internal.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET })).type).toBe('hello');
      const metrics = await setup.server.registry.metrics();
      expect(metrics).toContain('signaling_backend_session_limit_exceeded_total{backend="nc1"} 1');
      // Once the first leaves, there is room again.
      await a.bye();
      await waitFor(() => setup.server.sessions.clientCount('nc1') === 0, { timeout: 2_000, name: 'first session gone' });
      expect((await b.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('b2') })).type).toBe('hello');
      for (const c of [a, b, internal]) c.close();
    } finally {
      await setup.stop();
    }
  });

  it('answers invalid_client_type to internal clients when no internal secret is configured', async () => {
    const setup = await startTestSetup({ internalSecret: '' });
    try {
      const client = await TestClient.connect(setup.wsUrl);
      const reply = await client.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET });
      expect(reply.error).toEqual({ code: 'invalid_client_type', message: 'The client type is not supported.' });
      client.close();
    } finally {
      await setup.stop();
    }
  });
});
