import { TestClient, waitFor } from '@talk-signaling/testing';
import { INTERNAL_SECRET, startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(20_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

const isParticipantsUpdate = (m: Msg) => m.type === 'event' && m.event.target === 'participants' && m.event.type === 'update';

/** Three behaviours that differed from upstream (issue 13), each over real sockets. */
describe('behaviours as upstream', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5, timeouts: { resumeWindowMs: 10_000 } });
    setup.nextcloud.setRoom('room-1', {});
    setup.nextcloud.setRoom('4711', {});
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await setup.stop();
  });

  async function user(userid: string, roomid?: string) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
    if (roomid) {
      await client.joinRoom(roomid, `nc-${userid}`);
      await client.waitForMessage((m) => m.type === 'event' && m.event.type === 'join');
    }
    return { client, hello: reply.hello };
  }

  async function internal(features: string[] = []) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET, features });
    expect(reply.type).toBe('hello');
    return { client, sessionid: reply.hello.sessionid as string };
  }

  it('an internal client joining or leaving a room sends the members a participants update listing it (fact sheet 1.12)', async () => {
    const ann = await user('ann-1', 'room-1');
    const recorder = await internal();
    await recorder.client.joinRoom('room-1');
    const joined = await ann.client.waitForMessage(isParticipantsUpdate);
    expect(joined.event.update).toEqual({
      roomid: 'room-1',
      users: [{ inCall: 3, sessionId: recorder.sessionid, lastPing: expect.any(Number), internal: true }],
    });
    // Leaving: the leave event, then an update without it.
    const other = await internal();
    await other.client.joinRoom('room-1');
    const both = await ann.client.waitForMessage(isParticipantsUpdate);
    expect(both.event.update.users.map((u: Msg) => u.sessionId).sort()).toEqual([recorder.sessionid, other.sessionid].sort());
    await recorder.client.bye();
    await ann.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'leave');
    const left = await ann.client.waitForMessage(isParticipantsUpdate);
    expect(left.event.update.users).toEqual([{ inCall: 3, sessionId: other.sessionid, lastPing: expect.any(Number), internal: true }]);
    await other.client.bye();
    await ann.client.bye();
  });

  it('a dialout request without a connected dialout client is answered 404 no_client_available at once (fact sheet 2.3.10)', async () => {
    // A dialout-capable bridge that is busy in a room does not count (1.12.6), nor does one that went away.
    const busy = await internal(['start-dialout']);
    await busy.client.joinRoom('room-1');
    const gone = await internal(['start-dialout']);
    gone.client.close();
    await gone.client.closed();
    const res = await setup.nextcloud.backendRequest(setup.baseUrl, '4711', { type: 'dialout', dialout: { number: '+4930123456' } });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({
      type: 'dialout',
      dialout: { error: { code: 'no_client_available', message: 'No available client found to trigger dialout.' } },
    });
    await busy.client.bye();
  });

  it('keeps one chat refresh for a detached session, even with other messages between them (fact sheet 1.4.6)', async () => {
    const bob = await user('bob-1', 'room-1');
    const sender = await user('sender-1', 'room-1');
    await bob.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'join');
    bob.client.close();
    await bob.client.closed();
    await waitFor(() => setup.server.sessions.byPublicId(bob.hello.sessionid)?.connection === undefined, { timeout: 5_000, name: 'bob detached' });
    const refresh = { type: 'chat', chat: { refresh: true } };
    const to = { type: 'session', sessionid: bob.hello.sessionid };
    for (const data of [refresh, { n: 1 }, refresh, { n: 2 }, refresh]) sender.client.send({ type: 'message', message: { recipient: to, data } });
    // A marker that arrives last: everything before it is queued.
    sender.client.send({ type: 'message', message: { recipient: to, data: { n: 'last' } } });
    await waitFor(() => (setup.server.sessions.byPublicId(bob.hello.sessionid)?.pendingCount ?? 0) >= 4, { timeout: 5_000, name: 'queued' });
    const again = await TestClient.connect(setup.wsUrl);
    clients.push(again);
    expect((await again.resume(bob.hello.resumeid)).type).toBe('hello');
    const data: unknown[] = [];
    while (!data.some((d) => (d as { n?: unknown }).n === 'last')) data.push((await again.waitForMessage((m) => m.type === 'message')).message.data);
    expect(data).toEqual([refresh, { n: 1 }, { n: 2 }, { n: 'last' }]);
    await again.bye();
    await sender.client.bye();
  });
});
