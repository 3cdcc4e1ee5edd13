import { startJanus, waitFor, waitForEvent, type ManagedProcess } from '@talk-signaling/testing';
import { ClosedError, JanusError, JanusErrorCode, JanusTimeoutError } from './errors';
import { JanusConnection } from './janus-connection';

jest.setTimeout(30_000);

describe('JanusConnection against a real Janus', () => {
  let janus: ManagedProcess;
  beforeAll(async () => {
    janus = await startJanus();
  });
  afterAll(async () => {
    await janus.stop();
  });

  it('connects and reads server_info', async () => {
    const conn = await JanusConnection.connect({ url: janus.url });
    expect(conn.state).toBe('connected');
    const info = await conn.info();
    expect(info.version).toBeGreaterThanOrEqual(1000);
    expect(info.plugins['janus.plugin.videoroom']).toBeDefined();
    expect(typeof info['full-trickle']).toBe('boolean');
    await conn.close();
    expect(conn.state).toBe('closed');
  });

  it('creates and destroys a session, attaches and detaches a handle', async () => {
    const conn = await JanusConnection.connect({ url: janus.url });
    const session = await conn.createSession();
    expect(session.id).toBeGreaterThan(0);
    expect(conn.sessions.get(session.id)).toBe(session);
    const handle = await session.attach('janus.plugin.videoroom');
    expect(session.handles.get(handle.id)).toBe(handle);
    const handleClosed = waitForEvent(handle, 'close', { timeout: 5_000 });
    await handle.detach();
    expect(await handleClosed).toEqual([undefined]);
    expect(handle.closed).toBe(true);
    expect(session.handles.size).toBe(0);
    await expect(handle.request({ request: 'list' })).rejects.toBeInstanceOf(ClosedError);

    const sessionClosed = waitForEvent(session, 'close', { timeout: 5_000 });
    await session.destroy();
    await sessionClosed;
    expect(conn.sessions.size).toBe(0);
    await conn.close();
  });

  it('maps Janus errors to JanusError with the Janus code', async () => {
    const conn = await JanusConnection.connect({ url: janus.url });
    const err = await conn
      .request({ janus: 'attach', plugin: 'janus.plugin.videoroom', session_id: 12345 }, { request: 'attach', ackIsFinal: false, timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JanusError);
    expect((err as JanusError).code).toBe(JanusErrorCode.SessionNotFound);
    expect((err as JanusError).retryable).toBe(true);

    const session = await conn.createSession();
    const badPlugin = await session.attach('janus.plugin.nope').catch((e: unknown) => e);
    expect(badPlugin).toBeInstanceOf(JanusError);
    expect((badPlugin as JanusError).code).toBe(JanusErrorCode.PluginNotFound);
    await session.destroy();
    await conn.close();
  });

  it('sends keepalives and survives past them', async () => {
    const conn = await JanusConnection.connect({ url: janus.url });
    const session = await conn.createSession({ keepaliveIntervalMs: 50 });
    const sent: string[] = [];
    const origRequest = conn.request.bind(conn);
    jest.spyOn(conn, 'request').mockImplementation((msg, options) => {
      sent.push(String(msg['janus']));
      return origRequest(msg, options);
    });
    await waitFor(() => sent.filter((v) => v === 'keepalive').length >= 3, { timeout: 3_000, name: 'three keepalives' });
    expect(session.closed).toBe(false);
    await session.keepalive();
    await session.destroy();
    await conn.close();
  });

  it('times out a request without answer', async () => {
    const conn = await JanusConnection.connect({ url: janus.url });
    // An async plugin message is acked at once; the event never comes for an unknown request
    // kind sent as ackIsFinal=false to a verb Janus only acks: keepalive with ackIsFinal false.
    const session = await conn.createSession({ keepaliveIntervalMs: 0 });
    const started = Date.now();
    const err = await conn
      .request({ janus: 'keepalive', session_id: session.id }, { request: 'keepalive', ackIsFinal: false, timeoutMs: 200 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JanusTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(conn.pendingRequests).toBe(0);
    await session.destroy();
    await conn.close();
  });

  it('fails the first connect cleanly when nothing listens', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    await expect(JanusConnection.connect({ url: 'ws://127.0.0.1:1', connectTimeoutMs: 1_000 })).rejects.toThrow();
    await waitFor(() => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length <= before.length, {
      timeout: 2_000,
      name: 'resources released',
    });
  });

  it('leaves no timers or sockets behind after close', async () => {
    const count = (): number => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
    await waitFor(() => true, { timeout: 100, name: 'settle' });
    const before = count();
    const conn = await JanusConnection.connect({ url: janus.url, pingIntervalMs: 100 });
    const session = await conn.createSession({ keepaliveIntervalMs: 100 });
    await session.attach('janus.plugin.videoroom');
    expect(count()).toBeGreaterThan(before);
    await conn.close();
    expect(session.closed).toBe(true);
    await waitFor(() => count() <= before, { timeout: 2_000, name: `resources back to ${before}: ${process.getActiveResourcesInfo().join(',')}` });
  });
});

describe('JanusConnection reconnect', () => {
  it('emits disconnect/reconnecting/reconnect, fails pending requests and closes sessions', async () => {
    const janus = await startJanus();
    try {
      const conn = await JanusConnection.connect({ url: janus.url, reconnect: { initialMs: 100, maxMs: 400 } });
      const session = await conn.createSession();
      const handle = await session.attach('janus.plugin.videoroom');
      const events: string[] = [];
      const delays: number[] = [];
      conn.on('disconnect', () => events.push('disconnect'));
      conn.on('reconnecting', ({ delayMs }) => {
        events.push('reconnecting');
        delays.push(delayMs);
      });
      conn.on('reconnect', () => events.push('reconnect'));
      session.on('close', () => events.push('session-close'));
      handle.on('close', () => events.push('handle-close'));

      // A request that Janus will never answer (ack only) stays pending until the loss.
      const pending = conn
        .request({ janus: 'keepalive', session_id: session.id }, { request: 'keepalive', ackIsFinal: false, timeoutMs: 20_000 })
        .catch((e: unknown) => e);
      await waitFor(() => conn.pendingRequests === 1, { timeout: 2_000, name: 'request pending' });

      await janus.kill('SIGKILL');
      expect(await pending).toBeInstanceOf(ClosedError);
      await waitFor(() => delays.length >= 3, { timeout: 5_000, name: 'three reconnect attempts' });
      expect(delays.slice(0, 3)).toEqual([100, 200, 400]);
      await expect(conn.info()).rejects.toBeInstanceOf(ClosedError);
      expect(conn.state).toBe('reconnecting');

      await janus.restart();
      await waitForEvent(conn, 'reconnect', { timeout: 10_000 });
      expect(conn.state).toBe('connected');
      expect(events.slice(0, 4)).toEqual(['handle-close', 'session-close', 'disconnect', 'reconnecting']);
      expect(events.at(-1)).toBe('reconnect');
      expect(session.closed).toBe(true);
      const fresh = await conn.createSession();
      expect(fresh.id).not.toBe(session.id);
      await conn.close();
    } finally {
      await janus.stop();
    }
  });
});
