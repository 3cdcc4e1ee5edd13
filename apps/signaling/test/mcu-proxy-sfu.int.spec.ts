/* eslint-disable @typescript-eslint/no-explicit-any -- protocol messages are free-form JSON in tests */
import { generateKeyPairSync, verify } from 'node:crypto';
import { Registry } from 'prom-client';
import { silentLogger } from '@talk-signaling/runtime';
import { waitFor, waitForEvent as waitForEventWithin } from '@talk-signaling/testing';
import { createProxyMetrics } from '../src/mcu/proxy/proxy-metrics';
import { ProxySfu, type ProxySfuOptions } from '../src/mcu/proxy/proxy-sfu';
import { SfuNotFoundError, type SfuPublisherRequest } from '../src/mcu/sfu';
import { ScriptedProxy, type ScriptedProxyOptions } from './scripted-proxy';

jest.setTimeout(20_000);

const waitForEvent = (emitter: Parameters<typeof waitForEventWithin>[0], event: string) => waitForEventWithin(emitter, event, { timeout: 3_000 });

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/**
 * The proxy SFU against scripted proxies on real loopback sockets: placement (load, country,
 * continent, bandwidth, shutdown), remote subscribers, resume and its failure, proxies that
 * lose their Janus, temporary connections, late answers, and hostile frames.
 */
