import { TestClient, waitFor } from '@talk-signaling/testing';
import { startTestCluster, type TestCluster } from './test-cluster';
import { INTERNAL_SECRET, type TestSetup } from './test-server';

jest.setTimeout(30_000);

/**
 * Nextcloud's backend API requests on a cluster of two nodes over NATS: whichever node receives
 * the request, the members on both nodes see what members of a single server see. (Requests
 * naming Nextcloud session ids of sessions on another node need gRPC: see
 * cluster-backend-sessions.int.spec.ts.)
 */
describe('backend API requests on two nodes', () => {
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

  const post = (node: TestSetup, roomid: string, body: unknown) => cluster.nextcloud.backendRequest(node.baseUrl, roomid, body);

  const user = (node: TestSetup, userid: string) => cluster.user(node, userid, clients);

  const pair = (roomid: string) => cluster.pair(roomid, clients);

  it('update: new properties reach members on both nodes once, roomlist updates reach users on both', async () => {
    const [a, b] = await pair('upd');
    expect((await post(two, 'upd', { type: 'update', update: { userids: [a.userid, b.userid], properties: { name: 'Renamed' } } })).status).toBe(200);
    for (const u of [a, b]) {
      expect(await u.client.next('room')).toEqual({ type: 'room', room: { roomid: 'upd', properties: { name: 'Renamed' } } });
      expect(await u.client.next('event')).toEqual({
        type: 'event',
        event: { target: 'roomlist', type: 'update', update: { roomid: 'upd', properties: { name: 'Renamed' } } },
      });
    }
    await a.client.expectNoMessage(150);
    await b.client.expectNoMessage(10);
  });

  it('invite: users on both nodes get the roomlist invite or update', async () => {
    const a = await user(one, 'inv-a');
    const b = await user(two, 'inv-b');
    await post(one, 'inv', { type: 'invite', invite: { userids: ['inv-b'], alluserids: ['inv-a', 'inv-b'], properties: { name: 'New' } } });
    expect(await b.client.next('event')).toEqual({ type: 'event', event: { target: 'roomlist', type: 'invite', invite: { roomid: 'inv', properties: { name: 'New' } } } });
    expect(await a.client.next('event')).toEqual({ type: 'event', event: { target: 'roomlist', type: 'update', update: { roomid: 'inv', properties: { name: 'New' } } } });
  });

  it('incall all: members on both nodes get one participants update and are in the call', async () => {
    const [a, b] = await pair('call');
    await post(one, 'call', { type: 'incall', incall: { incall: 7, all: true } });
    const expected = { type: 'event', event: { target: 'participants', type: 'update', update: { roomid: 'call', incall: 7, all: true } } };
    expect(await a.client.next('event')).toEqual(expected);
    expect(await b.client.next('event')).toEqual(expected);
    expect(two.server.sessions.byPublicId(b.sessionid)?.inCall).toBe(7);
    await a.client.expectNoMessage(150);
    await b.client.expectNoMessage(10);
  });

  it('message and disinvite by user id, posted to either node', async () => {
    const [a, b] = await pair('dis');
    await post(two, 'dis', { type: 'message', message: { data: { hello: 'both' } } });
    const message = { type: 'event', event: { target: 'room', type: 'message', message: { roomid: 'dis', data: { hello: 'both' } } } };
    expect(await a.client.next('event')).toEqual(message);
    expect(await b.client.next('event')).toEqual(message);
    await post(two, 'dis', { type: 'disinvite', disinvite: { userids: [a.userid], alluserids: [b.userid] } });
    expect(await a.client.next('event')).toEqual({ type: 'event', event: { target: 'roomlist', type: 'disinvite', disinvite: { roomid: 'dis', reason: 'disinvited' } } });
    expect((await a.client.closed()).code).toBe(1005);
    expect(await b.client.waitForMessage((m) => m.type === 'event' && m.event.target === 'roomlist')).toEqual({
      type: 'event',
      event: { target: 'roomlist', type: 'update', update: { roomid: 'dis' } },
    });
    expect(await b.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'leave')).toEqual({ type: 'event', event: { target: 'room', type: 'leave', leave: [a.sessionid] } });
  });

  it('delete: members and internal clients on both nodes are told, leave, and the room is gone everywhere', async () => {
    const [a, b] = await pair('del');
    const internal = await TestClient.connect(one.wsUrl);
    clients.push(internal);
    expect((await internal.helloInternal({ backend: cluster.nextcloud.url, secret: INTERNAL_SECRET })).type).toBe('hello');
    expect((await internal.joinRoom('del')).type).toBe('room');
    await one.server.bus.flush();
    await post(two, 'del', { type: 'delete', delete: { userids: [a.userid, b.userid] } });
    expect(await internal.waitForMessage((m) => m.type === 'event' && m.event.type === 'delete')).toEqual({ type: 'event', event: { target: 'room', type: 'delete' } });
    for (const u of [a, b]) {
      expect(await u.client.waitForMessage((m) => m.type === 'room')).toEqual({ type: 'room', room: { roomid: '' } });
      expect(await u.client.waitForMessage((m) => m.type === 'event' && m.event.target === 'roomlist')).toEqual({
        type: 'event',
        event: { target: 'roomlist', type: 'disinvite', disinvite: { roomid: 'del', reason: 'deleted' } },
      });
    }
    await waitFor(() => one.server.rooms.get('nc1', 'del') === undefined && two.server.rooms.get('nc1', 'del') === undefined, { timeout: 5_000, name: 'room gone on both' });
  });
});
