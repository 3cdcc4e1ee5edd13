import { TestClient, waitFor } from '@talk-signaling/testing';
import { startTestSetup, type TestSetup } from './test-server';


jest.setTimeout(20_000);

interface HelloPayload {
  sessionid: string;
  resumeid: string;
  userid: string;
  server: unknown;
}

describe('resume', () => {
  let setup: TestSetup;

  beforeAll(async () => {
    setup = await startTestSetup({ timeouts: { resumeWindowMs: 1_500 }, throttleSleep: async () => undefined });
  });
  afterAll(async () => {
    await setup.stop();
  });

  async function newSession(userid: string): Promise<{ client: TestClient; hello: HelloPayload }> {
    const client = await TestClient.connect(setup.wsUrl);
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
    expect(reply.type).toBe('hello');
    await client.next('welcome');
    return { client, hello: reply.hello };
  }

  it('resumes a detached session with the full hello response and replays queued messages in order', async () => {
    const { client, hello } = await newSession('rita');
    client.close();
    const session = setup.server.sessions.byPublicId(hello.sessionid)!;
    await waitFor(() => session.connection === undefined, { timeout: 2_000, name: 'session detached' });
    // Deliveries while nobody is connected are queued (what rooms and messages will send).
    const queued = [1, 2, 3].map((n) => JSON.stringify({ type: 'event', event: { target: 'room', type: 'message', message: { roomid: 'r', data: { n } } } }));
    for (const frame of queued) session.send(frame);
    expect(session.pendingCount).toBe(3);

    const again = await TestClient.connect(setup.wsUrl);
    await again.next('welcome');
    const reply = await again.resume(hello.resumeid, { id: 'r1' });
    expect(reply).toEqual({
      id: 'r1',
      type: 'hello',
      hello: {
        version: '1.0',
        sessionid: hello.sessionid,
        resumeid: hello.resumeid,
        userid: 'rita',
        server: hello.server,
      },
    });
    for (const n of [1, 2, 3]) expect((await again.next('event')).event.message.data).toEqual({ n });
    expect(session.pendingCount).toBe(0);
    const metrics = await setup.server.registry.metrics();
    expect(metrics).toMatch(/signaling_hub_sessions_resume_total\{backend="nc1",clienttype="client"\} [1-9]/);
    again.close();
  });

  it('keeps only one chat refresh while detached', async () => {
    const { client, hello } = await newSession('sam');
    client.close();
    const session = setup.server.sessions.byPublicId(hello.sessionid)!;
    await waitFor(() => session.connection === undefined, { timeout: 2_000, name: 'session detached' });
    const refresh = JSON.stringify({ type: 'event', event: { target: 'room', type: 'message', message: { roomid: 'r', data: { type: 'chat', chat: { refresh: true } } } } });
    session.send(refresh, true);
    session.send(refresh, true);
    session.send('{"type":"event","event":{"target":"room","type":"leave","leave":["x"]}}');
    expect(session.pendingCount).toBe(2);
    const again = await TestClient.connect(setup.wsUrl);
    await again.resume(hello.resumeid);
    await again.next('welcome');
    expect((await again.next('event')).event.type).toBe('message');
    expect((await again.next('event')).event.type).toBe('leave');
    again.close();
  });

  it('tells the previous connection bye session_resumed when another one takes over', async () => {
    const { client, hello } = await newSession('tom');
    const other = await TestClient.connect(setup.wsUrl);
    const reply = await other.resume(hello.resumeid);
    expect(reply.type).toBe('hello');
    expect(await client.next('bye')).toEqual({ type: 'bye', bye: { reason: 'session_resumed' } });
    expect((await client.closed()).code).toBe(1005);
    // The session lives on with the new connection.
    const session = setup.server.sessions.byPublicId(hello.sessionid)!;
    expect(session.closed).toBe(false);
    session.send('{"type":"event","event":{"target":"room","type":"leave","leave":["y"]}}');
    await other.next('welcome');
    expect((await other.next('event')).event.leave).toEqual(['y']);
    other.close();
  });

  it('answers no_such_session for unknown and forged resume ids', async () => {
    const client = await TestClient.connect(setup.wsUrl);
    await client.next('welcome');
    expect(await client.resume('not-a-session', { id: 'x' })).toEqual({
      id: 'x',
      type: 'error',
      error: { code: 'no_such_session', message: 'The session to resume does not exist.' },
    });
    // A public id is not a resume id.
    const { hello } = await newSession('uma');
    expect((await client.resume(hello.sessionid)).error.code).toBe('no_such_session');
    // After a failed resume a normal hello still works on the same connection.
    expect((await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('uma2') })).type).toBe('hello');
    const metrics = await setup.server.registry.metrics();
    expect(metrics).toMatch(/signaling_hub_sessions_resume_failed_total [2-9]/);
    client.close();
  });

  it('expires a detached session after the resume window', async () => {
    const { client, hello } = await newSession('vic');
    client.close();
    await waitFor(() => setup.server.sessions.byPublicId(hello.sessionid) === undefined, { timeout: 4_000, name: 'session expired' });
    const again = await TestClient.connect(setup.wsUrl);
    expect((await again.resume(hello.resumeid)).error.code).toBe('no_such_session');
    const metrics = await setup.server.registry.metrics();
    expect(metrics).toMatch(/signaling_hub_sessions_expired_total\{backend="nc1",clienttype="client"\} [1-9]/);
    again.close();
  });
});
