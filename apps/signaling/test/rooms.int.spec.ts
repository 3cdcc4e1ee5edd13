import { TestClient, waitFor } from '@talk-signaling/testing';
import { nodeOf, startTestSetup, withoutRecipient, type TestSetup } from './test-server';

jest.setTimeout(20_000);

describe('rooms and messages', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5, anonymousJoinTimeoutMs: 400 });
    setup.nextcloud.setRoom('room-1', { properties: { name: 'Room one', type: 2 } });
    setup.nextcloud.setRoom('room-2', {});
    setup.nextcloud.setRoom('locked', { error: { code: 'no_such_room', message: 'The user is not invited to this room.' } });
  });
  afterAll(async () => {
    await setup.stop();
  });
  afterEach(() => {
    while (clients.length) clients.pop()!.close();
  });

  /** A connected user session with the welcome consumed. */
  async function user(userid: string, userData?: Record<string, unknown>) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid, userData ? { user: userData } : {}) });
    expect(reply.type).toBe('hello');
    await client.next('welcome');
    return { client, sessionid: reply.hello.sessionid as string, userid };
  }

  it('joins through Nextcloud and announces members to each other', async () => {
    const a = await user('ann', { displayname: 'Ann' });
    const joinA = await a.client.joinRoom('room-1', 'nc-sess-a', { id: 'j1' });
    expect(joinA).toEqual({ id: 'j1', type: 'room', room: { roomid: 'room-1', properties: { name: 'Room one', type: 2 } } });
    const request = setup.nextcloud.requests.filter((r) => r.type === 'room').at(-1)!;
    expect(request.body).toEqual({ type: 'room', room: { version: '1.0', roomid: 'room-1', userid: 'ann', sessionid: 'nc-sess-a' } });
    expect(request.checksumValid).toBe(true);
    // The joiner learns about itself.
    expect(await a.client.next('event')).toEqual({
      type: 'event',
      event: {
        target: 'room',
        type: 'join',
        join: [{ sessionid: a.sessionid, userid: 'ann', user: { displayname: 'Ann' }, roomsessionid: 'nc-sess-a' }],
      },
    });

    const b = await user('ben');
    await b.client.joinRoom('room-1', 'nc-sess-b');
    const bEntry = { sessionid: b.sessionid, userid: 'ben', user: { displayname: 'ben' }, roomsessionid: 'nc-sess-b' };
    // Everybody hears about the new member; the joiner then gets the list of those already there.
    expect((await a.client.next('event')).event.join).toEqual([bEntry]);
    expect((await b.client.next('event')).event.join).toEqual([bEntry]);
    expect((await b.client.next('event')).event.join).toEqual([
      { sessionid: a.sessionid, userid: 'ann', user: { displayname: 'Ann' }, roomsessionid: 'nc-sess-a' },
    ]);

    // Messages to the room reach the others, with the exact sender object; never the sender.
    b.client.send({ type: 'message', message: { recipient: { type: 'room' }, data: { hello: 'room' } } });
    expect(await a.client.next('message')).toEqual({
      type: 'message',
      message: { sender: { type: 'room', sessionid: b.sessionid, userid: 'ben' }, data: { hello: 'room' } },
    });
    // Session message.
    a.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: b.sessionid }, data: { to: 'ben' } } });
    expect(withoutRecipient(setup, await b.client.next('message'))).toEqual({
      type: 'message',
      message: { sender: { type: 'session', sessionid: a.sessionid, userid: 'ann' }, data: { to: 'ben' } },
    });
    await a.client.expectNoMessage(100);

    // Leaving: the other member sees a leave event; Nextcloud gets a leave request.
    expect(await b.client.joinRoom('', undefined, { id: 'l1' })).toEqual({ id: 'l1', type: 'room', room: { roomid: '' } });
    expect(await a.client.next('event')).toEqual({ type: 'event', event: { target: 'room', type: 'leave', leave: [b.sessionid] } });
    const leave = await setup.nextcloud.waitForRequest((r) => r.type === 'room' && r.body.room.action === 'leave');
    expect(leave.body).toEqual({
      type: 'room',
      room: { version: '1.0', roomid: 'room-1', userid: 'ben', sessionid: 'nc-sess-b', action: 'leave' },
    });
  });

  it('delivers user messages to every session of that user but not to the sender', async () => {
    const a = await user('cat');
    const b1 = await user('dan');
    const b2 = await user('dan');
    a.client.send({ type: 'message', message: { recipient: { type: 'user', userid: 'dan' }, data: 'hi' } });
    const expected = { type: 'message', message: { sender: { type: 'user', sessionid: a.sessionid, userid: 'cat' }, data: 'hi' } };
    expect(await b1.client.next('message')).toEqual(expected);
    expect(await b2.client.next('message')).toEqual(expected);
    // To one's own user id: dropped entirely.
    b1.client.send({ type: 'message', message: { recipient: { type: 'user', userid: 'dan' }, data: 'self' } });
    await b2.client.expectNoMessage(150);
    await a.client.expectNoMessage(0);
  });

  it('keeps two rooms apart', async () => {
    const a = await user('eve');
    const b = await user('fay');
    await a.client.joinRoom('room-1');
    await b.client.joinRoom('room-2');
    expect((await a.client.next('event')).event.join[0].sessionid).toBe(a.sessionid);
    expect((await b.client.next('event')).event.join[0].sessionid).toBe(b.sessionid);
    a.client.send({ type: 'message', message: { recipient: { type: 'room' }, data: 'room-1 only' } });
    await b.client.expectNoMessage(150);
  });

  it('answers already_joined with the room details and passes Nextcloud errors through', async () => {
    const a = await user('gus');
    await a.client.joinRoom('room-1', 'nc-gus');
    expect(await a.client.joinRoom('room-1', 'nc-gus-2', { id: 'again' })).toEqual({
      id: 'again',
      type: 'error',
      error: {
        code: 'already_joined',
        message: 'Already joined this room.',
        details: { room: { roomid: 'room-1', properties: { name: 'Room one', type: 2 } } },
      },
    });
    expect(await a.client.joinRoom('locked', undefined, { id: 'x' })).toEqual({
      id: 'x',
      type: 'error',
      error: { code: 'no_such_room', message: 'The user is not invited to this room.' },
    });
    setup.nextcloud.failNext('room', 'wrong-type');
    expect((await a.client.joinRoom('room-2')).error).toEqual({ code: 'room_join_failed', message: 'Could not join the room.' });
  });

  it('moves a session to another room, leaving the first', async () => {
    const a = await user('hal');
    const b = await user('ida');
    await a.client.joinRoom('room-1');
    await b.client.joinRoom('room-1');
    await a.client.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: { sessionid: string }) => e.sessionid === b.sessionid));
    await a.client.joinRoom('room-2');
    await b.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'leave');
    const { server } = nodeOf(setup, a.sessionid);
    expect(server.rooms.get('nc1', 'room-2')?.hasMember(server.sessions.byPublicId(a.sessionid)!)).toBe(true);
  });

  it('kicks the older session when the same Nextcloud session joins again', async () => {
    const a = await user('jon');
    await a.client.joinRoom('room-2', 'nc-same');
    setup.nextcloud.clearRequests();
    const b = await user('jon');
    await b.client.joinRoom('room-2', 'nc-same');
    expect(await a.client.waitForMessage((m) => m.type === 'bye')).toEqual({ type: 'bye', bye: { reason: 'room_session_reconnected' } });
    expect((await a.client.closed()).code).toBe(1005);
    // No leave request for the kicked session.
    await new Promise((r) => setTimeout(r, 100));
    expect(setup.nextcloud.requests.filter((r) => r.body?.room?.action === 'leave')).toEqual([]);
  });

  it('closes anonymous sessions that do not join in time', async () => {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    expect((await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.anonymousParams() })).type).toBe('hello');
    await client.next('welcome');
    expect(await client.next('bye', 3_000)).toEqual({ type: 'bye', bye: { reason: 'room_join_timeout' } });
  });

  it('destroys a room with its last session and reports rooms in stats', async () => {
    setup.nextcloud.setRoom('solo', {});
    const a = await user('kim');
    expect((await a.client.joinRoom('solo', 'nc-kim')).type).toBe('room');
    const node = nodeOf(setup, a.sessionid);
    expect(node.server.rooms.get('nc1', 'solo')).toBeDefined();
    const stats = (await (await fetch(`${node.baseUrl}api/v1/stats`)).json()) as { rooms: number };
    expect(stats.rooms).toBeGreaterThanOrEqual(1);
    await a.client.bye();
    await waitFor(() => node.server.rooms.get('nc1', 'solo') === undefined, { timeout: 2_000, name: 'room destroyed' });
    await setup.nextcloud.waitForRequest((r) => r.body?.room?.action === 'leave' && r.body.room.roomid === 'solo');
  });
});
