import { publisherOffer, startJanus, type TestClient, waitFor } from '@talk-signaling/testing';
import { JanusProbe, joinMember, mcuMessage, nextMcu, stats, waitForFeature, welcomeFeatures, type Member } from './mcu-helpers';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(40_000);

describe('MCU (janus) lifecycle', () => {
  const clients: TestClient[] = [];
  afterEach(() => {
    while (clients.length) clients.pop()!.close();
  });

  async function member(setup: TestSetup, userid: string, roomid: string): Promise<Member> {
    const m = await joinMember(setup, userid, roomid);
    clients.push(m.client);
    return m;
  }

  it('without [mcu] the MCU message types stay peer-to-peer messages', async () => {
    const setup = await startTestSetup({ roomEventBatchMs: 5 });
    try {
      setup.nextcloud.setRoom('p2p', {});
      expect(await welcomeFeatures(setup)).not.toContain('mcu');
      const a = await member(setup, 'plain-a', 'p2p');
      const b = await member(setup, 'plain-b', 'p2p');
      for (const type of ['offer', 'requestoffer', 'sendoffer', 'selectStream']) {
        const data = { type, roomType: 'video', sid: 's', payload: { type: 'offer', sdp: 'not even an sdp' } };
        mcuMessage(a, data, b.sessionid);
        expect((await nextMcu(b, type)).message).toEqual({ sender: { type: 'session', sessionid: a.sessionid, userid: 'plain-a' }, data });
      }
      expect((await stats(setup)).mcu).toBeUndefined();
    } finally {
      await setup.stop();
    }
  });

  it('starts before Janus, connects by retrying, and recovers from a Janus restart mid-call', async () => {
    const janus = await startJanus();
    janus.kill();
    const setup = await startTestSetup({
      roomEventBatchMs: 5,
      extraConfig: `[mcu]\ntype = janus\nurl = ${janus.url}\ntimeout = 2\n`,
      mcu: { startRetry: { initialMs: 100, maxMs: 400 }, reconnect: { initialMs: 100, maxMs: 400 } },
    });
    let probe: JanusProbe | undefined;
    try {
      setup.nextcloud.setRoom('restart', {});
      // Janus is not there: no MCU features, stats say disconnected, offers stay peer-to-peer.
      expect(await welcomeFeatures(setup)).not.toEqual(expect.arrayContaining(['mcu']));
      expect((await stats(setup)).mcu).toEqual({ url: janus.url, connected: false, publishers: 0, clients: 0 });
      const early = await member(setup, 'early', 'restart');
      const early2 = await member(setup, 'early2', 'restart');
      mcuMessage(early, { type: 'offer', roomType: 'video', payload: { type: 'offer', sdp: 'v=0\r\n' } }, early2.sessionid);
      expect((await nextMcu(early2, 'offer')).message.sender.sessionid).toBe(early.sessionid);

      // The start-up retry finds Janus once it is up.
      await janus.restart();
      await waitForFeature(setup, 'mcu', true);
      expect(await welcomeFeatures(setup)).toEqual(expect.arrayContaining(['mcu', 'simulcast', 'update-sdp', 'offer-codecs']));
      probe = await JanusProbe.connect(janus.url);

      const a = await member(setup, 'rs-a', 'restart');
      mcuMessage(a, { type: 'offer', sid: 'a-sid', roomType: 'video', payload: { type: 'offer', sdp: publisherOffer() } });
      expect((await nextMcu(a, 'answer')).message.data.sid).toBe('a-sid');
      const before = await probe.roomOf(a.sessionid, 'video');
      expect(before).toBeDefined();
      expect((await stats(setup)).mcu).toMatchObject({ connected: true, publishers: 1, clients: 1 });

      // Janus dies: features withdrawn, stats say so.
      janus.kill();
      await waitForFeature(setup, 'mcu', false);
      expect((await stats(setup)).mcu).toMatchObject({ connected: false });

      // Janus is back: features again, A's publisher re-created in a new room under the same id.
      await janus.restart();
      await waitForFeature(setup, 'mcu', true);
      await probe.close();
      probe = await JanusProbe.connect(janus.url);
      const probeNow = probe;
      const after = await waitFor(() => probeNow.roomOf(a.sessionid, 'video'), { timeout: 5_000, name: 'publisher room re-created' });
      expect(after.description).toBe(`${a.sessionid}|video`);
      expect((await stats(setup)).mcu).toMatchObject({ connected: true, publishers: 1 });
      // The client (whose ICE to the old Janus failed) renegotiates on the same publisher.
      mcuMessage(a, { type: 'offer', sid: 'a-sid', roomType: 'video', payload: { type: 'offer', sdp: publisherOffer() } });
      expect((await nextMcu(a, 'answer')).message.data).toMatchObject({ type: 'answer', sid: 'a-sid' });
      expect((await probe.rooms()).filter((r) => r.description === `${a.sessionid}|video`)).toHaveLength(1);
    } finally {
      await probe?.close();
      await setup.stop();
      await janus.stop();
    }
  });
});
