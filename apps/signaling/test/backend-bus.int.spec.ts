import { backendRoomSubject, roomSubject, sessionSubject } from '@talk-signaling/nats-bus';
import { TestClient } from '@talk-signaling/testing';
import { startTestSetup, type TestSetup } from './test-server';

/* eslint-disable @typescript-eslint/no-explicit-any -- bus and protocol messages are free-form JSON in tests */

jest.setTimeout(20_000);

/**
 * Nextcloud's requests for a room travel on `backend.room.<enc>` (fact sheet 6.1): the node
 * that received the HTTP request publishes them with signaling session ids, every node hosting
 * the room applies them. Here the server plays both parts: what it publishes is read off its
 * bus, and what "another node" would publish is put on the bus by the test.
 */
describe('backend room requests on the bus', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];
  const BACKEND = 'nc1';

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5 });
  });
  afterAll(async () => {
    await setup.stop();
  });
  afterEach(() => {
    while (clients.length) clients.pop()!.close();
  });

  async function inRoom(userid: string, roomid: string, ncSession: string) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
    const sessionid = reply.hello.sessionid as string;
    setup.nextcloud.setRoom(roomid, {});
    expect((await client.joinRoom(roomid, ncSession)).type).toBe('room');
    await client.waitForMessage((m) => m.type === 'event' && m.event.type === 'join' && m.event.join.some((e: { sessionid: string }) => e.sessionid === sessionid));
    return { client, sessionid };
  }

  /** Collects what is published on the room's backend subject while `fn` runs. */
  async function published(roomid: string, fn: () => Promise<unknown>): Promise<any[]> {
    const seen: any[] = [];
    const sub = setup.server.bus.subscribe(backendRoomSubject(roomid, BACKEND), (m) => seen.push(m));
    try {
      await fn();
      // The bus delivers after a microtask; the HTTP answer comes later still.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      sub.unsubscribe();
    }
    return seen;
  }

  const fromOtherNode = (roomid: string, room: Record<string, unknown>) =>
    setup.server.bus.publish(backendRoomSubject(roomid, BACKEND), { type: 'room', sendtime: new Date().toISOString(), room });

  it('publishes room requests with signaling session ids, `received` and upstream`s switchto lists', async () => {
    const a = await inRoom('bus-a', 'room-bus-1', 'nc-bus-a');
    const post = (body: unknown) => setup.nextcloud.backendRequest(setup.baseUrl, 'room-bus-1', body);

    const participants = await published('room-bus-1', () =>
      post({ type: 'participants', participants: { changed: [{ sessionId: 'nc-bus-a', inCall: 3, permissions: ['publish-audio'] }, { sessionId: 'nc-unknown', inCall: 1 }] } }),
    );
    expect(participants).toHaveLength(1);
    expect(participants[0]).toMatchObject({
      type: 'room',
      room: { type: 'participants', participants: { changed: [{ sessionId: a.sessionid, inCall: 3, permissions: ['publish-audio'] }], users: [] } },
    });
    expect(typeof participants[0].sendtime).toBe('string');
    expect(typeof participants[0].room.received).toBe('number');
    // The hosting node applied it and showed the others the entry without permissions.
    const update = await a.client.waitForMessage((m) => m.type === 'event' && m.event.target === 'participants' && m.event.type === 'update');
    expect(update.event.update.users).toHaveLength(1);
    expect(update.event.update.users[0]).toMatchObject({ sessionId: a.sessionid, inCall: 3 });
    expect(update.event.update.users[0]).not.toHaveProperty('permissions');

    const list = await published('room-bus-1', () => post({ type: 'switchto', switchto: { roomid: 'next', sessions: ['nc-bus-a', 'nc-bus-a', 'nc-unknown'] } }));
    expect(list.map((m) => m.room.switchto)).toEqual([{ roomid: 'next', sessionslist: [a.sessionid] }]);
    const map = await published('room-bus-1', () => post({ type: 'switchto', switchto: { roomid: 'next', sessions: { 'nc-bus-a': { x: 1 }, 'nc-unknown': null } } }));
    expect(map.map((m) => m.room.switchto)).toEqual([{ roomid: 'next', sessionsmap: { [a.sessionid]: { x: 1 } } }]);
    // Nobody known: nothing to publish (upstream returns early too).
    expect(await published('room-bus-1', () => post({ type: 'switchto', switchto: { roomid: 'next', sessions: ['nc-unknown'] } }))).toEqual([]);
  });

  it('acts on a request published by another node exactly as on its own', async () => {
    const a = await inRoom('bus-b', 'room-bus-2', 'nc-bus-b');
    fromOtherNode('room-bus-2', { type: 'message', message: { data: { from: 'node-b' } }, received: 1 });
    const event = await a.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'message');
    expect(event).toEqual({ type: 'event', event: { target: 'room', type: 'message', message: { roomid: 'room-bus-2', data: { from: 'node-b' } } } });

    fromOtherNode('room-bus-2', { type: 'incall', incall: { incall: 7, all: true }, received: 2 });
    const all = await a.client.waitForMessage((m) => m.type === 'event' && m.event.target === 'participants');
    expect(all.event.update).toEqual({ roomid: 'room-bus-2', incall: 7, all: true });
    expect(setup.server.sessions.byPublicId(a.sessionid)?.inCall).toBe(7);

    fromOtherNode('room-bus-2', { type: 'switchto', switchto: { roomid: 'elsewhere', sessionsmap: { [a.sessionid]: { why: 'breakout' }, 'not-here': null } }, received: 3 });
    const switchto = await a.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'switchto');
    expect(switchto.event.switchto).toEqual({ roomid: 'elsewhere', details: { why: 'breakout' } });

    fromOtherNode('room-bus-2', { type: 'delete', delete: {}, received: 4 });
    expect(await a.client.waitForMessage((m) => m.type === 'room')).toEqual({ type: 'room', room: { roomid: '' } });
    expect(setup.server.rooms.get(BACKEND, 'room-bus-2')).toBeUndefined();
  });

  it('ignores a request older than the last one of its type, and malformed bus messages', async () => {
    const a = await inRoom('bus-c', 'room-bus-3', 'nc-bus-c');
    const bus = setup.server.bus;
    fromOtherNode('room-bus-3', { type: 'message', message: { data: 'second' }, received: 2000 });
    fromOtherNode('room-bus-3', { type: 'message', message: { data: 'first, late' }, received: 1000 });
    // Hostile shapes on every subject this session and room listen on: dropped, nothing thrown.
    for (const bad of [[], {}, { type: 'room' }, { type: 'room', room: 'x' }, { type: 'room', room: { type: 5 } }, { type: 'message', message: null }, { type: 'message', message: { no: 'type' } }]) {
      bus.publish(backendRoomSubject('room-bus-3', BACKEND), bad);
      bus.publish(roomSubject('room-bus-3', BACKEND), bad);
      bus.publish(sessionSubject(a.sessionid), bad);
    }
    fromOtherNode('room-bus-3', { type: 'participants', participants: { changed: 'nope', users: [1, null, 'x', { sessionId: 5 }] }, received: 3000 });
    fromOtherNode('room-bus-3', { type: 'switchto', switchto: { roomid: 7, sessionslist: 'x', sessionsmap: [1] }, received: 3000 });
    fromOtherNode('room-bus-3', { type: 'update', update: 'x', received: 3000 });
    fromOtherNode('room-bus-3', { type: 'frobnicate', received: 3000 });
    fromOtherNode('room-bus-3', { type: 'message', message: { data: 'third' }, received: 3000 });

    const seen: unknown[] = [];
    await a.client.waitForMessage((m) => {
      if (m.type === 'event' && m.event.type === 'message') seen.push(m.event.message.data);
      return seen.includes('third');
    });
    expect(seen).toEqual(['second', 'third']);
  });
});
