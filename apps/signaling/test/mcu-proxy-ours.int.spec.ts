import { existsSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger } from '@talk-signaling/runtime';
import {
  publisherOffer,
  startJanus,
  startSignalingProxy,
  waitFor,
  writeProxyTokenKey,
  type ManagedProcess,
  type ProxyTokenKey,
  type SignalingProxy,
  type TestClient,
} from '@talk-signaling/testing';
import { createProxyMetrics } from '../src/mcu/proxy/proxy-metrics';
import { ProxySfu } from '../src/mcu/proxy/proxy-sfu';
import { JanusProbe, joinMember, mcuMessage, metrics, nextMcu, type Member } from './mcu-helpers';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(90_000);

/** Our mcu-proxy, built (the signaling test target builds it first). */
const PROXY_MAIN = path.resolve(__dirname, '../../../dist/apps/mcu-proxy/main.js');

/**
 * `[mcu] type = proxy` against two of our own mcu-proxies as processes (countries DE and US; the US
 * one can pull remote streams from the DE one),
 * each in front of its own Janus: placement by country (the SFU directly, and through the
 * signaling server with a GeoIP override), publishers spread by load, a proxy told to shut down
 * (SIGUSR1) takes no new publishers and exits once its last one is gone, and a proxy killed
 * mid-call.
 */
