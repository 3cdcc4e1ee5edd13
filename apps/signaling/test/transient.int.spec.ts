import { TestClient, waitFor } from '@talk-signaling/testing';
import { INTERNAL_SECRET, nodeOf, startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(20_000);

/** Transient data (fact sheet 1.11) over real sockets. */
describe('transient data', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5 });
    setup.nextcloud.setRoom('room-t', {});
    setup.nextcloud.setRoom('room-u', {});
    setup.nextcloud.setRoom('room-v', {});
    setup.nextcloud.setRoom('room-w', {});
    setup.nextcloud.setRoom('room-x', {});
    setup.nextcloud.setRoom('restricted', { permissions: ['publish-audio', 'publish-video'] });
    setup.nextcloud.setRoom('restricted-2', { permissions: [] });
    setup.nextcloud.setRoom('allowed', { permissions: ['transient-data'] });
  });
  afterAll(async () => {
    await setup.stop();
  });
  afterEach(() => {
    while (clients.length) clients.pop()!.close();
  });

  async function user(userid: string) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
    expect(reply.type).toBe('hello');
    await client.next('welcome');
    return { client, sessionid: reply.hello.sessionid as string };
  }

  /** Joins and consumes the join events, so that the queue is empty afterwards. */
  async function joined(userid: string, roomid: string, others: number) {
    const u = await user(userid);
    expect((await u.client.joinRoom(roomid)).type).toBe('room');
    expect((await u.client.next('event')).event.type).toBe('join');
    if (others > 0) expect((await u.client.next('event')).event.join).toHaveLength(others);
    return u;
  }

  it('is announced in welcome and in the client and internal hello features', async () => {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    expect((await client.next('welcome')).welcome.features).toContain('transient-data');
    const hello = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('feat') });
    expect(hello.hello.server.features).toContain('transient-data');
    const internal = await TestClient.connect(setup.wsUrl);
    clients.push(internal);
    const reply = await internal.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET });
    expect(reply.hello.server.features).toContain('transient-data');
  });

  it('notifies every member, the sender included, of sets and removes with the old value', async () => {
    const a = await joined('ann', 'room-t', 0);
    const b = await joined('ben', 'room-t', 1);
    expect((await a.client.next('event')).event.join[0].sessionid).toBe(b.sessionid);

    a.client.send({ id: 's1', type: 'transient', transient: { type: 'set', key: 'foo', value: { bar: 1 } } });
    const first = { type: 'transient', transient: { type: 'set', key: 'foo', value: { bar: 1 } } };
    expect(await a.client.next()).toEqual(first);
    expect(await b.client.next()).toEqual(first);

    b.client.send({ type: 'transient', transient: { type: 'set', key: 'foo', value: 'two' } });
    const second = { type: 'transient', transient: { type: 'set', key: 'foo', value: 'two', oldvalue: { bar: 1 } } };
    expect(await a.client.next()).toEqual(second);
    expect(await b.client.next()).toEqual(second);

    // The same value again: nothing to tell.
    a.client.send({ type: 'transient', transient: { type: 'set', key: 'foo', value: 'two' } });
    await Promise.all([a.client.expectNoMessage(150), b.client.expectNoMessage(150)]);

    a.client.send({ type: 'transient', transient: { type: 'remove', key: 'foo' } });
    const removed = { type: 'transient', transient: { type: 'remove', key: 'foo', oldvalue: 'two' } };
    expect(await a.client.next()).toEqual(removed);
    expect(await b.client.next()).toEqual(removed);

    // Removing a missing key, or setting it without a value, changes nothing.
    a.client.send({ type: 'transient', transient: { type: 'remove', key: 'foo' } });
    a.client.send({ type: 'transient', transient: { type: 'set', key: 'foo' } });
    await Promise.all([a.client.expectNoMessage(150), b.client.expectNoMessage(150)]);

    // A set without value removes an existing key.
    a.client.send({ type: 'transient', transient: { type: 'set', key: 'k', value: 1 } });
    await a.client.next('transient');
    await b.client.next('transient');
    b.client.send({ type: 'transient', transient: { type: 'set', key: 'k' } });
    expect(await a.client.next()).toEqual({ type: 'transient', transient: { type: 'remove', key: 'k', oldvalue: 1 } });
  });

  // On two nodes (transient.clustered.int.spec.ts) a joiner on a node that did not host the room
  // yet gets the data through GetTransientData from the other node, in the same order.
  it('sends the current data to a joiner after its room reply and before the join events', async () => {
    const a = await joined('cat', 'room-u', 0);
    a.client.send({ type: 'transient', transient: { type: 'set', key: 'z', value: [1, 2] } });
    a.client.send({ type: 'transient', transient: { type: 'set', key: 'a', value: 'x' } });
    await a.client.next('transient');
    await a.client.next('transient');

    const b = await user('dan');
    const reply = await b.client.joinRoom('room-u', undefined, { id: 'j' });
    expect(reply).toMatchObject({ id: 'j', type: 'room', room: { roomid: 'room-u' } });
    const initial = await b.client.next();
    expect(initial).toEqual({ type: 'transient', transient: { type: 'initial', data: { a: 'x', z: [1, 2] } } });
    expect(Object.keys(initial.transient.data)).toEqual(['a', 'z']);
    expect((await b.client.next('event')).event.join[0].sessionid).toBe(b.sessionid);
    expect((await b.client.next('event')).event.join[0].sessionid).toBe(a.sessionid);
    // The member already there gets no initial message again.
    expect((await a.client.next('event')).event.join[0].sessionid).toBe(b.sessionid);
    await a.client.expectNoMessage(100);
  });

  it('removes a key when its TTL (nanoseconds) runs out, unless it was changed', async () => {
    const a = await joined('eve', 'room-v', 0);
    const ttl = 150_000_000; // 150 ms
    a.client.send({ type: 'transient', transient: { type: 'set', key: 'short', value: 1, ttl } });
    expect(await a.client.next()).toEqual({ type: 'transient', transient: { type: 'set', key: 'short', value: 1 } });
    const started = Date.now();
    expect(await a.client.next()).toEqual({ type: 'transient', transient: { type: 'remove', key: 'short', oldvalue: 1 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);

    // Replaced before it expires: the new value stays.
    a.client.send({ type: 'transient', transient: { type: 'set', key: 'short', value: 1, ttl } });
    a.client.send({ type: 'transient', transient: { type: 'set', key: 'short', value: 2 } });
    await a.client.next('transient');
    expect((await a.client.next('transient')).transient).toEqual({ type: 'set', key: 'short', value: 2, oldvalue: 1 });
    await a.client.expectNoMessage(300);
  });

  it('answers not_in_room, ignored and invalid_format', async () => {
    const a = await user('fay');
    a.client.send({ id: 'n1', type: 'transient', transient: { type: 'set', key: 'k', value: 1 } });
    expect(await a.client.next()).toEqual({ id: 'n1', type: 'error', error: { code: 'not_in_room', message: 'No room joined yet.' } });

    await a.client.joinRoom('room-w');
    await a.client.next('event');
    a.client.send({ id: 'i1', type: 'transient', transient: { type: 'bogus', key: 'k' } });
    expect(await a.client.next()).toEqual({ id: 'i1', type: 'error', error: { code: 'ignored', message: 'Unsupported message type.' } });
    a.client.send({ id: 'f1', type: 'transient', transient: { type: 'set', value: 1 } });
    expect(await a.client.next()).toEqual({ id: 'f1', type: 'error', error: { code: 'invalid_format', message: 'Invalid data format.' } });
    a.client.send({ id: 'f2', type: 'transient', transient: { type: 'remove', key: '' } });
    expect((await a.client.next()).error.code).toBe('invalid_format');
  });

  it('needs the transient-data permission once Nextcloud sends permissions', async () => {
    const a = await joined('gus', 'restricted', 0);
    a.client.send({ id: 'p1', type: 'transient', transient: { type: 'set', key: 'k', value: 1 } });
    const notAllowed = { code: 'not_allowed', message: 'Not allowed to update transient data.' };
    expect(await a.client.next()).toEqual({ id: 'p1', type: 'error', error: notAllowed });
    a.client.send({ id: 'p2', type: 'transient', transient: { type: 'remove', key: 'k' } });
    expect(await a.client.next()).toEqual({ id: 'p2', type: 'error', error: notAllowed });
    // An unknown type is `ignored` whatever the permissions.
    a.client.send({ id: 'p3', type: 'transient', transient: { type: 'other' } });
    expect((await a.client.next()).error.code).toBe('ignored');

    const b = await joined('hal', 'allowed', 0);
    b.client.send({ type: 'transient', transient: { type: 'set', key: 'k', value: 1 } });
    expect((await b.client.next()).transient).toEqual({ type: 'set', key: 'k', value: 1 });
  });

  it('lets internal clients write without permissions and notifies them like clients', async () => {
    const a = await joined('ida', 'restricted-2', 0);
    const internal = await TestClient.connect(setup.wsUrl);
    clients.push(internal);
    await internal.next('welcome');
    await internal.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET });
    expect((await internal.joinRoom('restricted-2')).type).toBe('room');
    const backendId = setup.server.backends.all()[0]!.id;
    const members = () => (setup.nodes ?? [setup]).reduce((n, node) => n + (node.server.rooms.get(backendId, 'restricted-2')?.size ?? 0), 0);
    await waitFor(() => members() === 2, { timeout: 2_000, name: 'internal joined' });
    internal.send({ type: 'transient', transient: { type: 'set', key: 'callstatus_1', value: { status: 'ringing' } } });
    const expected = { type: 'transient', transient: { type: 'set', key: 'callstatus_1', value: { status: 'ringing' } } };
    expect(await a.client.waitForMessage((m) => m.type === 'transient')).toEqual(expected);
    expect(await internal.waitForMessage((m) => m.type === 'transient')).toEqual(expected);
  });

  it('forgets the data when the room is destroyed, and server-side writers use the same store', async () => {
    const a = await joined('jon', 'room-x', 0);
    a.client.send({ type: 'transient', transient: { type: 'set', key: 'k', value: 'v' } });
    await a.client.next('transient');
    const backendId = setup.server.backends.all()[0]!.id;
    const room = nodeOf(setup, a.sessionid).server.rooms.get(backendId, 'room-x')!;
    // What the dialout status writer does (1.12.6): key callstatus_<id>, TTL in ms.
    room.transient.set('callstatus_c1', { callid: 'c1', status: 'cleared' }, 100);
    expect((await a.client.next('transient')).transient).toEqual({ type: 'set', key: 'callstatus_c1', value: { callid: 'c1', status: 'cleared' } });
    expect((await a.client.next('transient')).transient).toEqual({ type: 'remove', key: 'callstatus_c1', oldvalue: { callid: 'c1', status: 'cleared' } });

    expect((await a.client.joinRoom('')).room.roomid).toBe('');
    await waitFor(() => (setup.nodes ?? [setup]).every((node) => node.server.rooms.get(backendId, 'room-x') === undefined), { timeout: 2_000, name: 'room destroyed' });

    const b = await user('kim');
    await b.client.joinRoom('room-x');
    expect((await b.client.next()).type).toBe('event'); // its own join, no `initial` before it
    expect(nodeOf(setup, b.sessionid).server.rooms.get(backendId, 'room-x')!.transient.size).toBe(0);
  });
});
