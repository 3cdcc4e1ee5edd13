import { TestClient, waitFor } from '@talk-signaling/testing';
import { startTestCluster, type TestCluster } from './test-cluster';
import { INTERNAL_SECRET, type TestSetup } from './test-server';

jest.setTimeout(30_000);

/**
 * Two signaling servers that share one nats-server and one Nextcloud, clients split over them:
 * what works across nodes over NATS alone (issue 11 item 4; gRPC lookups are not part of it).
 * Each scenario expects what a member would see on a single server, in the same shapes.
 */
describe('two nodes over NATS', () => {
  let cluster: TestCluster;
  let one: TestSetup;
  let two: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster({ nodes: 2, roomEventBatchMs: 5 });
    [one, two] = cluster.nodes as [TestSetup, TestSetup];
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(() => {
    while (clients.length) clients.pop()!.close();
  });

  /** A user session on `node`, subscribed on the NATS server before anyone addresses it. */
  const user = (node: TestSetup, userid: string) => cluster.user(node, userid, clients);

  type User = Awaited<ReturnType<typeof user>>;

  /** Joins `roomid` and waits for the node's room subscriptions to be in effect. */
  async function join(u: User, roomid: string, ncSession: string) {
    expect((await u.client.joinRoom(roomid, ncSession)).type).toBe('room');
    await u.node.server.bus.flush();
  }

  /**
   * Joins and waits until the node has announced the join (room events are batched for a few
   * ms): only then does a joiner on the other node find this member in the list its node sends.
   * Two sessions joining on different nodes at the same moment may each be announced to the
   * other twice, by the join event and by the member list (as upstream; clients key by id).
   */
  async function joined(u: User, roomid: string, ncSession: string) {
    await join(u, roomid, ncSession);
    await u.client.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: { sessionid: string }) => e.sessionid === u.sessionid));
    await u.node.server.bus.flush(); // the announcement has reached nats-server too
  }

  const entry = (u: User, ncSession: string) => ({ sessionid: u.sessionid, userid: u.userid, user: { displayname: u.userid }, roomsessionid: ncSession });
  const joinEvent = (...entries: object[]) => ({ type: 'event', event: { target: 'room', type: 'join', join: entries } });

  it('reports the NATS connection in the server info', async () => {
    const info = (await (await fetch(`${one.baseUrl}api/v1/serverinfo`)).json()) as { nats: unknown };
    expect(info.nats).toEqual({
      urls: [cluster.nats.url],
      connected: true,
      serverurl: expect.stringContaining('127.0.0.1:'),
      serverid: expect.any(String),
      version: expect.any(String),
    });
  });

  it('delivers message and control to a session, a user and a room on the other node', async () => {
    cluster.nextcloud.setRoom('talk', {});
    const alice = await user(one, 'alice');
    const bob = await user(two, 'bob');
    alice.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: bob.sessionid }, data: { n: 1 } } });
    expect(await bob.client.next('message')).toEqual({
      type: 'message',
      message: { sender: { type: 'session', sessionid: alice.sessionid, userid: 'alice' }, recipient: { type: 'session', sessionid: bob.sessionid }, data: { n: 1 } },
    });
    bob.client.send({ type: 'message', message: { recipient: { type: 'user', userid: 'alice' }, data: { n: 2 } } });
    expect(await alice.client.next('message')).toEqual({
      type: 'message',
      message: { sender: { type: 'user', sessionid: bob.sessionid, userid: 'bob' }, data: { n: 2 } },
    });
    alice.client.send({ type: 'control', control: { recipient: { type: 'session', sessionid: bob.sessionid }, data: { n: 3 } } });
    expect((await bob.client.next('control')).control.data).toEqual({ n: 3 });

    await joined(alice, 'talk', 'nc-alice');
    await joined(bob, 'talk', 'nc-bob');
    await alice.client.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: { sessionid: string }) => e.sessionid === bob.sessionid));
    await bob.client.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: { sessionid: string }) => e.sessionid === alice.sessionid));
    bob.client.send({ type: 'message', message: { recipient: { type: 'room' }, data: { n: 4 } } });
    expect(await alice.client.next('message')).toEqual({
      type: 'message',
      message: { sender: { type: 'room', sessionid: bob.sessionid, userid: 'bob' }, data: { n: 4 } },
    });
    // The sender never gets its own room message back, from either node.
    alice.client.send({ type: 'message', message: { recipient: { type: 'room' }, data: { n: 5 } } });
    expect((await bob.client.next('message')).message.data).toEqual({ n: 5 });
    await alice.client.expectNoMessage(200);
  });

  it('announces joins and leaves to members on both nodes, and gives a joiner the members of every node', async () => {
    cluster.nextcloud.setRoom('meet', {});
    const ann = await user(one, 'ann');
    const ben = await user(two, 'ben');
    const cat = await user(one, 'cat');

    await join(ann, 'meet', 'nc-ann');
    expect(await ann.client.next('event')).toEqual(joinEvent(entry(ann, 'nc-ann')));

    // ben on the other node: what a joiner sees on a single server — itself, then who was there.
    await join(ben, 'meet', 'nc-ben');
    expect(await ben.client.next('event')).toEqual(joinEvent(entry(ben, 'nc-ben')));
    expect(await ben.client.next('event')).toEqual(joinEvent(entry(ann, 'nc-ann')));
    expect(await ann.client.next('event')).toEqual(joinEvent(entry(ben, 'nc-ben')));

    // cat on ann's node: one member list per node that hosts the room.
    await join(cat, 'meet', 'nc-cat');
    expect(await cat.client.next('event')).toEqual(joinEvent(entry(cat, 'nc-cat')));
    const lists = [await cat.client.next('event'), await cat.client.next('event')];
    expect(lists).toEqual(expect.arrayContaining([joinEvent(entry(ann, 'nc-ann')), joinEvent(entry(ben, 'nc-ben'))]));
    expect(await ann.client.next('event')).toEqual(joinEvent(entry(cat, 'nc-cat')));
    expect(await ben.client.next('event')).toEqual(joinEvent(entry(cat, 'nc-cat')));

    // ben leaves: both members on the other node see the same leave event.
    await ben.client.joinRoom('');
    const leave = { type: 'event', event: { target: 'room', type: 'leave', leave: [ben.sessionid] } };
    expect(await ann.client.next('event')).toEqual(leave);
    expect(await cat.client.next('event')).toEqual(leave);
    await ben.client.expectNoMessage(100);
  });

  it('gives a joiner on another node the virtual sessions of the room with their flags, as on one node', async () => {
    cluster.nextcloud.setRoom('phones', {});
    const ann = await user(one, 'ann2');
    await joined(ann, 'phones', 'nc-ann2');
    const bridge = await TestClient.connect(one.wsUrl);
    clients.push(bridge);
    await bridge.helloInternal({ backend: cluster.nextcloud.url, secret: INTERNAL_SECRET });
    await bridge.next('welcome');
    const phoneUser = { displayname: 'Phone' };
    bridge.send({ type: 'internal', internal: { type: 'addsession', addsession: { sessionid: 'phone-1', roomid: 'phones', user: phoneUser, flags: 1 } } });
    const vid = (await ann.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'join')).event.join[0].sessionid as string;
    await ann.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'flags');
    await one.server.bus.flush();

    const ben = await user(two, 'ben2');
    await join(ben, 'phones', 'nc-ben2');
    expect(await ben.client.next('event')).toEqual(joinEvent(entry(ben, 'nc-ben2')));
    expect(await ben.client.next('event')).toEqual(joinEvent(entry(ann, 'nc-ann2'), { sessionid: vid, userid: '', user: phoneUser }));
    expect(await ben.client.next('event')).toEqual({
      type: 'event',
      event: { target: 'participants', type: 'flags', flags: { roomid: 'phones', sessionid: vid, flags: 1 } },
    });
  });

  it('shares the room\'s transient data between nodes: sets, removes, expiry and session data', async () => {
    cluster.nextcloud.setRoom('tr', {});
    const ann = await user(one, 'ann3');
    const ben = await user(two, 'ben3');
    await joined(ann, 'tr', 'nc-ann3');
    await joined(ben, 'tr', 'nc-ben3');
    await ann.client.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: { sessionid: string }) => e.sessionid === ben.sessionid));
    await ben.client.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: { sessionid: string }) => e.sessionid === ann.sessionid));

    // What each member sees is what members of one server see (transient.int.spec.ts).
    ann.client.send({ type: 'transient', transient: { type: 'set', key: 'foo', value: { bar: 1 } } });
    const first = { type: 'transient', transient: { type: 'set', key: 'foo', value: { bar: 1 } } };
    expect(await ann.client.next()).toEqual(first);
    expect(await ben.client.next()).toEqual(first);
    ben.client.send({ type: 'transient', transient: { type: 'set', key: 'foo', value: 'two' } });
    const second = { type: 'transient', transient: { type: 'set', key: 'foo', value: 'two', oldvalue: { bar: 1 } } };
    expect(await ann.client.next()).toEqual(second);
    expect(await ben.client.next()).toEqual(second);
    ben.client.send({ type: 'transient', transient: { type: 'remove', key: 'foo' } });
    const removed = { type: 'transient', transient: { type: 'remove', key: 'foo', oldvalue: 'two' } };
    expect(await ann.client.next()).toEqual(removed);
    expect(await ben.client.next()).toEqual(removed);

    // The same key changed on both nodes at once, many times: every node ends with one value.
    for (let i = 0; i < 20; i++) {
      ann.client.send({ type: 'transient', transient: { type: 'set', key: 'race', value: `ann-${i}` } });
      ben.client.send(i % 5 === 4 ? { type: 'transient', transient: { type: 'remove', key: 'race' } } : { type: 'transient', transient: { type: 'set', key: 'race', value: `ben-${i}` } });
    }
    ann.client.send({ type: 'transient', transient: { type: 'set', key: 'done', value: 1 } });
    ben.client.send({ type: 'transient', transient: { type: 'set', key: 'done2', value: 1 } });
    const roomOn = (node: TestSetup) => node.server.rooms.get('nc1', 'tr')!;
    await waitFor(() => [one, two].every((n) => roomOn(n).transient.get('done') === 1 && roomOn(n).transient.get('done2') === 1), { timeout: 10_000, name: 'all changes applied' });
    expect(roomOn(one).transient.get('race')).toEqual(roomOn(two).transient.get('race'));
    ann.client.send({ type: 'transient', transient: { type: 'remove', key: 'race' } });
    for (const key of ['done', 'done2']) ann.client.send({ type: 'transient', transient: { type: 'remove', key } });
    await waitFor(() => [one, two].every((n) => roomOn(n).transient.size === 0), { timeout: 10_000, name: 'all removed' });
    for (const u of [ann, ben]) while ((await u.client.next('transient', 500).catch(() => undefined)) !== undefined);

    // A TTL runs out on both nodes.
    ann.client.send({ type: 'transient', transient: { type: 'set', key: 'short', value: 1, ttl: 300_000_000 } });
    for (const u of [ann, ben]) expect((await u.client.next()).transient).toEqual({ type: 'set', key: 'short', value: 1 });
    for (const u of [ann, ben]) expect((await u.client.next('transient', 5_000)).transient).toEqual({ type: 'remove', key: 'short', oldvalue: 1 });
    expect(one.server.rooms.get('nc1', 'tr')!.transient.size).toBe(0);
    expect(two.server.rooms.get('nc1', 'tr')!.transient.size).toBe(0);

    // A session's own data leaves with it on every node.
    ben.client.send({ type: 'transient', transient: { type: 'set', key: `sd:${ben.sessionid}`, value: { name: 'Ben' } } });
    expect((await ann.client.next()).transient).toEqual({ type: 'set', key: `sd:${ben.sessionid}`, value: { name: 'Ben' } });
    expect(one.server.rooms.get('nc1', 'tr')!.transient.get(`sd:${ben.sessionid}`)).toEqual({ name: 'Ben' });
    await ben.client.joinRoom('');
    expect(await ann.client.waitForMessage((m) => m.type === 'transient')).toEqual({
      type: 'transient',
      transient: { type: 'remove', key: `sd:${ben.sessionid}`, oldvalue: { name: 'Ben' } },
    });
    expect(one.server.rooms.get('nc1', 'tr')!.transient.size).toBe(0);
  });

  it('applies a backend API room message posted to one node to the members on both', async () => {
    cluster.nextcloud.setRoom('chat', {});
    const dan = await user(one, 'dan');
    const eve = await user(two, 'eve');
    await joined(dan, 'chat', 'nc-dan');
    await joined(eve, 'chat', 'nc-eve');
    await dan.client.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: { sessionid: string }) => e.sessionid === eve.sessionid));
    await eve.client.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: { sessionid: string }) => e.sessionid === dan.sessionid));
    for (const node of [one, two]) {
      const res = await cluster.nextcloud.backendRequest(node.baseUrl, 'chat', { type: 'message', message: { data: { from: node.baseUrl } } });
      expect(res.status).toBe(200);
      const expected = { type: 'event', event: { target: 'room', type: 'message', message: { roomid: 'chat', data: { from: node.baseUrl } } } };
      // Exactly once on each node, whichever node Nextcloud posted to.
      expect(await dan.client.next('event')).toEqual(expected);
      expect(await eve.client.next('event')).toEqual(expected);
    }
    await dan.client.expectNoMessage(150);
    await eve.client.expectNoMessage(10);
  });
});
