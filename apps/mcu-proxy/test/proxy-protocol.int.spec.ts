/* eslint-disable @typescript-eslint/no-explicit-any -- protocol messages are free-form JSON in tests */
import { publisherOffer, startJanus, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { startTestProxy, type TestProxy } from './proxy-harness';
import { makeTokenIdentity, proxyToken, ProxyTestClient } from './proxy-test-client';
import { JanusInspector } from './janus-inspector';

jest.setTimeout(30_000);

describe('mcu-proxy /proxy protocol against a real Janus', () => {
  const server1 = makeTokenIdentity('server1');
  const stranger = makeTokenIdentity('server1'); // same id, other key
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

  beforeAll(async () => {
    janus = await startJanus();
    proxy = await startTestProxy({ janusUrl: janus.url, signaling: [server1], extra: '[app]\ncountry = de\n[bandwidth]\nincoming = 10\noutgoing = 20' });
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

  it('serves /welcome, /health, /ready with the upstream headers', async () => {
    const res = await fetch(`${proxy.httpUrl}/welcome`);
    expect(res.status).toBe(200);
    expect(res.headers.get('server')).toMatch(/^nextcloud-spreed-signaling-proxy\/\d/);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as Record<string, string>;
    expect(body['nextcloud-spreed-signaling-proxy']).toBe('Welcome');
    expect(body['version']).toBe(proxy.app.proxy.version);
    expect((await fetch(`${proxy.httpUrl}/health`)).status).toBe(200);
    const ready = await fetch(`${proxy.httpUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, janus: true, shutdownScheduled: false });
    expect((await fetch(`${proxy.httpUrl}/nothing`)).status).toBe(404);
  });

  it('/stats and /metrics only for [stats] allowed_ips (real client address via trusted proxies)', async () => {
    expect((await fetch(`${proxy.httpUrl}/stats`)).status).toBe(200);
    // 127.0.0.1 is a trusted proxy by default, so X-Real-IP names the client.
    for (const path of ['/stats', '/metrics']) {
      const res = await fetch(`${proxy.httpUrl}${path}`, { headers: { 'X-Real-IP': '203.0.113.7' } });
      expect(res.status).toBe(403);
    }
  });

  it('hello with RS256/384/512 tokens: session id, server version and country, then update-load', async () => {
    for (const alg of ['RS256', 'RS384', 'RS512'] as const) {
      const client = await connect();
      const hello = await client.hello(await proxyToken(server1, { alg }));
      expect(hello).toMatchObject({ type: 'hello', hello: { version: '1.0', server: { version: proxy.app.proxy.version, country: 'DE' } } });
      expect(typeof hello.hello.sessionid).toBe('string');
      const load = await client.next('event');
      expect(load.event).toEqual({ type: 'update-load', load: 0, bandwidth: { incoming: 0, outgoing: 0 } });
    }
  });

  it('rejects bad tokens with the upstream codes and counts the reasons', async () => {
    const now = Math.floor(Date.now() / 1000);
    const client = await connect();
    const cases: [Promise<string>, string][] = [
      [proxyToken(stranger), 'auth_failed'],
      [proxyToken(server1, { iss: 'unknown' }), 'auth_failed'],
      [proxyToken(server1, { iat: now - 7 * 60 }), 'token_expired'],
      [proxyToken(server1, { iat: now + 5 * 60 }), 'token_not_valid_yet'],
      [Promise.resolve('not.a.jwt'), 'auth_failed'],
      // HS256 with any secret: not an RSA signature.
      [Promise.resolve('eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJzZXJ2ZXIxIiwiaWF0IjoxfQ.c2lnbmF0dXJl'), 'auth_failed'],
    ];
    for (const [token, code] of cases) {
      const reply = await client.hello(await token);
      expect(reply).toMatchObject({ type: 'error', error: { code } });
    }
    // Still usable after six failures.
    expect((await client.hello(await proxyToken(server1))).type).toBe('hello');
    const metrics = await (await fetch(`${proxy.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/signaling_proxy_token_errors_total\{reason="auth-failed"\} [1-9]/);
    expect(metrics).toMatch(/signaling_proxy_token_errors_total\{reason="unsupported-issuer"\} 1/);
    expect(metrics).toMatch(/signaling_proxy_token_errors_total\{reason="expired"\} 1/);
    expect(metrics).toMatch(/signaling_proxy_token_errors_total\{reason="not-valid-yet"\} 1/);
    expect(metrics).toMatch(/signaling_proxy_token_errors_total\{reason="unsupported-signing-method"\} 1/);
  });

  it('answers hostile input with one error each and keeps serving', async () => {
    const client = await connect();
    client.raw.sendRaw('{not json');
    expect((await client.next('error')).error.code).toBe('invalid_format');
    expect((await client.command({ type: 'create-publisher', streamType: 'video' })).error.code).toBe('hello_expected');
    client.raw.sendRaw(JSON.stringify({ type: 'hello', hello: { version: '1.0', token: 'x'.repeat(70 * 1024) } }));
    expect((await client.next('error')).error).toMatchObject({ code: 'invalid_format', message: expect.stringMatching(/too large/) });
    client.raw.sendRaw(Buffer.from([1, 2, 3]), { binary: true });
    expect((await client.next('error')).error.code).toBe('invalid_format');
    expect((await client.request({ type: 'hello', hello: { version: '2.0', token: 'x' } })).error.code).toBe('invalid_format');
    expect((await client.hello(await proxyToken(server1))).type).toBe('hello');
    expect((await client.command({ type: 'no-such-command' })).error).toEqual({ code: 'bad_request', message: 'Unsupported command received.' });
    expect((await client.command({ type: 'delete-publisher', clientId: 'nope' })).error.code).toBe('unknown_client');
    expect((await client.command({ type: 'create-publisher' })).error.code).toBe('invalid_format');
    expect((await client.payload({ type: 'offer', clientId: 'nope', payload: { sdp: 'x' } })).error.code).toBe('unknown_client');
    expect((await client.request({ type: 'hello', hello: { version: '1.0', token: 'x' } })).error.code).toBe('bad_request');
    // And a real command still works.
    const created = await client.command({ type: 'create-publisher', streamType: 'screen', sid: '1' });
    expect(created.type).toBe('command');
    expect((await client.payload({ type: 'bogus', clientId: created.command.id })).error.code).toBe('unsupported_payload');
    expect((await client.command({ type: 'delete-publisher', clientId: created.command.id })).type).toBe('command');
  });

  it('a frame over 1 MiB closes the socket with 1009; the session resumes on a new one', async () => {
    const { client, sessionid } = await helloed();
    client.raw.sendRaw('x'.repeat(1024 * 1024 + 1));
    expect((await client.raw.closed()).code).toBe(1009);
    const again = await connect();
    expect((await again.resume(sessionid)).type).toBe('hello');
  });

  it('a signaling server that stops reading is disconnected once 8 MiB wait for it; its session resumes', async () => {
    const { client, sessionid } = await helloed();
    client.raw.pauseReading();
    // Each request carries a 60 KB id, echoed in its error answer, which nobody reads.
    const frame = JSON.stringify({ id: 'i'.repeat(60_000), type: 'command', command: { type: 'delete-publisher', clientId: 'nobody' } });
    for (let i = 0; i < 2_000 && !client.raw.isClosed; i++) {
      client.raw.sendRaw(frame);
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
      if (proxy.app.proxy.sessions.get(sessionid)?.connected === false) break;
    }
    await waitFor(() => proxy.app.proxy.sessions.get(sessionid)?.connected === false, { timeout: 10_000, name: 'slow reader dropped' });
    const again = await connect();
    expect((await again.resume(sessionid)).type).toBe('hello');
  });

  it('create-publisher: own room with the capped bitrate, offer → answer, candidate, endOfCandidates, delete destroys the room', async () => {
    const { client } = await helloed();
    const created = await client.command({ type: 'create-publisher', sid: '1', streamType: 'video', bitrate: 9_000_000, mediatypes: 3 });
    expect(created.type).toBe('command');
    const clientId = created.command.id as string;
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.command.bitrate).toBe(1048576);
    const rooms = await inspector.publisherRooms();
    expect(rooms).toContainEqual(expect.objectContaining({ description: `${clientId}|video`, bitrate: 1048576 }));
    // Load, sent right after the publisher came: 1 MiB/s incoming of 10 MBit/s.
    const load = await client.raw.waitForMessage((m) => m.event?.type === 'update-load' && m.event.load === 1024);
    expect(load.event).toEqual({ type: 'update-load', load: 1024, bandwidth: { incoming: 10, outgoing: 0, received: 1048576 } });

    const answer = await client.payload({ type: 'offer', clientId, sid: '1', payload: { type: 'offer', sdp: publisherOffer() } });
    expect(answer).toMatchObject({ type: 'payload', payload: { type: 'offer', clientId, payload: { type: 'answer' } } });
    expect(answer.payload.payload.sdp).toContain('m=video');
    const cand = await client.payload({
      type: 'candidate',
      clientId,
      payload: { candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 } },
    });
    expect(cand).toEqual({ id: expect.any(String), type: 'payload', payload: { type: 'candidate', clientId, payload: null } });
    // Trickled candidates name the publisher by the sid of create-publisher (as the signaling server sends them).
    const named = await client.payload({
      type: 'candidate',
      clientId,
      sid: '1',
      payload: { candidate: { candidate: 'candidate:2 1 udp 2122260223 127.0.0.1 50001 typ host', sdpMid: '0', sdpMLineIndex: 0 } },
    });
    expect(named.payload).toEqual({ type: 'candidate', clientId, payload: null });
    const stale = await client.payload({
      type: 'candidate',
      clientId,
      sid: 'an-older-offer',
      payload: { candidate: { candidate: 'candidate:3 1 udp 2122260223 127.0.0.1 50002 typ host', sdpMid: '0', sdpMLineIndex: 0 } },
    });
    expect(stale.type).toBe('error');
    const eoc = await client.payload({ type: 'endOfCandidates', clientId });
    expect(eoc.payload).toEqual({ type: 'endOfCandidates', clientId, payload: null });


    const deleted = await client.command({ type: 'delete-publisher', clientId });
    expect(deleted.command).toEqual({ id: clientId });
    await waitFor(async () => !(await inspector.publisherRooms()).some((r) => r.description.startsWith(clientId)), { timeout: 5_000, name: 'room destroyed' });
    expect((await client.command({ type: 'delete-publisher', clientId })).error.code).toBe('unknown_client');
  });

  it('create-subscriber: sid of a new handle, stats, delete-subscriber, publisher-closed when its room goes', async () => {
    const { client } = await helloed();
    const pub = await client.command({ type: 'create-publisher', sid: '1', streamType: 'screen', bitrate: 500_000 });
    const publisherId = pub.command.id as string;
    expect(pub.command.bitrate).toBe(500_000);
    const sub = await client.command({ type: 'create-subscriber', publisherId, streamType: 'screen' });
    expect(sub.type).toBe('command');
    expect(sub.command.sid).toMatch(/^\d+$/);
    const subscriberId = sub.command.id as string;
    const stats = (await (await fetch(`${proxy.httpUrl}/stats`)).json()) as Record<string, any>;
    expect(stats['mcu']).toMatchObject({ connected: true, clients: 2, publishers: 1 });
    expect(stats['sessions']).toBeGreaterThanOrEqual(1);

    expect((await client.command({ type: 'delete-subscriber', clientId: publisherId })).error.code).toBe('unknown_client');
    expect((await client.command({ type: 'delete-subscriber', clientId: subscriberId })).command).toEqual({ id: subscriberId });
    // The publisher's room destroyed from outside (e.g. by an admin): publisher-closed.
    const room = (await inspector.publisherRooms()).find((r) => r.description === `${publisherId}|screen`)!;
    await inspector.handle.request({ request: 'destroy', room: room.room });
    const closed = await client.event('publisher-closed');
    expect(closed.event).toEqual({ type: 'publisher-closed', clientId: publisherId });
  });

  it('a second proxy session cannot touch another session\'s clients', async () => {
    const a = await helloed();
    const b = await helloed();
    const pub = await a.client.command({ type: 'create-publisher', sid: '1', streamType: 'video' });
    const clientId = pub.command.id as string;
    expect((await b.client.command({ type: 'delete-publisher', clientId })).error.code).toBe('unknown_client');
    expect((await b.client.payload({ type: 'offer', clientId, payload: { type: 'offer', sdp: publisherOffer() } })).error.code).toBe('unknown_client');
    expect((await a.client.command({ type: 'delete-publisher', clientId })).type).toBe('command');
  });
});
