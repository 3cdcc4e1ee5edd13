import { TestClient } from '@talk-signaling/testing';
import { MAX_QUEUED_ROOM_REQUESTS } from '../src/room/room-handler';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(30_000);

/**
 * Room requests sent before Nextcloud answered the previous one (issue 10, item 3): every one
 * gets its answer, in the order sent, as upstream (which handles a client's messages in order).
 */
describe('room requests in flight', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5 });
    for (const room of ['first', 'second', 'same', 'many']) setup.nextcloud.setRoom(room, {});
  });
  afterAll(async () => {
    await setup.stop();
  });
  afterEach(() => {
    setup.nextcloud.setDelay('room', 0);
    while (clients.length) clients.pop()!.close();
  });

  async function user(userid: string) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    expect((await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) })).type).toBe('hello');
    return client;
  }

  /** Ids of the replies among everything received, in arrival order. */
  const replyOrder = (client: TestClient, ids: string[]) => client.messages.filter((m) => ids.includes(m.id)).map((m) => m.id as string);

  it('answers two joins of different rooms, both, in order; the session ends up in the second', async () => {
    const client = await user('order-a');
    setup.nextcloud.setDelay('room', 150);
    const first = client.joinRoom('first', 'nc-a', { id: 'j1' });
    const second = client.joinRoom('second', 'nc-a', { id: 'j2' });
    expect(await first).toEqual({ id: 'j1', type: 'room', room: { roomid: 'first', properties: { name: 'first', type: 3 } } });
    expect(await second).toEqual({ id: 'j2', type: 'room', room: { roomid: 'second', properties: { name: 'second', type: 3 } } });
    expect(replyOrder(client, ['j1', 'j2'])).toEqual(['j1', 'j2']);

    // A newcomer in "second" is told about order-a; one in "first" is not.
    setup.nextcloud.setDelay('room', 0);
    const other = await user('order-b');
    expect((await other.joinRoom('second')).type).toBe('room');
    const join = await other.waitForMessage((m) => m.type === 'event' && m.event.type === 'join' && m.event.join.some((e: { userid: string }) => e.userid === 'order-a'));
    expect(join.event.join.map((e: { userid: string }) => e.userid)).toContain('order-a');
  });

  it('answers the second join of the same room with already_joined, after the first', async () => {
    const client = await user('same-a');
    setup.nextcloud.setDelay('room', 150);
    const first = client.joinRoom('same', 'nc-same', { id: 's1' });
    const second = client.joinRoom('same', 'nc-same', { id: 's2' });
    expect((await first).type).toBe('room');
    expect(await second).toMatchObject({ id: 's2', type: 'error', error: { code: 'already_joined' } });
    expect(replyOrder(client, ['s1', 's2'])).toEqual(['s1', 's2']);
  });

  it('answers a join followed by a leave, in order', async () => {
    const client = await user('leave-a');
    setup.nextcloud.setDelay('room', 150);
    const join = client.joinRoom('first', 'nc-leave', { id: 'l1' });
    const leave = client.joinRoom('', undefined, { id: 'l2' });
    expect((await join).room.roomid).toBe('first');
    expect(await leave).toEqual({ id: 'l2', type: 'room', room: { roomid: '' } });
    expect(replyOrder(client, ['l1', 'l2'])).toEqual(['l1', 'l2']);
  });

  it(`answers requests beyond ${MAX_QUEUED_ROOM_REQUESTS} waiting ones with too_many_requests, the others in order`, async () => {
    const client = await user('many-a');
    setup.nextcloud.setDelay('room', 20);
    const count = MAX_QUEUED_ROOM_REQUESTS + 3;
    const ids = Array.from({ length: count }, (_, i) => `m${i}`);
    // Alternate two rooms so that every accepted request is a real join.
    const replies = ids.map((id, i) => client.joinRoom(i % 2 === 0 ? 'many' : 'first', `nc-many`, { id }));
    const answered = await Promise.all(replies);
    const refused = answered.filter((m) => m.type === 'error');
    expect(refused).toHaveLength(3);
    for (const m of refused) expect(m.error.code).toBe('too_many_requests');
    expect(refused.map((m) => m.id)).toEqual(ids.slice(MAX_QUEUED_ROOM_REQUESTS));
    const joined = answered.filter((m) => m.type === 'room').map((m) => m.id);
    expect(joined).toEqual(ids.slice(0, MAX_QUEUED_ROOM_REQUESTS));
    expect(replyOrder(client, joined)).toEqual(joined);
  });
});
