import { publisherOffer, startJanus, type ManagedProcess, type TestClient, waitFor } from '@talk-signaling/testing';
import { JanusProbe, joinMember, mcuMessage, metrics, nextError, nextMcu, setInCall, stats, welcomeFeatures, type Member } from './mcu-helpers';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(30_000);

/**
 * MCU flows (fact sheet 1.9) through real client sockets against a real Janus. Media never
 * flows (hand-made SDP, no ICE/DTLS), so a WebRTC publisher never becomes a joinable feed (Janus
 * 428 until its PeerConnection is up): subscribing is covered here up to the documented waiting
 * path; the offer to the subscriber and everything after it run against a scripted SFU in
 * mcu-flows.int.spec.ts, and with real media in the Chromium end-to-end test (tools/e2e).
 */
describe('MCU (janus) message flows', () => {
  let janus: ManagedProcess;
  let setup: TestSetup;
  let probe: JanusProbe;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    janus = await startJanus();
    setup = await startTestSetup({
      roomEventBatchMs: 5,
      extraConfig: `[mcu]\ntype = janus\nurl = ${janus.url}\ntimeout = 1\nmaxstreambitrate = 400000\n`,
      backendConfig: 'maxstreambitrate = 300000\nmaxscreenbitrate = 0',
      mcu: { unshareScreenDelayMs: 1_000 },
    });
    for (const room of ['pub', 'call', 'leave', 'perm', 'screen']) setup.nextcloud.setRoom(room, {});
    setup.nextcloud.setRoom('audio-only', { permissions: ['publish-audio'] });
    setup.nextcloud.setRoom('no-publish', { permissions: [] });
    await waitFor(() => setup.server.sfu?.connected, { timeout: 10_000, name: 'janus connected' });
    probe = await JanusProbe.connect(janus.url);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await probe?.close();
    await setup?.stop();
    await janus?.stop();
  });

  async function member(userid: string, roomid: string): Promise<Member> {
    const m = await joinMember(setup, userid, roomid);
    clients.push(m.client);
    return m;
  }

  const offer = (m: Member, extra: Record<string, unknown> = {}, sdp = publisherOffer(), id?: string) =>
    mcuMessage(m, { type: 'offer', sid: 'sid-1', roomType: 'video', payload: { type: 'offer', sdp }, ...extra }, m.sessionid, id);

  it('announces mcu, simulcast, update-sdp and offer-codecs while Janus is up', async () => {
    expect(await welcomeFeatures(setup)).toEqual(expect.arrayContaining(['mcu', 'simulcast', 'update-sdp', 'offer-codecs']));
  });

  it('publishes video: answer shape, bitrate caps, offer codecs, update-sdp reuse, candidates', async () => {
    const a = await member('pub-a', 'pub');
    offer(a, { bitrate: 500_000, audiocodec: 'opus', videocodec: 'vp9,vp8', vp9profile: '2' });
    const answer = await nextMcu(a, 'answer');
    expect(answer).toEqual({
      type: 'message',
      message: {
        sender: { type: 'session', sessionid: a.sessionid, userid: 'pub-a' },
        data: { to: a.sessionid, from: a.sessionid, type: 'answer', roomType: 'video', payload: { type: 'answer', sdp: expect.stringContaining('v=0') }, sid: 'sid-1' },
      },
    });
    // Backend cap 300000 < requested 500000 < [mcu] 400000; codecs reach the room.
    const room = await probe.roomOf(a.sessionid, 'video');
    expect(room).toMatchObject({ bitrate: 300_000, audiocodec: 'opus', videocodec: 'vp9,vp8' });

    // update-sdp: a second offer renegotiates on the same publisher (same room, same sid).
    offer(a, { sid: 'other-sid' }, publisherOffer({ video: false }));
    const again = await nextMcu(a, 'answer');
    expect(again.message.data.sid).toBe('sid-1');
    expect((await probe.roomOf(a.sessionid, 'video')).room).toBe(room.room);

    // Candidates for the own publisher are trickled; a foreign sid fails; endOfCandidates is ignored.
    const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    mcuMessage(a, { type: 'candidate', sid: 'sid-1', roomType: 'video', payload: { candidate } });
    mcuMessage(a, { type: 'endOfCandidates', sid: 'sid-1', roomType: 'video' });
    await a.client.expectNoMessage(200);
    mcuMessage(a, { type: 'candidate', sid: 'wrong', roomType: 'video', payload: { candidate } }, a.sessionid, 'c1');
    expect(await nextError(a)).toEqual({
      id: 'c1',
      type: 'error',
      error: { code: 'processing_failed', message: 'Processing of the message failed, please check server logs.' },
    });
    // No screen publisher yet: candidates for it find no MCU client.
    mcuMessage(a, { type: 'candidate', roomType: 'screen', payload: { candidate } }, a.sessionid, 'c2');
    expect(await nextError(a)).toEqual({ id: 'c2', type: 'error', error: { code: 'client_not_found', message: 'No MCU client found to send message to.' } });

    const body = await stats(setup);
    expect(body.mcu).toEqual({ url: janus.url, connected: true, publishers: expect.any(Number), clients: expect.any(Number), uptime: expect.any(String) });
    expect(body.mcu.publishers).toBeGreaterThanOrEqual(1);
    const text = await metrics(setup);
    expect(text).toMatch(/signaling_mcu_publishers\{type="video"\} [1-9]/);
    expect(text).toMatch(/signaling_mcu_messages_total\{type="offer"\} [1-9]/);
  });

  it('rejects invalid MCU data: room type, missing and unparsable SDP', async () => {
    const a = await member('bad-a', 'pub');
    mcuMessage(a, { type: 'offer', roomType: 'nope', payload: { type: 'offer', sdp: publisherOffer() } }, a.sessionid, 'e1');
    expect((await nextError(a)).error.code).toBe('invalid_format');
    mcuMessage(a, { type: 'offer', roomType: 'video', payload: { type: 'offer' } }, a.sessionid, 'e2');
    expect(await nextError(a)).toEqual({ id: 'e2', type: 'error', error: { code: 'no_sdp', message: 'Payload does not contain a SDP.' } });
    mcuMessage(a, { type: 'offer', roomType: 'video', payload: { type: 'offer', sdp: 'garbage' } }, a.sessionid, 'e3');
    expect(await nextError(a)).toEqual({
      id: 'e3',
      type: 'error',
      error: { code: 'invalid_sdp', message: 'Error parsing SDP from payload.', details: { error: expect.stringContaining('sdp') } },
    });
    // `audio` is not publishable.
    offer(a, { roomType: 'audio' }, publisherOffer(), 'e4');
    expect((await nextError(a)).error.code).toBe('client_not_found');
  });

  it('checks publish permissions against the SDP and the stream type', async () => {
    const a = await member('perm-a', 'audio-only');
    offer(a, {}, publisherOffer(), 'p1');
    expect(await nextError(a)).toEqual({ id: 'p1', type: 'error', error: { code: 'not_allowed', message: 'Not allowed to publish.' } });
    offer(a, { roomType: 'screen' }, publisherOffer({ audio: false }), 'p2');
    expect(await nextError(a)).toEqual({ id: 'p2', type: 'error', error: { code: 'not_allowed', message: 'Not allowed to publish.' } });
    // Audio only is covered by publish-audio.
    offer(a, {}, publisherOffer({ video: false }));
    expect((await nextMcu(a, 'answer')).message.data.roomType).toBe('video');

    const n = await member('perm-n', 'no-publish');
    mcuMessage(n, { type: 'candidate', roomType: 'video', payload: { candidate: { candidate: 'x' } } }, n.sessionid, 'p3');
    expect(await nextError(n)).toEqual({ id: 'p3', type: 'error', error: { code: 'not_allowed', message: 'Not allowed to send candidate.' } });
    mcuMessage(n, { type: 'sendoffer', roomType: 'video' }, a.sessionid, 'p4');
    expect(await nextError(n)).toEqual({ id: 'p4', type: 'error', error: { code: 'not_allowed', message: 'Not allowed to send offer' } });
  });

  it('shares the screen and closes it 1 s after unshareScreen', async () => {
    const a = await member('scr-a', 'screen');
    mcuMessage(a, { type: 'offer', sid: 'scr', roomType: 'screen', payload: { type: 'offer', sdp: publisherOffer({ audio: false }) } });
    expect((await nextMcu(a, 'answer')).message.data).toMatchObject({ type: 'answer', roomType: 'screen', sid: 'scr' });
    const room = await probe.roomOf(a.sessionid, 'screen');
    expect(room.bitrate).toBe(2_097_152); // backend screen cap 0: the [mcu] default
    const sent = Date.now();
    mcuMessage(a, { type: 'unshareScreen', roomType: 'screen' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await probe.roomOf(a.sessionid, 'screen')).toBeDefined();
    await waitFor(async () => (await probe.roomOf(a.sessionid, 'screen')) === undefined, { timeout: 3_000, name: 'screen room destroyed' });
    expect(Date.now() - sent).toBeGreaterThanOrEqual(1_000);
  });

  it('subscribes: same-call check, then waits for the media-less publisher and gives up', async () => {
    const a = await member('call-a', 'call');
    const b = await member('call-b', 'call');
    offer(a);
    await nextMcu(a, 'answer');
    const requestOffer = (id: string, extra: Record<string, unknown> = {}) =>
      mcuMessage(b, { type: 'requestoffer', roomType: 'video', ...extra }, a.sessionid, id);

    // Nobody in the call yet.
    requestOffer('r1');
    expect(await nextError(b)).toEqual({ id: 'r1', type: 'error', error: { code: 'not_allowed', message: 'Not allowed to request offer.' } });
    await setInCall(setup, 'call', [a, b], 7);

    // The WebRTC publisher has no media, so Janus has no feed (428): the server waits for the
    // publisher's webrtcup up to [mcu] timeout (1 s), then gives up.
    const before = Date.now();
    requestOffer('r2');
    expect(await nextError(b, 5_000)).toEqual({
      id: 'r2',
      type: 'error',
      error: { code: 'processing_failed', message: 'Processing of the message failed, please check server logs.' },
    });
    expect(Date.now() - before).toBeGreaterThanOrEqual(900);
    expect(await metrics(setup)).toMatch(/signaling_mcu_nopublisher_total\{type="video"\} [1-9]/);

    // Offers, answers, selectStream, renegotiation and sendoffer with a live feed: mcu-flows.int.spec.ts.
  });

  it('releases MCU objects on leaving the call, losing permissions and leaving the room', async () => {
    const a = await member('rel-a', 'leave');
    const b = await member('rel-b', 'leave');
    await setInCall(setup, 'leave', [a, b], 7);
    const publish = async (m: Member) => {
      offer(m);
      await nextMcu(m, 'answer');
      expect(await probe.roomOf(m.sessionid, 'video')).toBeDefined();
    };
    const gone = (m: Member) => waitFor(async () => (await probe.roomOf(m.sessionid, 'video')) === undefined, { timeout: 3_000, name: 'room destroyed' });

    await publish(a);
    await setInCall(setup, 'leave', [a], 0);
    await gone(a);

    // Permission update without publish rights closes the video publisher.
    await publish(b);
    const changed = [{ sessionId: b.ncSession, inCall: 7, permissions: ['publish-screen'] }];
    await setup.nextcloud.backendRequest(setup.baseUrl, 'leave', { type: 'participants', participants: { changed, users: changed } });
    await gone(b);
    // … while a screen publisher the new list still allows stays.
    mcuMessage(b, { type: 'offer', sid: 's', roomType: 'screen', payload: { type: 'offer', sdp: publisherOffer({ audio: false }) } });
    await nextMcu(b, 'answer');

    await b.client.joinRoom('');
    await waitFor(async () => (await probe.roomOf(b.sessionid, 'screen')) === undefined, { timeout: 3_000, name: 'screen room destroyed' });
  });

  it('releases MCU objects when the session ends', async () => {
    const a = await member('bye-a', 'pub');
    offer(a);
    await nextMcu(a, 'answer');
    expect(await probe.roomOf(a.sessionid, 'video')).toBeDefined();
    await a.client.bye();
    await waitFor(async () => (await probe.roomOf(a.sessionid, 'video')) === undefined, { timeout: 3_000, name: 'room destroyed' });
  });
});