describe('MCU proxy (our mcu-proxy ×2 → Janus ×2)', () => {
  let keyDir: string;
  let key: ProxyTokenKey;
  const janus: ManagedProcess[] = [];
  const proxies: SignalingProxy[] = [];
  const probes: JanusProbe[] = [];
  const clients: TestClient[] = [];
  let setup: TestSetup | undefined;

  beforeAll(async () => {
    if (!existsSync(PROXY_MAIN)) throw new Error(`${PROXY_MAIN} missing: run "npx nx build mcu-proxy" (the signaling test target depends on it)`);
    keyDir = await mkdtemp(path.join(tmpdir(), 'talk-proxy-key-'));
    key = await writeProxyTokenKey(keyDir, 'signaling-test');
    // The US proxy can pull streams from the DE proxy (remote streams): its own token identity,
    // accepted by the DE proxy.
    const usKey = await writeProxyTokenKey(keyDir, 'proxy-us');
    const extra = {
      DE: `[tokens]\n${usKey.tokenId} = ${usKey.publicKeyPath}`,
      US: `[app]\ntoken_id = ${usKey.tokenId}\ntoken_key = ${usKey.privateKeyPath}\nhostname = 127.0.0.1`,
    };
    for (const country of ['DE', 'US'] as const) {
      const j = await startJanus();
      janus.push(j);
      probes.push(await JanusProbe.connect(j.url));
      proxies.push(
        await startSignalingProxy({
          janusUrl: j.url,
          tokenKey: key,
          country,
          binary: process.execPath,
          args: [PROXY_MAIN],
          readyPath: '/ready',
          extraConfig: extra[country],
        }),
      );
    }
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await setup?.stop();
    for (const p of probes) await p.close();
    for (const p of proxies) await p.stop();
    for (const j of janus) await j.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  async function member(userid: string, roomid: string): Promise<Member> {
    const m = await joinMember(setup!, userid, roomid);
    clients.push(m.client);
    return m;
  }

  const offer = (m: Member, id?: string, bitrate?: number) =>
    mcuMessage(m, { type: 'offer', sid: 'sid-1', roomType: 'video', ...(bitrate ? { bitrate } : {}), payload: { type: 'offer', sdp: publisherOffer() } }, m.sessionid, id);

  const mcuSection = () =>
    ['[mcu]', 'type = proxy', `url = ${proxies.map((p) => p.url).join(' ')}`, `token_id = ${key.tokenId}`, `token_key = ${key.privateKeyPath}`, 'timeout = 2', 'proxytimeout = 2'].join('\n');
  const proxySfu = () => setup!.server.sfu as ProxySfu;
  const roomCounts = async () => Promise.all(probes.map(async (p) => (await p.rooms()).length));

  it('places publishers by the proxies’ countries (ProxySfu with a client country)', async () => {
    const registry = new Registry();
    const sfu = new ProxySfu({
      tokenId: key.tokenId,
      tokenKey: createPrivateKey(readFileSync(key.privateKeyPath)),
      timeoutMs: 2_000,
      proxyTimeoutMs: 2_000,
      maxStreamBitrate: 1_000_000,
      maxScreenBitrate: 2_000_000,
      continentOverrides: {},
      metrics: createProxyMetrics(registry),
      log: silentLogger(),
    });
    try {
      sfu.setTargets(proxies.map((p) => ({ url: p.url })));
      sfu.start();
      await waitFor(() => sfu.connections.every((c) => c.connected), { timeout: 10_000, name: 'both proxies connected' });
      expect(sfu.connections.map((c) => c.country)).toEqual(['DE', 'US']);
      const request = { sid: 's', streamType: 'video' as const, bitrate: 0, mediaTypes: 3 };
      const us = await sfu.newPublisher({ ...request, publisherId: 'from-us', country: 'US' });
      expect(us.connection.url).toBe(proxies[1]!.url);
      const ca = await sfu.newPublisher({ ...request, publisherId: 'from-ca', country: 'CA' });
      expect(ca.connection.url).toBe(proxies[1]!.url);
      const at = await sfu.newPublisher({ ...request, publisherId: 'from-at', country: 'AT' });
      expect(at.connection.url).toBe(proxies[0]!.url);
      await waitFor(async () => (await roomCounts()).join() === '1,2', { timeout: 5_000, name: 'rooms on both Janus' });
      await Promise.all([us.close(), ca.close(), at.close()]);
      await waitFor(async () => (await roomCounts()).join() === '0,0', { timeout: 5_000, name: 'rooms gone from both Janus' });
    } finally {
      await sfu.stop();
    }
  });

  it('subscribes a client far from the publisher’s proxy through a remote stream on its own proxy', async () => {
    const sfu = new ProxySfu({
      tokenId: key.tokenId,
      tokenKey: createPrivateKey(readFileSync(key.privateKeyPath)),
      timeoutMs: 5_000,
      proxyTimeoutMs: 5_000,
      maxStreamBitrate: 1_000_000,
      maxScreenBitrate: 2_000_000,
      continentOverrides: {},
      metrics: createProxyMetrics(new Registry()),
      log: silentLogger(),
    });
    try {
      sfu.setTargets(proxies.map((p) => ({ url: p.url })));
      sfu.start();
      await waitFor(() => sfu.connections.every((c) => c.connected), { timeout: 10_000, name: 'both proxies connected' });
      expect(sfu.connections.map((c) => c.features.includes('remote-streams'))).toEqual([false, true]);
      const publisher = await sfu.newPublisher({ publisherId: 'remote-pub', sid: 's', streamType: 'video', bitrate: 0, mediaTypes: 3, country: 'DE' });
      expect(publisher.connection.url).toBe(proxies[0]!.url);
      expect((await publisher.offer({ type: 'offer', sdp: publisherOffer() })).type).toBe('answer');
      // A subscriber in the US: its best proxy is the US one, which pulls the stream from DE.
      const subscriber = await sfu.newSubscriber({ subscriberId: 'far', publisherId: 'remote-pub', streamType: 'video', country: 'US' });
      expect(subscriber.connection.url).toBe(proxies[1]!.url);
      expect(subscriber.remote).toBe(true);
      const offer = await subscriber.requestOffer(undefined, undefined);
      expect(offer).toEqual({ type: 'offer', sdp: expect.stringContaining('v=0') });
      // A subscriber in Germany stays on the publisher's proxy.
      const near = await sfu.newSubscriber({ subscriberId: 'near', publisherId: 'remote-pub', streamType: 'video', country: 'DE' });
      expect(near.connection.url).toBe(proxies[0]!.url);
      expect(near.remote).toBe(false);
      await Promise.all([subscriber.close(), near.close(), publisher.close()]);
      await waitFor(async () => (await roomCounts()).join() === '0,0', { timeout: 10_000, name: 'rooms gone from both Janus' });
    } finally {
      await sfu.stop();
    }
  });

  it('places a publisher on the proxy in the client’s country (GeoIP override) through the signaling server', async () => {
    const countrySetup = await startTestSetup({
      roomEventBatchMs: 5,
      extraConfig: [mcuSection(), '[geoip-overrides]', '127.0.0.1 = US'].join('\n'),
    });
    try {
      countrySetup.nextcloud.setRoom('country', {});
      const sfu = countrySetup.server.sfu as ProxySfu;
      await waitFor(() => sfu.connections.length === 2 && sfu.connections.every((c) => c.connected), { timeout: 10_000, name: 'both proxies connected' });
      const m = await joinMember(countrySetup, 'country-a', 'country');
      clients.push(m.client);
      // The first proxy (DE) is listed first and as loaded as the second (US): the country decides.
      offer(m);
      await nextMcu(m, 'answer');
      expect(await roomCounts()).toEqual([0, 1]);
      await m.client.bye();
      await waitFor(async () => (await roomCounts()).join() === '0,0', { timeout: 5_000, name: 'room deleted' });
    } finally {
      await countrySetup.stop();
    }
  });

  it('spreads publishers by load through the signaling server; SIGUSR1 on a proxy takes it out of placement until it exits', async () => {
    setup = await startTestSetup({
      roomEventBatchMs: 5,
      extraConfig: mcuSection(),
      mcu: { proxy: { reconnect: { initialMs: 50, maxMs: 200 }, resumeGraceMs: 200 } },
    });
    setup.nextcloud.setRoom('load', {});
    await waitFor(() => proxySfu().connections.length === 2 && proxySfu().connections.every((c) => c.connected), {
      timeout: 10_000,
      name: 'both proxies connected',
    });
    const [p1, p2] = proxies as [SignalingProxy, SignalingProxy];
    const loadOf = async (p: SignalingProxy) => Number(new RegExp(`signaling_mcu_backend_load\\{url="${p.url}"\\} (\\d+)`).exec(await metrics(setup!))?.[1] ?? NaN);

    const a = await member('load-a', 'load');
    offer(a);
    await nextMcu(a, 'answer');
    expect(await roomCounts()).toEqual([1, 0]);
    // The first proxy reports its new load (published bitrate / 1024); the next publisher, with a
    // small bitrate, goes to the second, which is then the less loaded one.
    await waitFor(async () => (await loadOf(p1)) > 0, { timeout: 5_000, name: 'load reported' });
    const b = await member('load-b', 'load');
    offer(b, undefined, 100_000);
    await nextMcu(b, 'answer');
    expect(await roomCounts()).toEqual([1, 1]);
    await waitFor(async () => (await loadOf(p2)) > 0, { timeout: 5_000, name: 'second load reported' });
    expect(await loadOf(p2)).toBeLessThan(await loadOf(p1));

    // The second proxy is told to shut down: it keeps b's publisher but takes no new ones, so the
    // next publisher goes to the more loaded first proxy.
    p2.kill('SIGUSR1');
    await waitFor(() => proxySfu().connections.find((c) => c.url === p2.url)?.shutdownScheduled === true, { timeout: 5_000, name: 'shutdown-scheduled' });
    const c = await member('load-c', 'load');
    offer(c);
    await nextMcu(c, 'answer');
    expect(await roomCounts()).toEqual([2, 1]);
    expect(p2.pid).toBeDefined();

    // b leaves the call: its publisher is deleted, the draining proxy exits by itself.
    await b.client.bye();
    await waitFor(async () => (await roomCounts())[1] === 0, { timeout: 10_000, name: 'b’s room deleted' });
    await waitFor(() => proxySfu().connections.find((conn) => conn.url === p2.url)?.connected === false, { timeout: 10_000, name: 'second proxy gone' });
  });

  it('a proxy killed mid-call: its publishers are dropped and clients publish again on the other one', async () => {
    const [p1, p2] = proxies as [SignalingProxy, SignalingProxy];
    await p2.restart();
    await waitFor(() => proxySfu().connections.every((c) => c.connected && !c.shutdownScheduled), { timeout: 10_000, name: 'second proxy back' });
    const d = await member('kill-d', 'load');
    // p1 carries two publishers, so d goes to p2; then p2 is killed under it.
    offer(d);
    await nextMcu(d, 'answer');
    expect((await roomCounts())[1]).toBe(1);
    p2.kill();
    await waitFor(async () => !/signaling_mcu_publishers\{type="video"\} 3/.test(await metrics(setup!)), { timeout: 10_000, name: 'publisher dropped' });
    offer(d, 'again');
    const answer = await d.client.waitForMessage((m) => m.type === 'error' || (m.type === 'message' && m.message?.data?.type === 'answer'), 10_000);
    expect(answer.type).toBe('message');
    expect((await roomCounts())[0]).toBe(3);
    expect(proxySfu().connections.find((c) => c.url === p1.url)?.connected).toBe(true);
  });

  it('a proxy’s Janus killed mid-call: the proxy reports it, its publishers are dropped, clients publish again elsewhere', async () => {
    const [p1, p2] = proxies as [SignalingProxy, SignalingProxy];
    const [j1] = janus as [ManagedProcess, ManagedProcess];
    await p2.restart();
    await waitFor(() => proxySfu().connections.every((c) => c.connected), { timeout: 10_000, name: 'second proxy back' });
    const e = await member('janus-e', 'load');
    offer(e);
    await nextMcu(e, 'answer');
    const publishers = async () => Number(/signaling_mcu_publishers\{type="video"\} (\d+)/.exec(await metrics(setup!))?.[1]);
    // a, c and d on the first proxy; e on the (less loaded) second.
    expect(await publishers()).toBe(4);
    // (Janus 2 may still hold the room of the proxy killed above until the restarted proxy's
    // orphan check removes it: compare counts, not absolute numbers.)
    const [firstRooms, secondRooms] = await roomCounts();
    expect(firstRooms).toBe(3);
    j1.kill();
    // backend-disconnected from the first proxy: its three publishers are dropped, its connection stays.
    await waitFor(async () => (await publishers()) === 1, { timeout: 10_000, name: 'publishers of the first proxy dropped' });
    expect(proxySfu().connections.find((c) => c.url === p1.url)?.connected).toBe(true);
    // A new publisher: the first proxy (now the least loaded, but without Janus) fails, the second takes it.
    const f = await member('janus-f', 'load');
    offer(f);
    expect((await nextMcu(f, 'answer')).message.data.payload.type).toBe('answer');
    // (The probe of the killed Janus is gone with it: only the second one is asked.)
    expect((await probes[1]!.rooms()).length).toBe(secondRooms! + 1);
    expect(await publishers()).toBe(2);
  });
});
