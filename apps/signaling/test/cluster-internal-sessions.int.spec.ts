import { TestClient } from '@talk-signaling/testing';
import { startTestCluster, type TestCluster } from './test-cluster';
import { INTERNAL_SECRET, type TestSetup } from './test-server';

jest.setTimeout(30_000);

const PHONE_USER = { type: 'phone', callid: 'call-1', number: '+4930123456' };

type Msg = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Participants updates list the internal and virtual sessions of EVERY node (upstream v2.1
 * asks the peers with `GetInternalSessions`, 1 s): a recording server or SIP bridge connected
 * to node one is listed in the updates node two sends to its Talk clients.
 */
describe('internal and virtual sessions of other nodes in participants updates', () => {
  let cluster: TestCluster;
  let one: TestSetup;
  let two: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster({ nodes: 2, grpc: true, roomEventBatchMs: 5 });
    [one, two] = cluster.nodes as [TestSetup, TestSetup];
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(() => {
    while (clients.length) clients.pop()!.close();
  });

  async function connect(node: TestSetup): Promise<TestClient> {
    const client = await TestClient.connect(node.wsUrl);
    clients.push(client);
    return client;
  }

  async function internalClient(node: TestSetup) {
    const client = await connect(node);
    const reply = await client.helloInternal({ backend: cluster.nextcloud.url, secret: INTERNAL_SECRET, features: ['internal-incall'] });
    expect(reply.type).toBe('hello');
    await client.next('welcome');
    return { client, sessionid: reply.hello.sessionid as string };
  }

  const lists = (...ids: string[]) => (m: Msg) =>
    m.type === 'event' && m.event.target === 'participants' && m.event.type === 'update' && ids.every((id) => m.event.update.users.some((u: Msg) => u.sessionId === id));

  /** A Talk user in `roomid` on node two; an internal client on node one in the room with a phone session. */
  async function setUp(roomid: string) {
    cluster.nextcloud.setRoom(roomid, {});
    const ann = await connect(two);
    const hello = await ann.hello({ url: cluster.nextcloud.backendUrl, params: cluster.nextcloud.addUser(`${roomid}-ann`) });
    await ann.next('welcome');
    expect((await ann.joinRoom(roomid, `nc-${roomid}-ann`)).type).toBe('room');
    await ann.waitForMessage((m) => m.type === 'event' && m.event.type === 'join');
    await two.server.bus.flush();
    const owner = await internalClient(one);
    expect((await owner.client.joinRoom(roomid)).type).toBe('room');
    await ann.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: Msg) => e.sessionid === owner.sessionid));
    owner.client.send({ type: 'internal', internal: { type: 'addsession', addsession: { sessionid: 'phone-1', roomid, user: PHONE_USER, incall: 1 } } });
    const join = await ann.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: Msg) => e.user?.type === 'phone'));
    const vid = join.event.join.find((e: Msg) => e.user?.type === 'phone').sessionid as string;
    // Node one's own update (it holds both): already complete before this change.
    await ann.waitForMessage(lists(owner.sessionid, vid));
    return { ann, annId: hello.hello.sessionid as string, owner, vid };
  }

  it('an internal client joining on node two: its update lists node one\'s internal and virtual sessions too', async () => {
    const { ann, owner, vid } = await setUp('int');
    const recorder = await internalClient(two);
    expect((await recorder.client.joinRoom('int')).type).toBe('room');
    const update = await ann.waitForMessage(lists(recorder.sessionid));
    expect(update.event.update.roomid).toBe('int');
    expect(update.event.update.users).toEqual(
      expect.arrayContaining([
        { inCall: 0, sessionId: recorder.sessionid, lastPing: expect.any(Number), internal: true },
        { inCall: 0, sessionId: owner.sessionid, lastPing: expect.any(Number), internal: true },
        { inCall: 1, sessionId: vid, lastPing: expect.any(Number), virtual: true },
      ]),
    );
    expect(update.event.update.users).toHaveLength(3);
  });

  it('a backend participants update applied by node two lists node one\'s internal and virtual sessions', async () => {
    const { ann, annId, owner, vid } = await setUp('par');
    await cluster.nextcloud.backendRequest(two.baseUrl, 'par', { type: 'participants', participants: { users: [{ sessionId: 'nc-par-ann', inCall: 1, userId: 'par-ann' }] } });
    const update = await ann.waitForMessage(lists(annId));
    expect(update.event.update).toEqual({
      roomid: 'par',
      users: [
        { sessionId: annId, inCall: 1, userId: 'par-ann' },
        { inCall: 0, sessionId: owner.sessionid, lastPing: expect.any(Number), internal: true },
        { inCall: 1, sessionId: vid, lastPing: expect.any(Number), virtual: true },
      ],
    });
  });
});
