import { FaultProxy, publisherOffer, recvonlyAnswer, startJanus, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { JanusInspector } from './janus-inspector';
import { startTestProxy, type TestProxy } from './proxy-harness';
import { makeTokenIdentity, proxyToken, ProxyTestClient } from './proxy-test-client';

jest.setTimeout(40_000);

/**
 * Remote streams: a subscriber on proxy B fed by a publisher on proxy A, each proxy with its
 * own Janus (Janus 1.1 `publish_remotely` / `add_remote_publisher`).
 */
describe('mcu-proxy remote streams between two proxies', () => {
  const server1 = makeTokenIdentity('server1');
  const proxyB = makeTokenIdentity('proxyb');
  let janusA: ManagedProcess;
  let janusB: ManagedProcess;
  let a: TestProxy;
  let b: TestProxy;
  let inspectA: JanusInspector;
  let inspectB: JanusInspector;
  const clients: ProxyTestClient[] = [];

  const helloed = async (proxy: TestProxy): Promise<ProxyTestClient> => {
    const client = await ProxyTestClient.connect(proxy.wsUrl);
    clients.push(client);
    expect((await client.hello(await proxyToken(server1))).type).toBe('hello');
    return client;
  };
  const publishOnA = async (client: ProxyTestClient): Promise<string> => {
    const id = (await client.command({ type: 'create-publisher', sid: '1', streamType: 'video' })).command.id as string;
    const answer = await client.payload({ type: 'offer', clientId: id, sid: '1', payload: { type: 'offer', sdp: publisherOffer() } });
    expect(answer.payload.payload.type).toBe('answer');
    return id;
  };
  const remoteSubscribe = async (client: ProxyTestClient, publisherId: string, sub = publisherId) =>
    client.command({
      type: 'create-subscriber',
      publisherId,
      streamType: 'video',
      remoteUrl: `${a.httpUrl}/`,
      remoteToken: await proxyToken(server1, { sub }),
    });
  const roomsOn = async (inspector: JanusInspector, publisherId: string) =>
    (await inspector.publisherRooms()).filter((r) => r.description === `${publisherId}|video`);

  beforeAll(async () => {
    [janusA, janusB] = await Promise.all([startJanus(), startJanus()]);
    // A forgets a disconnected session after 1 s; B retries a lost link to A for 3 s.
    a = await startTestProxy({ janusUrl: janusA.url, signaling: [server1, proxyB], options: { sessionExpiryMs: 1_000, expireIntervalMs: 100 } });
    b = await startTestProxy({
      janusUrl: janusB.url,
      signaling: [server1],
      extra: `[app]\ntoken_id = proxyb\ntoken_key = ${proxyB.privateKeyFile}\nhostname = 127.0.0.1`,
      options: { remoteReconnect: { initialMs: 50, maxMs: 100 }, remoteResumeGraceMs: 3_000 },
    });
    await waitFor(() => a.app.backend.connected && b.app.backend.connected, { timeout: 10_000, name: 'proxies connected to janus' });
    [inspectA, inspectB] = await Promise.all([JanusInspector.connect(janusA.url), JanusInspector.connect(janusB.url)]);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await Promise.all([inspectA?.close(), inspectB?.close()]);
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([janusA?.stop(), janusB?.stop()]);
  });

  it('announces remote-streams only where it can subscribe remotely', async () => {
    const onB = await ProxyTestClient.connect(b.wsUrl);
    const onA = await ProxyTestClient.connect(a.wsUrl);
    clients.push(onA, onB);
    expect((await onB.hello(await proxyToken(server1))).hello.server.features).toEqual(['remote-streams']);
    expect((await onA.hello(await proxyToken(server1))).hello.server.features).toEqual([]);
    expect((await fetch(`${b.httpUrl}/welcome`)).headers.get('x-spreed-signaling-features')).toBe('remote-streams');
  });

  it('get-publisher-streams describes the publisher from its SDPs', async () => {
    const sA = await helloed(a);
    const publisherId = await publishOnA(sA);
    const reply = await sA.command({ type: 'get-publisher-streams', clientId: publisherId });
    expect(reply.command).toEqual({
      id: publisherId,
      streams: [
        { mid: '0', mindex: 0, type: 'audio', codec: 'opus', fec: true },
        { mid: '1', mindex: 1, type: 'video', codec: 'VP8' },
      ],
    });
    await sA.command({ type: 'delete-publisher', clientId: publisherId });
  });

  it('subscribes on B to a publisher on A: one shared remote feed, offer/answer/selectStream, all undone when the last subscriber goes', async () => {
    const sA = await helloed(a);
    const sB = await helloed(b);
    const publisherId = await publishOnA(sA);
    const sessionsOnA = a.app.proxy.sessions.size;

    const first = await remoteSubscribe(sB, publisherId);
    expect(first.type).toBe('command');
    expect(first.command.sid).toMatch(/^\d+$/);
    // B connected to A as a client of its own (hello with B's token).
    expect(a.app.proxy.sessions.size).toBe(sessionsOnA + 1);
    expect(await roomsOn(inspectB, publisherId)).toHaveLength(1);
    // A answered get-publisher-streams and publish-remote (Janus accepted publish_remotely; a
    // failure there fails the subscriber on B).
    const commandsOnA = async () => (await a.app.proxy.metrics.commandMessagesTotal.get()).values;
    expect(await commandsOnA()).toEqual(
      expect.arrayContaining([
        { labels: { type: 'get-publisher-streams' }, value: expect.any(Number) },
        { labels: { type: 'publish-remote' }, value: 1 },
      ]),
    );

    const offer = await sB.payload({ type: 'requestoffer', clientId: first.command.id, sid: first.command.sid });
    expect(offer.payload.payload.type).toBe('offer');
    expect(offer.payload.payload.sdp).toContain('m=video');
    const answered = await sB.payload({ type: 'answer', clientId: first.command.id, sid: first.command.sid, payload: { type: 'answer', sdp: recvonlyAnswer(offer.payload.payload.sdp) } });
    expect(answered.payload).toEqual({ type: 'answer', clientId: first.command.id, payload: null });
    expect((await sB.payload({ type: 'selectStream', clientId: first.command.id, payload: { substream: 0, audio: true } })).payload.payload).toBeNull();
    expect((await sB.payload({ type: 'selectStream', clientId: first.command.id, payload: { audio: 'yes' } })).error.code).toBe('internal_error');

    const second = await remoteSubscribe(sB, publisherId);
    expect(second.type).toBe('command');
    expect(await roomsOn(inspectB, publisherId)).toHaveLength(1);
    expect(b.app.remote!.feedCount).toBe(1);

    await sB.command({ type: 'delete-subscriber', clientId: first.command.id });
    expect(await roomsOn(inspectB, publisherId)).toHaveLength(1);
    await sB.command({ type: 'delete-subscriber', clientId: second.command.id });
    await waitFor(async () => (await roomsOn(inspectB, publisherId)).length === 0, { timeout: 5_000, name: 'remote room destroyed on B' });
    await waitFor(() => a.app.proxy.sessions.size === sessionsOnA, { timeout: 5_000, name: 'B disconnected from A' });
    expect(await commandsOnA()).toContainEqual({ labels: { type: 'unpublish-remote' }, value: 1 });
    expect(b.app.remote!.feedCount).toBe(0);
    // The publisher on A is untouched.
    expect(await roomsOn(inspectA, publisherId)).toHaveLength(1);
    await sA.command({ type: 'delete-publisher', clientId: publisherId });
  });

  it('the publisher closing on A closes the remote subscribers on B and their room', async () => {
    const sA = await helloed(a);
    const sB = await helloed(b);
    const publisherId = await publishOnA(sA);
    const sub = await remoteSubscribe(sB, publisherId);
    expect(sub.type).toBe('command');
    await sA.command({ type: 'delete-publisher', clientId: publisherId });
    expect((await sB.event('subscriber-closed')).event).toEqual({ type: 'subscriber-closed', clientId: sub.command.id });
    await waitFor(async () => (await roomsOn(inspectB, publisherId)).length === 0, { timeout: 5_000, name: 'remote room destroyed on B' });
  });

  it('the publishing proxy going away closes the remote subscribers on B and leaves no room in B\'s Janus', async () => {
    const c = await startTestProxy({ janusUrl: janusA.url, signaling: [server1, proxyB] });
    try {
      await waitFor(() => c.app.backend.connected, { timeout: 10_000, name: 'proxy C connected to janus' });
      const sC = await helloed(c);
      const sB = await helloed(b);
      const publisherId = await publishOnA(sC);
      const sub = await sB.command({
        type: 'create-subscriber',
        publisherId,
        streamType: 'video',
        remoteUrl: `${c.httpUrl}/`,
        remoteToken: await proxyToken(server1, { sub: publisherId }),
      });
      expect(sub.type).toBe('command');
      expect(await roomsOn(inspectB, publisherId)).toHaveLength(1);
      // C's listeners and connections vanish (as if the process died).
      await c.app.http.close();
      expect((await sB.event('subscriber-closed', 10_000)).event).toEqual({ type: 'subscriber-closed', clientId: sub.command.id });
      await waitFor(async () => (await roomsOn(inspectB, publisherId)).length === 0, { timeout: 5_000, name: 'remote room destroyed on B' });
      expect(b.app.remote!.feedCount).toBe(0);
    } finally {
      await c.stop();
    }
  });

  it('a short break of the link between the proxies is resumed; a longer one re-requests the forwarding; the subscriber lives on', async () => {
    const link = await FaultProxy.start({ port: Number(new URL(a.httpUrl).port) });
    try {
      const sA = await helloed(a);
      const sB = await helloed(b);
      const publisherId = await publishOnA(sA);
      const sub = await sB.command({
        type: 'create-subscriber',
        publisherId,
        streamType: 'video',
        remoteUrl: `http://127.0.0.1:${link.port}/`,
        remoteToken: await proxyToken(server1, { sub: publisherId }),
      });
      expect(sub.type).toBe('command');
      const publishRemote = async () =>
        (await a.app.proxy.metrics.commandMessagesTotal.get()).values.find((v) => v.labels['type'] === 'publish-remote')?.value ?? 0;
      const resumed = async () => (await a.app.proxy.metrics.sessionsResumedTotal.get()).values[0]?.value ?? 0;
      const before = { publishRemote: await publishRemote(), resumed: await resumed() };

      // Short break (well under A's 1 s expiry): B resumes its session on A.
      link.suspend();
      await waitFor(() => [...a.app.proxy.sessions.values()].some((s) => !s.connected), { timeout: 5_000, name: 'B disconnected on A' });
      link.unsuspend();
      await waitFor(async () => (await resumed()) === before.resumed + 1, { timeout: 5_000, name: 'B resumed its session on A' });
      expect(await publishRemote()).toBe(before.publishRemote);

      // Longer break: A expires B's session (and stops the forwarding); B comes back with a new
      // session and asks for the forwarding again.
      link.suspend();
      const sessionsOnA = a.app.proxy.sessions.size;
      await waitFor(() => a.app.proxy.sessions.size === sessionsOnA - 1, { timeout: 5_000, name: 'B\'s session expired on A' });
      link.unsuspend();
      await waitFor(async () => (await publishRemote()) === before.publishRemote + 1, { timeout: 5_000, name: 'publish-remote again' });
      // The subscriber on B was never closed and still negotiates.
      expect(b.app.proxy.clients.get(sub.command.id)).toBeDefined();
      const offer = await sB.payload({ type: 'requestoffer', clientId: sub.command.id, sid: sub.command.sid });
      expect(offer.payload.payload.type).toBe('offer');
      await sB.command({ type: 'delete-subscriber', clientId: sub.command.id });
      await waitFor(() => b.app.remote!.feedCount === 0, { timeout: 5_000, name: 'feed closed' });
      await sA.command({ type: 'delete-publisher', clientId: publisherId });
    } finally {
      await link.close();
    }
  });

  it('refuses remote subscribers with a token for another publisher, or where remote streams are off', async () => {
    const sA = await helloed(a);
    const sB = await helloed(b);
    const publisherId = await publishOnA(sA);
    expect((await remoteSubscribe(sB, publisherId, 'someone-else')).error.code).toBe('auth_failed');
    expect((await remoteSubscribe(sA, publisherId)).error).toEqual({ code: 'unsupported_subscriber', message: 'Remote subscribers are not supported.' });
    const sessionsOnA = a.app.proxy.sessions.size;
    const unknown = await remoteSubscribe(sB, 'no-such-publisher');
    expect(unknown.error.code).toBe('internal_error');
    expect(unknown.error.message).toMatch(/unknown_client/);
    expect(b.app.remote!.feedCount).toBe(0);
    // The failed attempt leaves no connection (session) of B's behind on A.
    await waitFor(() => a.app.proxy.sessions.size === sessionsOnA, { timeout: 5_000, name: 'B gone from A' });
    await sA.command({ type: 'delete-publisher', clientId: publisherId });
  });
});
