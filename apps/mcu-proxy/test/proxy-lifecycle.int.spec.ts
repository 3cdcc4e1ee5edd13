 
import { FaultProxy, startJanus, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { JanusInspector } from './janus-inspector';
import { startTestProxy, type TestProxy } from './proxy-harness';
import { makeTokenIdentity, proxyToken, ProxyTestClient } from './proxy-test-client';

jest.setTimeout(40_000);

/** Sessions, expiry, resume, Janus loss and graceful shutdown: who owns what in Janus. */
describe('mcu-proxy ownership of Janus objects', () => {
  const server1 = makeTokenIdentity('server1');
  let janus: ManagedProcess;
  let proxy: TestProxy;
  let inspector: JanusInspector;
  const clients: ProxyTestClient[] = [];

  const connect = async (): Promise<ProxyTestClient> => {
    const client = await ProxyTestClient.connect(proxy.wsUrl);
    clients.push(client);
    return client;
  };
  const helloed = async (): Promise<{ client: ProxyTestClient; sessionid: string }> => {
    const client = await connect();
    const hello = await client.hello(await proxyToken(server1));
    expect(hello.type).toBe('hello');
    return { client, sessionid: hello.hello.sessionid };
  };
  const roomsOf = async (clientId: string) => (await inspector.publisherRooms()).filter((r) => r.description.startsWith(`${clientId}|`));

  beforeAll(async () => {
    janus = await startJanus();
    proxy = await startTestProxy({
      janusUrl: janus.url,
      signaling: [server1],
      extra: '[mcu]\ntimeout = 1',
      // Short expiry so the "not resumed" path runs in a test; checked every 100 ms.
      options: { sessionExpiryMs: 1_500, expireIntervalMs: 100, pingIntervalMs: 200, janusReconnect: { initialMs: 100, maxMs: 200 } },
    });
    await waitFor(() => proxy.app.backend.connected, { timeout: 10_000, name: 'proxy connected to janus' });
    inspector = await JanusInspector.connect(janus.url);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await inspector?.close();
    await proxy?.stop();
    await janus?.stop();
  });

  it('a dropped connection resumed within the expiry keeps its publishers and gets the queued events', async () => {
    const { client, sessionid } = await helloed();
    const a = (await client.command({ type: 'create-publisher', sid: '1', streamType: 'video' })).command.id as string;
    const b = (await client.command({ type: 'create-publisher', sid: '2', streamType: 'screen' })).command.id as string;
    client.close();
    await waitFor(() => !proxy.app.proxy.sessions.get(sessionid)?.connected, { timeout: 5_000, name: 'session detached' });
    // While away: publisher b's room is destroyed from outside → publisher-closed is queued.
    const roomB = (await roomsOf(b))[0]!;
    await inspector.handle.request({ request: 'destroy', room: roomB.room });
    await waitFor(() => proxy.app.proxy.clients.get(b) === undefined, { timeout: 5_000, name: 'publisher b dropped' });

    const again = await connect();
    const resumed = await again.resume(sessionid);
    expect(resumed).toMatchObject({ type: 'hello', hello: { sessionid } });
    expect((await again.event('publisher-closed')).event).toEqual({ type: 'publisher-closed', clientId: b });
    expect(await roomsOf(a)).toHaveLength(1);
    // A second connection resuming the same session kicks the first one.
    const third = await connect();
    expect((await third.resume(sessionid)).type).toBe('hello');
    expect(await again.raw.waitForMessage((m) => m.type === 'bye')).toEqual({ type: 'bye', bye: { reason: 'session_resumed' } });
    expect((await third.command({ type: 'delete-publisher', clientId: a })).command).toEqual({ id: a });
    await waitFor(async () => (await roomsOf(a)).length === 0, { timeout: 5_000, name: 'room a destroyed' });
  });

  it('a session not resumed within the expiry takes its publishers and subscribers with it', async () => {
    const { client, sessionid } = await helloed();
    const pub = (await client.command({ type: 'create-publisher', sid: '1', streamType: 'video' })).command.id as string;
    const sub = await client.command({ type: 'create-subscriber', publisherId: pub, streamType: 'video' });
    expect(sub.type).toBe('command');
    const handlesBefore = proxy.app.backend.session!.handles.size;
    expect(await roomsOf(pub)).toHaveLength(1);
    client.close();
    await waitFor(() => !proxy.app.proxy.sessions.has(sessionid), { timeout: 10_000, name: 'session expired' });
    await waitFor(async () => (await roomsOf(pub)).length === 0, { timeout: 5_000, name: 'room destroyed after expiry' });
    await waitFor(() => proxy.app.backend.session!.handles.size === handlesBefore - 2, { timeout: 5_000, name: 'handles detached' });
    expect(proxy.app.proxy.clients.size).toBe(0);
    const late = await connect();
    expect((await late.resume(sessionid)).error).toEqual({ code: 'no_such_session', message: 'The session to resume does not exist.' });
  });

  it('a signaling server that stops answering pings is disconnected, and its session expires with its rooms', async () => {
    const port = Number(new URL(proxy.httpUrl).port);
    const link = await FaultProxy.start({ port });
    try {
      const client = await ProxyTestClient.connect(`ws://127.0.0.1:${link.port}/proxy`);
      clients.push(client);
      const hello = await client.hello(await proxyToken(server1));
      const sessionid = hello.hello.sessionid as string;
      const pub = (await client.command({ type: 'create-publisher', sid: '1', streamType: 'video' })).command.id as string;
      // A black hole towards the proxy: no pongs (nor anything else) arrive any more.
      link.pause('to');
      await waitFor(() => proxy.app.proxy.sessions.get(sessionid)?.connected === false, { timeout: 5_000, name: 'dead socket dropped' });
      await waitFor(() => !proxy.app.proxy.sessions.has(sessionid), { timeout: 10_000, name: 'session expired' });
      await waitFor(async () => (await roomsOf(pub)).length === 0, { timeout: 5_000, name: 'room destroyed' });
    } finally {
      await link.close();
    }
  });

  it('bye closes the session and destroys its rooms', async () => {
    const { client, sessionid } = await helloed();
    const pub = (await client.command({ type: 'create-publisher', sid: '1', streamType: 'screen' })).command.id as string;
    client.send({ type: 'bye', bye: {} });
    expect(await client.raw.waitForMessage((m) => m.type === 'bye')).toEqual({ type: 'bye', bye: { reason: 'session_closed' } });
    await waitFor(async () => (await roomsOf(pub)).length === 0, { timeout: 5_000, name: 'room destroyed after bye' });
    expect(proxy.app.proxy.sessions.has(sessionid)).toBe(false);
  });

  it('subscribing to a publisher that does not exist ends with the timeout error', async () => {
    const { client } = await helloed();
    const reply = await client.command({ type: 'create-subscriber', publisherId: 'no-such-publisher', streamType: 'video' });
    expect(reply.error).toEqual({ code: 'timeout', message: 'Timeout creating subscriber.' });
    // requestoffer on a publisher without media: Janus answers 428 until the timeout.
    const pub = (await client.command({ type: 'create-publisher', sid: '1', streamType: 'video' })).command.id as string;
    const sub = (await client.command({ type: 'create-subscriber', publisherId: pub, streamType: 'video' })).command.id as string;
    const offer = await client.payload({ type: 'requestoffer', clientId: sub });
    expect(offer.error.code).toBe('internal_error');
    await client.command({ type: 'delete-subscriber', clientId: sub });
    await client.command({ type: 'delete-publisher', clientId: pub });
  });

  it('bounds the requests of one connection in progress: the excess gets an error at once', async () => {
    const { client } = await helloed();
    // Each waits the whole [mcu] timeout (1 s) for a publisher that never comes.
    for (let i = 0; i < 140; i++) client.send({ id: `flood-${i}`, type: 'command', command: { type: 'create-subscriber', publisherId: 'nobody', streamType: 'video' } });
    const codes: string[] = [];
    while (codes.length < 140) {
      const reply = await client.next(undefined, 10_000);
      if (typeof reply.id === 'string' && reply.id.startsWith('flood-')) codes.push(reply.error?.code as string);
    }
    expect(codes.filter((c) => c === 'timeout')).toHaveLength(128);
    expect(codes.filter((c) => c === 'bad_request')).toHaveLength(12);
    // Afterwards the connection works as before.
    expect((await client.command({ type: 'create-publisher', sid: '1', streamType: 'video' })).type).toBe('command');
  });

  it('Janus going away: backend-disconnected, clients dropped, /ready 503; back: backend-connected, publishing works again', async () => {
    const { client } = await helloed();
    const pub = (await client.command({ type: 'create-publisher', sid: '1', streamType: 'video' })).command.id as string;
    janus.kill('SIGKILL');
    expect((await client.event('backend-disconnected', 10_000)).event).toEqual({ type: 'backend-disconnected' });
    await waitFor(() => proxy.app.proxy.clients.size === 0, { timeout: 5_000, name: 'clients dropped' });
    expect((await fetch(`${proxy.httpUrl}/ready`)).status).toBe(503);
    expect((await client.command({ type: 'delete-publisher', clientId: pub })).error.code).toBe('unknown_client');
    const refused = await client.command({ type: 'create-publisher', sid: '1', streamType: 'video' });
    expect(refused.error.code).toBe('internal_error');

    await janus.restart();
    expect((await client.event('backend-connected', 15_000)).event).toEqual({ type: 'backend-connected' });
    expect((await fetch(`${proxy.httpUrl}/ready`)).status).toBe(200);
    await inspector.close();
    inspector = await JanusInspector.connect(janus.url);
    const created = await client.command({ type: 'create-publisher', sid: '1', streamType: 'video' });
    expect(created.type).toBe('command');
    expect(await roomsOf(created.command.id)).toHaveLength(1);
    await client.command({ type: 'delete-publisher', clientId: created.command.id });
  });

  it('graceful shutdown: shutdown-scheduled, no new publishers, done when the last client is gone', async () => {
    const { client } = await helloed();
    const pub = (await client.command({ type: 'create-publisher', sid: '1', streamType: 'video' })).command.id as string;
    let drained = false;
    const done = proxy.app.proxy.scheduleShutdown().then(() => {
      drained = true;
    });
    expect((await client.event('shutdown-scheduled')).event).toEqual({ type: 'shutdown-scheduled' });
    expect((await client.command({ type: 'create-publisher', sid: '2', streamType: 'screen' })).error).toEqual({
      code: 'shutdown_scheduled',
      message: 'The server is scheduled to shutdown.',
    });
    expect((await fetch(`${proxy.httpUrl}/ready`)).status).toBe(503);
    // A new session is told at once.
    const late = await connect();
    expect((await late.hello(await proxyToken(server1))).type).toBe('hello');
    expect((await late.next('event')).event).toEqual({ type: 'shutdown-scheduled' });
    expect(drained).toBe(false);
    await client.command({ type: 'delete-publisher', clientId: pub });
    await done;
    expect(drained).toBe(true);
  });
});
