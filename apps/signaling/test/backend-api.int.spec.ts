import { TestClient, waitFor } from '@talk-signaling/testing';
import { INTERNAL_SECRET, startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(20_000);

describe('backend API (POST /api/v1/room/{roomid})', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5, secondBackend: true });
  });
  afterAll(async () => {
    await setup.stop();
  });
  afterEach(() => {
    while (clients.length) clients.pop()!.close();
  });

  const post = (roomid: string, body: unknown, opts?: Parameters<TestSetup['nextcloud']['backendRequest']>[3]) =>
    setup.nextcloud.backendRequest(setup.baseUrl, roomid, body, opts);

  async function user(userid: string, nc = setup.nextcloud) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: nc.backendUrl, params: nc.addUser(userid) });
    expect(reply.type).toBe('hello');
    await client.next('welcome');
    return { client, sessionid: reply.hello.sessionid as string };
  }

  /** Joins `roomid` with Nextcloud session id `ncSession` and drains the join events. */
  async function inRoom(userid: string, roomid: string, ncSession: string) {
    const u = await user(userid);
    setup.nextcloud.setRoom(roomid, {});
    expect((await u.client.joinRoom(roomid, ncSession)).type).toBe('room');
    await u.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'join' && m.event.join.some((e: { sessionid: string }) => e.sessionid === u.sessionid));
    return u;
  }

  describe('request checks', () => {
    it('answers {} with the features header on success', async () => {
      const res = await post('r', { type: 'message', message: { data: { x: 1 } } });
      expect(res.status).toBe(200);
      expect(res.body).toBe('{}');
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const features = res.headers.get('x-spreed-signaling-features')!.split(', ');
      expect(features).toEqual(expect.arrayContaining(['incall-all', 'switchto', 'hello-v2']));
    });

    it('refuses a wrong checksum, a wrong secret and missing headers with 403', async () => {
      const wrong = await post('r', { type: 'message', message: { data: 1 } }, { secret: 'not-the-secret' });
      expect(wrong.status).toBe(403);
      expect(wrong.body).toBe('Authentication check failed\n');
      // The second backend's secret does not open the first backend.
      const other = await post('r', { type: 'message', message: { data: 1 } }, { secret: setup.nextcloud2!.secret });
      expect(other.status).toBe(403);
      const unknown = await post('r', { type: 'message', message: { data: 1 } }, { backendHeader: 'https://unknown.example.com/' });
      expect(unknown.status).toBe(403);
      const res = await fetch(`${setup.baseUrl}api/v1/room/r`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(403);
    });

    it('refuses other content types, bad JSON, unknown and transient types, oversized bodies', async () => {
      expect((await post('r', { type: 'message', message: {} }, { contentType: 'text/plain' })).status).toBe(400);
      const bad = await post('r', '{"type":');
      expect([bad.status, bad.body]).toEqual([400, 'Could not read body\n']);
      const unknown = await post('r', { type: 'frobnicate', frobnicate: {} });
      expect([unknown.status, unknown.body]).toEqual([400, 'Unsupported request type: frobnicate\n']);
      const transient = await post('r', { type: 'transient', transient: { action: 'set', key: 'k', value: 1 } });
      expect(transient.status).toBe(400);
      const big = await post('r', { type: 'message', message: { data: 'x'.repeat(300 * 1024) } });
      expect(big.status).toBe(413);
    });
  });

  it('sends roomlist invite to invited users and update to the others', async () => {
    const a = await user('inv-a');
    const b = await user('inv-b');
    const res = await post('room-inv', { type: 'invite', invite: { userids: ['inv-a'], alluserids: ['inv-a', 'inv-b'], properties: { name: 'New' } } });
    expect(res.status).toBe(200);
    expect(await a.client.next('event')).toEqual({
      type: 'event',
      event: { target: 'roomlist', type: 'invite', invite: { roomid: 'room-inv', properties: { name: 'New' } } },
    });
    expect(await b.client.next('event')).toEqual({
      type: 'event',
      event: { target: 'roomlist', type: 'update', update: { roomid: 'room-inv', properties: { name: 'New' } } },
    });
  });

  it('disinvites: the session in that room gets the event and is closed; others stay', async () => {
    const a = await inRoom('dis-a', 'room-dis', 'nc-dis-a');
    const b = await inRoom('dis-b', 'room-dis', 'nc-dis-b');
    await a.client.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: { sessionid: string }) => e.sessionid === b.sessionid));
    await post('room-dis', { type: 'disinvite', disinvite: { userids: ['dis-a'], alluserids: ['dis-b'] } });
    expect(await a.client.next('event')).toEqual({
      type: 'event',
      event: { target: 'roomlist', type: 'disinvite', disinvite: { roomid: 'room-dis', reason: 'disinvited' } },
    });
    expect((await a.client.closed()).code).toBe(1005);
    expect(await b.client.waitForMessage((m) => m.type === 'event' && m.event.target === 'roomlist')).toEqual({
      type: 'event',
      event: { target: 'roomlist', type: 'update', update: { roomid: 'room-dis' } },
    });
    expect(await b.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'leave')).toEqual({
      type: 'event',
      event: { target: 'room', type: 'leave', leave: [a.sessionid] },
    });
    // By Nextcloud session id too.
    await post('room-dis', { type: 'disinvite', disinvite: { sessionids: ['nc-dis-b', '0'] } });
    expect((await b.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'disinvite')).event.disinvite.roomid).toBe('room-dis');
    expect((await b.client.closed()).code).toBe(1005);
  });

  it('updates room properties for members and roomlists', async () => {
    const a = await inRoom('upd-a', 'room-upd', 'nc-upd-a');
    await post('room-upd', { type: 'update', update: { userids: ['upd-a'], properties: { name: 'Renamed' } } });
    expect(await a.client.next('room')).toEqual({ type: 'room', room: { roomid: 'room-upd', properties: { name: 'Renamed' } } });
    expect(await a.client.next('event')).toEqual({
      type: 'event',
      event: { target: 'roomlist', type: 'update', update: { roomid: 'room-upd', properties: { name: 'Renamed' } } },
    });
    // Unchanged properties: no room message, only the roomlist update.
    await post('room-upd', { type: 'update', update: { userids: ['upd-a'], properties: { name: 'Renamed' } } });
    expect((await a.client.next()).type).toBe('event');
  });

  it('deletes a room: internal members are told, everybody leaves, users are disinvited', async () => {
    const a = await inRoom('del-a', 'room-del', 'nc-del-a');
    const internal = await TestClient.connect(setup.wsUrl);
    clients.push(internal);
    expect((await internal.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET })).type).toBe('hello');
    expect((await internal.joinRoom('room-del')).type).toBe('room');
    setup.nextcloud.clearRequests();
    await post('room-del', { type: 'delete', delete: { userids: ['del-a'] } });
    expect(await internal.waitForMessage((m) => m.type === 'event' && m.event.type === 'delete')).toEqual({
      type: 'event',
      event: { target: 'room', type: 'delete' },
    });
    expect(await a.client.waitForMessage((m) => m.type === 'room')).toEqual({ type: 'room', room: { roomid: '' } });
    expect(await a.client.waitForMessage((m) => m.type === 'event' && m.event.target === 'roomlist')).toEqual({
      type: 'event',
      event: { target: 'roomlist', type: 'disinvite', disinvite: { roomid: 'room-del', reason: 'deleted' } },
    });
    await setup.nextcloud.waitForRequest((r) => r.body?.room?.action === 'leave' && r.body.room.sessionid === 'nc-del-a');
    await waitFor(() => setup.server.rooms.get('nc1', 'room-del') === undefined, { timeout: 2_000, name: 'room gone' });
  });

  it('publishes participant updates with signaling ids, permissions stripped, changed merged', async () => {
    const a = await inRoom('par-a', 'room-par', 'nc-par-a');
    const b = await inRoom('par-b', 'room-par', 'nc-par-b');
    await a.client.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: { sessionid: string }) => e.sessionid === b.sessionid));
    await post('room-par', {
      type: 'participants',
      participants: {
        changed: [{ sessionId: 'nc-par-b', inCall: 3, permissions: ['publish-audio'], participantType: 3 }],
        users: [
          { sessionId: 'nc-par-a', inCall: 0, lastPing: 1, participantType: 1, userId: 'par-a' },
          { sessionId: 'nc-unknown', inCall: 0 },
          { sessionId: '0', inCall: 0 },
        ],
      },
    });
    const expected = {
      type: 'event',
      event: {
        target: 'participants',
        type: 'update',
        update: {
          roomid: 'room-par',
          users: [
            { sessionId: a.sessionid, inCall: 0, lastPing: 1, participantType: 1, userId: 'par-a' },
            { sessionId: b.sessionid, inCall: 3, participantType: 3 },
          ],
        },
      },
    };
    expect(await a.client.waitForMessage((m) => m.event?.target === 'participants')).toEqual(expected);
    expect(await b.client.waitForMessage((m) => m.event?.target === 'participants')).toEqual(expected);
    const session = setup.server.sessions.byPublicId(b.sessionid)!;
    expect([...session.permissions!]).toEqual(['publish-audio']);
    expect(session.inCall).toBe(3);
  });

  it('gives a resumed session the last participant list once', async () => {
    const a = await inRoom('res-a', 'room-res', 'nc-res-a');
    const hello = setup.server.sessions.byPublicId(a.sessionid)!;
    const users = [{ sessionId: 'nc-res-a', inCall: 1, userId: 'res-a' }];
    await post('room-res', { type: 'participants', participants: { users } });
    await a.client.waitForMessage((m) => m.event?.target === 'participants');
    const expected = { type: 'event', event: { target: 'participants', type: 'update', update: { roomid: 'room-res', users: [{ sessionId: a.sessionid, inCall: 1, userId: 'res-a' }] } } };

    // Away without missing anything: the list comes right after the hello answer.
    a.client.close();
    await waitFor(() => hello.connection === undefined, { timeout: 2_000, name: 'detached' });
    const again = await TestClient.connect(setup.wsUrl);
    clients.push(again);
    expect((await again.resume(hello.privateId)).type).toBe('hello');
    await again.next('welcome');
    expect(await again.next('event')).toEqual(expected);

    // Away while an update was sent: that queued update is all it gets.
    again.close();
    await waitFor(() => hello.connection === undefined, { timeout: 2_000, name: 'detached again' });
    await post('room-res', { type: 'participants', participants: { users } });
    await waitFor(() => hello.pendingCount === 1, { timeout: 2_000, name: 'update queued' });
    const third = await TestClient.connect(setup.wsUrl);
    clients.push(third);
    expect((await third.resume(hello.privateId)).type).toBe('hello');
    await third.next('welcome');
    expect(await third.next('event')).toEqual(expected);
    await third.expectNoMessage(150);
  });

  it('handles incall with all: true for everyone on the node', async () => {
    const a = await inRoom('call-a', 'room-call', 'nc-call-a');
    await post('room-call', { type: 'incall', incall: { incall: 7, all: true } });
    expect(await a.client.waitForMessage((m) => m.event?.target === 'participants')).toEqual({
      type: 'event',
      event: { target: 'participants', type: 'update', update: { roomid: 'room-call', incall: 7, all: true } },
    });
    // Nobody newly joins: nothing is sent.
    await post('room-call', { type: 'incall', incall: { incall: true, all: true } });
    await a.client.expectNoMessage(100);
    await post('room-call', { type: 'incall', incall: { incall: 0, all: true } });
    expect((await a.client.next('event')).event.update).toEqual({ roomid: 'room-call', incall: 0, all: true });
    expect(setup.server.sessions.byPublicId(a.sessionid)!.inCall).toBe(0);
  });

  it('forwards room messages and switchto in both forms', async () => {
    const a = await inRoom('msg-a', 'room-msg', 'nc-msg-a');
    await post('room-msg', { type: 'message', message: { data: { type: 'chat', chat: { refresh: true } } } });
    expect(await a.client.next('event')).toEqual({
      type: 'event',
      event: { target: 'room', type: 'message', message: { roomid: 'room-msg', data: { type: 'chat', chat: { refresh: true } } } },
    });
    await post('room-msg', { type: 'switchto', switchto: { roomid: 'other', sessions: ['nc-msg-a', 'nc-nobody'] } });
    expect(await a.client.next('event')).toEqual({ type: 'event', event: { target: 'room', type: 'switchto', switchto: { roomid: 'other' } } });
    await post('room-msg', { type: 'switchto', switchto: { roomid: 'third', sessions: { 'nc-msg-a': { foo: 'bar' } } } });
    expect(await a.client.next('event')).toEqual({
      type: 'event',
      event: { target: 'room', type: 'switchto', switchto: { roomid: 'third', details: { foo: 'bar' } } },
    });
  });

  it('keeps backends apart: same room id, messages and Nextcloud requests', async () => {
    const a = await inRoom('iso-a', 'shared-id', 'nc-iso-a');
    const other = await user('iso-b', setup.nextcloud2!);
    setup.nextcloud2!.setRoom('shared-id', {});
    expect((await other.client.joinRoom('shared-id', 'nc-iso-b')).type).toBe('room');
    expect((await other.client.next('event')).event.join.map((e: { sessionid: string }) => e.sessionid)).toEqual([other.sessionid]);
    expect(setup.server.rooms.get('nc2', 'shared-id')!.size).toBe(1);
    // A session message across backends is dropped, and room messages stay in their backend.
    other.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: a.sessionid }, data: 'x' } });
    other.client.send({ type: 'message', message: { recipient: { type: 'room' }, data: 'y' } });
    await a.client.expectNoMessage(150);
    // Backend 1's request for the same room id does not reach backend 2's room.
    await post('shared-id', { type: 'message', message: { data: 'for nc1' } });
    expect((await a.client.next('event')).event.message.data).toBe('for nc1');
    await other.client.expectNoMessage(100);
  });
});
