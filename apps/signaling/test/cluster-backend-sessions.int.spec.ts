import type { TestClient } from '@talk-signaling/testing';
import { startTestCluster, type TestCluster } from './test-cluster';
import type { TestSetup } from './test-server';

jest.setTimeout(30_000);

/**
 * Backend requests naming Nextcloud session ids of sessions on ANOTHER node (fact sheet 6.4):
 * the node that received the request asks its gRPC peers (`LookupSessionId`, no disconnect
 * reason, one deadline of 1 s per request as upstream) and publishes signaling ids, so the
 * session's own node applies the change and members on every node see the same update.
 */
describe('backend requests naming sessions of another node', () => {
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

  const post = (node: TestSetup, roomid: string, body: unknown) => cluster.nextcloud.backendRequest(node.baseUrl, roomid, body);

  const pair = (roomid: string) => cluster.pair(roomid, clients);

  it('participants: a change for a session of the other node is applied there and seen the same on both nodes', async () => {
    const [a, b] = await pair('par');
    const res = await post(one, 'par', {
      type: 'participants',
      participants: {
        changed: [{ sessionId: 'nc-par-b', inCall: 3, permissions: ['publish-audio'], participantType: 3 }],
        users: [
          { sessionId: 'nc-par-a', inCall: 0, participantType: 1, userId: 'par-a' },
          { sessionId: 'nc-par-nobody', inCall: 0 },
          { sessionId: '0', inCall: 0 },
        ],
      },
    });
    expect(res.status).toBe(200);
    const expected = {
      type: 'event',
      event: {
        target: 'participants',
        type: 'update',
        update: {
          roomid: 'par',
          users: [
            { sessionId: a.sessionid, inCall: 0, participantType: 1, userId: 'par-a' },
            { sessionId: b.sessionid, inCall: 3, participantType: 3 },
          ],
        },
      },
    };
    expect(await a.client.waitForMessage((m) => m.event?.target === 'participants')).toEqual(expected);
    expect(await b.client.waitForMessage((m) => m.event?.target === 'participants')).toEqual(expected);
    const session = two.server.sessions.byPublicId(b.sessionid)!;
    expect(session.inCall).toBe(3);
    expect([...session.permissions!]).toEqual(['publish-audio']);
    await a.client.expectNoMessage(100);
    await b.client.expectNoMessage(10);
  });

  it('incall: a session of the other node joins the call, both nodes see one update', async () => {
    const [a, b] = await pair('inc');
    await post(two, 'inc', { type: 'incall', incall: { incall: 7, changed: [{ sessionId: 'nc-inc-a', inCall: 7 }], users: [{ sessionId: 'nc-inc-a', inCall: 7 }] } });
    const seenByA = await a.client.waitForMessage((m) => m.event?.target === 'participants');
    expect(await b.client.waitForMessage((m) => m.event?.target === 'participants')).toEqual(seenByA);
    expect(seenByA.event.update).toEqual({ roomid: 'inc', users: [{ sessionId: a.sessionid, inCall: 7 }] });
    expect(one.server.sessions.byPublicId(a.sessionid)?.inCall).toBe(7);
  });

  it('switchto: sessions of the other node are told, in both forms', async () => {
    const [a, b] = await pair('sw');
    await post(one, 'sw', { type: 'switchto', switchto: { roomid: 'other', sessions: ['nc-sw-b', 'nc-sw-nobody'] } });
    expect(await b.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'switchto')).toEqual({ type: 'event', event: { target: 'room', type: 'switchto', switchto: { roomid: 'other' } } });
    await post(two, 'sw', { type: 'switchto', switchto: { roomid: 'third', sessions: { 'nc-sw-a': { foo: 'bar' } } } });
    expect(await a.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'switchto')).toEqual({
      type: 'event',
      event: { target: 'room', type: 'switchto', switchto: { roomid: 'third', details: { foo: 'bar' } } },
    });
    await a.client.expectNoMessage(100);
    await b.client.expectNoMessage(10);
  });

  it('disinvite by Nextcloud session id: the session on the other node is disinvited and closed, the member left sees it leave', async () => {
    const [a, b] = await pair('dis');
    await post(one, 'dis', { type: 'disinvite', disinvite: { sessionids: ['nc-dis-b', '0'] } });
    expect(await b.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'disinvite')).toEqual({
      type: 'event',
      event: { target: 'roomlist', type: 'disinvite', disinvite: { roomid: 'dis', reason: 'disinvited' } },
    });
    expect((await b.client.closed()).code).toBe(1005);
    expect(await a.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'leave')).toEqual({ type: 'event', event: { target: 'room', type: 'leave', leave: [b.sessionid] } });
  });
});