describe('ProxySfu against scripted proxies', () => {
  const proxies: ScriptedProxy[] = [];
  const sfus: ProxySfu[] = [];
  let registry: Registry;

  beforeEach(() => {
    registry = new Registry();
  });
  afterEach(async () => {
    for (const sfu of sfus.splice(0)) await sfu.stop();
    for (const p of proxies.splice(0)) await p.stop();
  });

  async function proxy(options: ScriptedProxyOptions = {}): Promise<ScriptedProxy> {
    const p = await ScriptedProxy.start(options);
    proxies.push(p);
    return p;
  }

  async function sfuFor(list: ScriptedProxy[], extra: Partial<ProxySfuOptions> = {}): Promise<ProxySfu> {
    const sfu = new ProxySfu({
      tokenId: 'test-server',
      tokenKey: privateKey,
      timeoutMs: 1_000,
      proxyTimeoutMs: 1_000,
      maxStreamBitrate: 1_000_000,
      maxScreenBitrate: 2_000_000,
      continentOverrides: {},
      metrics: createProxyMetrics(registry),
      log: silentLogger(),
      connection: { reconnect: { initialMs: 20, maxMs: 100 }, resumeGraceMs: 300 },
      ...extra,
    });
    sfus.push(sfu);
    sfu.setTargets(list.map((p) => ({ url: p.url })));
    sfu.start();
    await waitFor(() => sfu.connections.length > 0 && sfu.connections.every((c) => c.connected), { timeout: 5_000, name: 'proxies connected' });
    return sfu;
  }

  const request = (publisherId: string, extra: Partial<SfuPublisherRequest> = {}): SfuPublisherRequest => ({
    publisherId,
    sid: 'sid-1',
    streamType: 'video',
    bitrate: 0,
    mediaTypes: 3,
    ...extra,
  });

  const connOf = (sfu: ProxySfu, p: ScriptedProxy) => sfu.connections.find((c) => c.url === p.url)!;

  /** Sends load figures and waits until the SFU has them. */
  async function setLoad(sfu: ProxySfu, p: ScriptedProxy, load: number, bandwidth?: Record<string, number>): Promise<void> {
    p.load(load, bandwidth);
    await waitFor(() => connOf(sfu, p).load === load && (bandwidth?.['incoming'] === undefined || connOf(sfu, p).bandwidth?.incoming === bandwidth['incoming']), {
      timeout: 2_000,
      name: 'load applied',
    });
  }

  it('says hello with an RS256 token of our id, signed with our key', async () => {
    const p = await proxy();
    await sfuFor([p]);
    const [hello] = p.hellos();
    expect(hello).toEqual({ version: '1.0', token: expect.any(String) });
    const [header, claims, signature] = hello.token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT' });
    const body = JSON.parse(Buffer.from(claims, 'base64url').toString());
    expect(body).toEqual({ iss: 'test-server', sub: '', iat: expect.any(Number) });
    expect(Math.abs(body.iat - Date.now() / 1000)).toBeLessThan(60);
    expect(verify('sha256', Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
  });

  it('places publishers on the least loaded proxy and follows load changes', async () => {
    const a = await proxy();
    const b = await proxy();
    const sfu = await sfuFor([a, b]);
    await setLoad(sfu, a, 50);
    await setLoad(sfu, b, 10);
    const first = await sfu.newPublisher(request('p1'));
    expect(first.connection.url).toBe(b.url);
    expect(b.commands('create-publisher')[0]).toMatchObject({ type: 'create-publisher', sid: 'sid-1', streamType: 'video', bitrate: 1_000_000, mediatypes: 3, publisherSettings: { bitrate: 1_000_000, mediatypes: 3 } });
    await setLoad(sfu, b, 90);
    const second = await sfu.newPublisher(request('p2', { bitrate: 300_000 }));
    expect(second.connection.url).toBe(a.url);
    expect(second.bitrate).toBe(300_000);
    expect(await registry.getSingleMetricAsString('signaling_mcu_backend_load')).toContain(`signaling_mcu_backend_load{url="${b.url}"} 90`);
  });

  it('prefers the client’s country, then its continent (with overrides), then load', async () => {
    const us = await proxy({ country: 'US' });
    const de = await proxy({ country: 'DE' });
    const jp = await proxy({ country: 'JP' });
    const sfu = await sfuFor([us, de, jp], { continentOverrides: { AF: ['EU'] } });
    await setLoad(sfu, us, 1);
    await setLoad(sfu, de, 50);
    await setLoad(sfu, jp, 20);
    expect((await sfu.newPublisher(request('c1', { country: 'DE' }))).connection.url).toBe(de.url);
    expect((await sfu.newPublisher(request('c2', { country: 'FR' }))).connection.url).toBe(de.url);
    expect((await sfu.newPublisher(request('c3', { country: 'KR' }))).connection.url).toBe(jp.url);
    expect((await sfu.newPublisher(request('c4', { country: 'ZA' }))).connection.url).toBe(de.url);
    // Unknown and pseudo countries fall back to load order.
    expect((await sfu.newPublisher(request('c5'))).connection.url).toBe(us.url);
    expect((await sfu.newPublisher(request('c6', { country: 'unknown-country' }))).connection.url).toBe(us.url);
  });

  it('skips proxies at their incoming limit, falling back to the least used; none usable counts as no backend', async () => {
    const a = await proxy();
    const b = await proxy();
    const sfu = await sfuFor([a, b]);
    await setLoad(sfu, a, 1, { incoming: 100 });
    await setLoad(sfu, b, 50, { incoming: 20 });
    expect((await sfu.newPublisher(request('b1'))).connection.url).toBe(b.url);
    await setLoad(sfu, b, 50, { incoming: 120 });
    expect((await sfu.newPublisher(request('b2'))).connection.url).toBe(a.url);

    a.send({ type: 'event', event: { type: 'shutdown-scheduled' } });
    b.send({ type: 'event', event: { type: 'shutdown-scheduled' } });
    await waitFor(() => sfu.connections.every((c) => c.shutdownScheduled), { timeout: 2_000, name: 'shutdown noted' });
    await expect(sfu.newPublisher(request('b3'))).rejects.toThrow(SfuNotFoundError);
    expect(await registry.getSingleMetricAsString('signaling_mcu_no_backend_available_total')).toContain('{type="video"} 1');
  });

  it('subscribes on the publisher’s proxy, or remotely through another one with remote-streams when it is out of outgoing bandwidth', async () => {
    const a = await proxy({ features: ['remote-streams'] });
    const b = await proxy({ features: ['remote-streams'] });
    const sfu = await sfuFor([a, b]);
    await setLoad(sfu, b, 90);
    const publisher = await sfu.newPublisher(request('pub'));
    expect(publisher.connection.url).toBe(a.url);
    const local = await sfu.newSubscriber({ subscriberId: 's1', publisherId: 'pub', streamType: 'video' });
    expect(local.connection.url).toBe(a.url);
    expect(a.commands('create-subscriber')[0]).toEqual({ type: 'create-subscriber', streamType: 'video', publisherId: publisher.clientId });
    expect(local.sid).toMatch(/^sid-/);
    expect(await local.requestOffer(undefined, undefined)).toEqual({ type: 'offer', sdp: 'v=0 offer' });

    await setLoad(sfu, a, 5, { outgoing: 100 });
    const remote = await sfu.newSubscriber({ subscriberId: 's2', publisherId: 'pub', streamType: 'video' });
    expect(remote.connection.url).toBe(b.url);
    expect(remote.remote).toBe(true);
    const command = b.commands('create-subscriber')[0];
    expect(command).toMatchObject({ streamType: 'video', publisherId: publisher.clientId, remoteUrl: a.url });
    const claims = JSON.parse(Buffer.from(command.remoteToken.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ iss: 'test-server', sub: publisher.clientId });
  });

  it('waits for a publisher to appear, up to the MCU timeout', async () => {
    const a = await proxy();
    const sfu = await sfuFor([a]);
    const waiting = sfu.newSubscriber({ subscriberId: 's', publisherId: 'later', streamType: 'screen' });
    await sfu.newPublisher(request('later', { streamType: 'screen' }));
    expect((await waiting).publisherId).toBe('later');
    await expect(sfu.newSubscriber({ subscriberId: 's', publisherId: 'never', streamType: 'video' })).rejects.toThrow(SfuNotFoundError);
    expect(await registry.getSingleMetricAsString('signaling_mcu_nopublisher_total')).toMatch(/type="screen"} 1/);
  });

  it('passes renegotiation offers and candidates on, rebuilt from their fields; drops unusable ones', async () => {
    const a = await proxy();
    const sfu = await sfuFor([a]);
    await sfu.newPublisher(request('pub'));
    const sub = await sfu.newSubscriber({ subscriberId: 's', publisherId: 'pub', streamType: 'video' });
    const offer = waitForEvent(sub, 'offer');
    a.send({ type: 'payload', payload: { type: 'offer', clientId: sub.clientId, payload: { offer: { type: 'offer', sdp: 'v=0 re', extra: { deep: [[[1]]] } } } } });
    expect(await offer).toEqual([{ type: 'offer', sdp: 'v=0 re' }]);
    const candidate = waitForEvent(sub, 'candidate');
    a.send({ type: 'payload', payload: { type: 'offer', clientId: sub.clientId, payload: { offer: { type: 'answer' } } } });
    a.send({ type: 'payload', payload: { type: 'candidate', clientId: sub.clientId, payload: { candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0, junk: 1 } } } });
    expect(await candidate).toEqual([{ candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 }]);
    a.send({ type: 'event', event: { type: 'subscriber-sid-updated', clientId: sub.clientId, sid: 'new-sid' } });
    await waitFor(() => sub.sid === 'new-sid', { timeout: 2_000, name: 'sid updated' });
  });

  it('survives hostile frames: bad JSON, unknown types, wrong shapes, deep nesting, binary — counted and dropped', async () => {
    const a = await proxy();
    const sfu = await sfuFor([a]);
    a.send('{not json');
    a.send({ type: 'surprise', surprise: {} });
    a.send({ type: 'event', event: { type: 'update-load', load: 'heavy' } });
    a.send(`{"type":"event","event":${'['.repeat(5_000)}${']'.repeat(5_000)}}`);
    a.send({ type: 'payload', payload: { type: 'offer', clientId: 'nobody', payload: { offer: { type: 'offer', sdp: 'x' } } } });
    a.sendBinary(Buffer.from([1, 2, 3]));
    await waitFor(async () => /} 5$/m.test(await registry.getSingleMetricAsString('signaling_mcu_backend_invalid_messages_total')), { timeout: 2_000, name: 'invalid frames counted' });
    expect(connOf(sfu, a).connected).toBe(true);
    expect((await sfu.newPublisher(request('after'))).clientId).toMatch(/^pub-/);
  });

  it('drops a frame over 1 MiB with the connection, resumes, and keeps the publisher', async () => {
    const a = await proxy();
    const sfu = await sfuFor([a]);
    const publisher = await sfu.newPublisher(request('big'));
    a.send({ type: 'event', event: { type: 'update-load', load: 1, junk: 'x'.repeat(2 * 1024 * 1024) } });
    await waitFor(() => a.hellos().length === 2 && connOf(sfu, a).connected, { timeout: 3_000, name: 'reconnected and resumed' });
    expect(a.hellos()[1]).toHaveProperty('resumeid');
    expect(publisher.closed).toBe(false);
    expect(await registry.getSingleMetricAsString('signaling_mcu_backend_invalid_messages_total')).toMatch(/} 1$/m);
  });

  it('a bye from the proxy ends what lived in the session; the next hello registers anew', async () => {
    const a = await proxy();
    const sfu = await sfuFor([a]);
    const publisher = await sfu.newPublisher(request('bye'));
    const closed = waitForEvent(publisher, 'close');
    a.send({ type: 'bye', bye: { reason: 'session_expired' } });
    await closed;
    a.dropConnections();
    await waitFor(() => a.hellos().length === 2 && connOf(sfu, a).connected, { timeout: 3_000, name: 'reconnected' });
    expect(a.hellos()[1]).toEqual({ version: '1.0', token: expect.any(String) });
  });

  it('drops a proxy that stops answering pings and resumes on a new connection', async () => {
    const a = await proxy();
    const sfu = await sfuFor([a], { connection: { reconnect: { initialMs: 20, maxMs: 100 }, resumeGraceMs: 2_000, pingIntervalMs: 100 } });
    const publisher = await sfu.newPublisher(request('ping'));
    // The proxy stops reading its socket: no pongs (and nothing else) come back.
    const [socket] = [...a.sockets];
    (socket as unknown as { _socket: { pause(): void } })._socket.pause();
    await waitFor(() => a.hellos().length === 2 && connOf(sfu, a).connected, { timeout: 5_000, name: 'dropped and resumed' });
    expect(a.hellos()[1]).toHaveProperty('resumeid');
    expect(publisher.closed).toBe(false);
  });

  it('says bye to every proxy when stopped, after deleting its publishers', async () => {
    const a = await proxy();
    const sfu = await sfuFor([a]);
    await sfu.newPublisher(request('stop'));
    await sfu.stop();
    await waitFor(() => a.received.some((m) => m.type === 'bye'), { timeout: 2_000, name: 'bye received' });
    const types = a.received.map((m) => (m.type === 'command' ? m.command.type : m.type));
    expect(types.slice(-2)).toEqual(['delete-publisher', 'bye']);
  });

  it('resumes its proxy session after a dropped connection and keeps the publisher', async () => {
    const a = await proxy();
    const sfu = await sfuFor([a]);
    const publisher = await sfu.newPublisher(request('p'));
    const sessionId = connOf(sfu, a).sessionId;
    a.dropConnections();
    await waitFor(() => a.hellos().length === 2 && connOf(sfu, a).connected, { timeout: 3_000, name: 'resumed' });
    expect(a.hellos()[1]).toEqual({ version: '1.0', resumeid: sessionId });
    expect(publisher.closed).toBe(false);
    expect(await publisher.offer({ type: 'offer', sdp: 'v=0' })).toEqual({ type: 'answer', sdp: 'v=0 answer' });
  });

  it('drops what lived on a proxy that forgot our session, and registers anew with a token', async () => {
    const a = await proxy();
    const sfu = await sfuFor([a]);
    const publisher = await sfu.newPublisher(request('p'));
    const closed = waitForEvent(publisher, 'close');
    a.forgetSessions();
    a.dropConnections();
    await closed;
    await waitFor(() => connOf(sfu, a).connected, { timeout: 3_000, name: 'reconnected' });
    expect(a.hellos().map((h) => Object.keys(h).sort())).toEqual([['token', 'version'], ['resumeid', 'version'], ['token', 'version']]);
    expect(sfu.stats()).toMatchObject({ publishers: 0 });
    expect((await sfu.newPublisher(request('p'))).closed).toBe(false);
  });

  it('drops publishers and subscribers when the proxy loses its Janus or closes them', async () => {
    const a = await proxy();
    const sfu = await sfuFor([a]);
    const publisher = await sfu.newPublisher(request('p'));
    const sub = await sfu.newSubscriber({ subscriberId: 's', publisherId: 'p', streamType: 'video' });
    const both = Promise.all([waitForEvent(publisher, 'close'), waitForEvent(sub, 'close')]);
    a.send({ type: 'event', event: { type: 'backend-disconnected' } });
    await both;
    expect(await registry.getSingleMetricAsString('signaling_mcu_publishers')).toContain('{type="video"} 0');
    const again = await sfu.newPublisher(request('p'));
    const closed = waitForEvent(again, 'close');
    a.send({ type: 'event', event: { type: 'publisher-closed', clientId: again.clientId } });
    await closed;
  });

  it('deletes a publisher the proxy created after the request timed out', async () => {
    let held: { id: string; ws: any } | undefined;
    const a = await proxy({
      onCommand: (command, id, ws) => {
        if (command.type !== 'create-publisher' || held) return undefined;
        held = { id, ws };
        return 'no-answer';
      },
    });
    const sfu = await sfuFor([a], { proxyTimeoutMs: 200 });
    await expect(sfu.newPublisher(request('slow'))).rejects.toThrow(SfuNotFoundError);
    held!.ws.send(JSON.stringify({ id: held!.id, type: 'command', command: { id: 'late-pub', bitrate: 1 } }));
    await waitFor(() => a.commands('delete-publisher').some((c) => c.clientId === 'late-pub'), { timeout: 2_000, name: 'late publisher deleted' });
  });

  it('opens a temporary connection to an unlisted proxy and closes it once unused', async () => {
    const listed = await proxy();
    const other = await proxy();
    const sfu = await sfuFor([listed]);
    const conn = await sfu.connectionFor(other.url);
    expect(conn.temporary).toBe(true);
    expect(sfu.connections).toHaveLength(2);
    // Temporary connections take no publishers of ours.
    expect((await sfu.newPublisher(request('mine'))).connection.url).toBe(listed.url);
    const sub = await sfu.subscribeOn(conn, 'remote-pub-id', { subscriberId: 's', publisherId: 'elsewhere', streamType: 'video' });
    expect(other.commands('create-subscriber')[0]).toMatchObject({ publisherId: 'remote-pub-id' });
    await sub.close();
    await waitFor(() => sfu.connections.length === 1, { timeout: 2_000, name: 'temporary connection closed' });
    await waitFor(() => other.sockets.size === 0, { timeout: 2_000, name: 'socket closed' });
  });

  it('retires proxies removed from the list once their streams are gone; connects added ones', async () => {
    const a = await proxy();
    const b = await proxy();
    const sfu = await sfuFor([a]);
    const publisher = await sfu.newPublisher(request('p'));
    sfu.setTargets([{ url: b.url }]);
    await waitFor(() => connOf(sfu, b)?.connected, { timeout: 3_000, name: 'b connected' });
    expect(connOf(sfu, a).retiring).toBe(true);
    expect((await sfu.newPublisher(request('q'))).connection.url).toBe(b.url);
    await publisher.close();
    await waitFor(() => sfu.connections.length === 1, { timeout: 2_000, name: 'a closed' });
    expect(a.commands('delete-publisher')).toEqual([{ type: 'delete-publisher', clientId: publisher.clientId }]);
  });
});
