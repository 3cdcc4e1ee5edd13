import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  publisherOffer,
  startJanus,
  startSignalingProxy,
  waitFor,
  writeProxyTokenKey,
  type ManagedProcess,
  type SignalingProxy,
  type TestClient,
} from '@talk-signaling/testing';
import { JanusProbe, joinMember, mcuMessage, metrics, nextError, nextMcu, setInCall, stats, waitForFeature, type Member } from './mcu-helpers';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(60_000);

/**
 * `[mcu] type = proxy` against the real Go proxy 0.4.1 of the Debian package, in front of a real
 * Janus: hello with our RS256 token, publishing through the proxy, and a proxy killed and
 * restarted underneath (its publishers dropped, the connection back by itself).
 */
describe('MCU proxy (Go proxy 0.4.1 → Janus)', () => {
  let janus: ManagedProcess;
  let proxy: SignalingProxy;
  let keyDir: string;
  let setup: TestSetup;
  let probe: JanusProbe;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    keyDir = await mkdtemp(path.join(tmpdir(), 'talk-proxy-key-'));
    const key = await writeProxyTokenKey(keyDir, 'signaling-test');
    janus = await startJanus();
    proxy = await startSignalingProxy({ janusUrl: janus.url, tokenKey: key });
    setup = await startTestSetup({
      roomEventBatchMs: 5,
      extraConfig: [
        '[mcu]',
        'type = proxy',
        `url = ${proxy.url}`,
        `token_id = ${key.tokenId}`,
        `token_key = ${key.privateKeyPath}`,
        'timeout = 2',
        'proxytimeout = 2',
      ].join('\n'),
      mcu: { proxy: { reconnect: { initialMs: 50, maxMs: 200 }, resumeGraceMs: 200 } },
    });
    for (const room of ['pub', 'sub', 'kill']) setup.nextcloud.setRoom(room, {});
    await waitFor(() => setup.server.sfu?.connected, { timeout: 10_000, name: 'proxy connected' });
    probe = await JanusProbe.connect(janus.url);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await probe?.close();
    await setup?.stop();
    await proxy?.stop();
    await janus?.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  async function member(userid: string, roomid: string): Promise<Member> {
    const m = await joinMember(setup, userid, roomid);
    clients.push(m.client);
    return m;
  }

  const offer = (m: Member, roomType: string, id?: string) =>
    mcuMessage(m, { type: 'offer', sid: 'sid-1', roomType, payload: { type: 'offer', sdp: publisherOffer() } }, m.sessionid, id);

  it('connects with a token and announces the MCU features; stats list the proxy', async () => {
    await waitForFeature(setup, 'mcu', true);
    const body = await stats(setup);
    expect(body.mcu).toEqual({
      publishers: 0,
      clients: 0,
      details: [{ url: proxy.url, connected: true, publishers: 0, clients: 0, load: expect.any(Number), uptime: expect.any(String) }],
    });
    expect(await metrics(setup)).toMatch(/signaling_mcu_backend_connections\{country=""\} 1/);
    const info = (await (await fetch(`${setup.baseUrl}api/v1/serverinfo`)).json()) as { sfu: unknown };
    expect(info.sfu).toEqual({
      mode: 'proxy',
      proxies: [{ url: proxy.url, connected: true, temporary: false, shutdown: false, uptime: expect.any(String), version: expect.any(String), load: expect.any(Number) }],
    });
  });

  it('publishes through the proxy: the offer gets Janus’s answer, the room exists on Janus', async () => {
    const a = await member('pub-a', 'pub');
    offer(a, 'screen');
    const answer = await nextMcu(a, 'answer');
    expect(answer.message.data).toEqual({
      to: a.sessionid,
      from: a.sessionid,
      type: 'answer',
      roomType: 'screen',
      payload: { type: 'answer', sdp: expect.stringContaining('v=0') },
      sid: 'sid-1',
    });
    // The Go proxy names rooms after its own client id, so look for any room with our bitrate cap.
    await waitFor(async () => (await probe.rooms()).length > 0, { timeout: 5_000, name: 'room on janus' });
    const text = await metrics(setup);
    expect(text).toMatch(/signaling_mcu_publishers\{type="screen"\} 1/);
    expect((await stats(setup)).mcu.publishers).toBe(1);
  });

  it('a subscriber is created on the publisher’s proxy; without media its join fails cleanly', async () => {
    const a = await member('sub-a', 'sub');
    const b = await member('sub-b', 'sub');
    await setInCall(setup, 'sub', [a, b], 7);
    offer(a, 'screen');
    await nextMcu(a, 'answer');
    mcuMessage(b, { type: 'requestoffer', roomType: 'screen' }, a.sessionid, 'r1');
    // Hand-made SDP never brings the publisher's PeerConnection up, so Janus has no feed to
    // join: the proxy's subscriber exists, its requestoffer fails, and the client gets one
    // error. The offer itself is proven with real media by the Chromium test (tools/e2e).
    expect(await nextError(b, 20_000)).toEqual({
      id: 'r1',
      type: 'error',
      error: { code: 'processing_failed', message: 'Processing of the message failed, please check server logs.' },
    });
    expect(await metrics(setup)).toMatch(/signaling_mcu_subscribers_total\{type="screen"\} 1/);
  });

  it('a killed proxy drops its publishers; the connection comes back and publishing works again', async () => {
    const a = await member('kill-a', 'kill');
    offer(a, 'screen');
    await nextMcu(a, 'answer');
    proxy.kill();
    await waitForFeature(setup, 'mcu', false);
    await waitFor(async () => (await stats(setup)).mcu.publishers === 0, { timeout: 10_000, name: 'publishers dropped' });
    // Publishing meanwhile fails cleanly.
    offer(a, 'screen', 'o1');
    expect(await nextError(a)).toMatchObject({ id: 'o1', error: { code: 'client_not_found' } });
    await proxy.restart();
    await waitFor(() => setup.server.sfu?.connected, { timeout: 10_000, name: 'proxy reconnected' });
    await waitForFeature(setup, 'mcu', true);
    offer(a, 'screen');
    expect((await nextMcu(a, 'answer')).message.data.payload).toEqual({ type: 'answer', sdp: expect.stringContaining('v=0') });
    expect((await stats(setup)).mcu.publishers).toBe(1);
  });
});
