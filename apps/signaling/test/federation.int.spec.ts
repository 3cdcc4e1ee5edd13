import { DEFAULT_FEATURES, startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { FaultProxy, TestClient, waitFor } from '@talk-signaling/testing';
import { startTestInstance, type TestInstance, type TestInstanceOptions } from './test-instance';

jest.setTimeout(30_000);

/* eslint-disable @typescript-eslint/no-explicit-any -- protocol messages are free-form JSON in tests */

/**
 * One of our servers with `nextcloud` as its only backend; a two-node cluster standing in for it
 * when this spec runs clustered (federation.clustered.int.spec.ts).
 */
function startInstance(nextcloud: FakeNextcloud, opts: Pick<TestInstanceOptions, 'extraConfig' | 'clients' | 'firstClient'> = {}): Promise<TestInstance> {
  return startTestInstance(nextcloud, {
    ...opts,
    roomEventBatchMs: 5,
    roomPingIntervalMs: 200,
    serverOptions: { federationReconnect: { initialMs: 50, maxMs: 200 } },
  });
}

/** Whether this run is on clusters: a message or control crossing nodes also names its recipient (as upstream). */
const CLUSTERED = Number(process.env['TALK_TEST_NODES'] ?? '1') > 1;

/**
 * A `message`/`control` to `receiver` (a session id as its client knows it) as one server delivers
 * it: on clusters, one that crossed nodes also names its recipient (as upstream) — checked, then
 * left out.
 */
function delivered(m: any, receiver: string): any {
  if (!CLUSTERED) return m;
  const key = m.message ? 'message' : 'control';
  const { recipient, ...rest } = m[key];
  expect(recipient).toEqual({ type: 'session', sessionid: receiver });
  return { ...m, [key]: rest };
}

describe('federation (two servers, two Nextclouds)', () => {
  let ncA: FakeNextcloud;
  let ncB: FakeNextcloud;
  // A (the local server) and B (hosting the room). On clusters: federated joins reach B's first
  // node and B's clients are all on its second; A's clients alternate over A's nodes.
  let a: TestInstance;
  let b: TestInstance;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    ncA = await startFakeNextcloud({ secret: 'secret-of-a' });
    ncB = await startFakeNextcloud({ secret: 'secret-of-b' });
    await ncB.useHelloV2Keys('ES256');
    ncB.setCapabilities({ features: [...DEFAULT_FEATURES, 'federation-v2'] });
    ncB.setRoom('room-b', { properties: { name: 'Hosted on B', type: 2 } });
  });
  beforeEach(async () => {
    b = await startInstance(ncB, { clients: 'others' });
    // The allow-list names B, so federation to B works and anything else is refused.
    a = await startInstance(ncA, { extraConfig: `[federation]\nallowedhosts = 127.0.0.1:${b.port}` });
  });
  afterEach(async () => {
    while (clients.length) clients.pop()!.close();
    await a.stop();
    await b.stop();
    ncA.clearRequests();
    ncB.clearRequests();
  });
  afterAll(async () => {
    await ncA.close();
    await ncB.close();
  });

  async function user(instance: TestInstance, nextcloud: FakeNextcloud, userid: string, features?: string[]) {
    const client = await TestClient.connect(instance.wsUrl);
    clients.push(client);
    expect((await client.next('welcome')).welcome.features).toContain('federation');
    const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(userid), features });
    expect(reply.type).toBe('hello');
    return { client, sessionid: reply.hello.sessionid as string, resumeid: reply.hello.resumeid as string };
  }

  /** A token of B's Nextcloud for alice of A, with the actor data Talk puts into federation tokens. */
  function aliceToken(): Promise<string> {
    return ncB.issueHelloV2Token('alice', {
      userdata: { displayname: 'Alice', actorType: 'federated_users', actorId: `alice@${ncA.url.slice('http://'.length, -1)}` },
    });
  }

  async function federationJoin(client: TestClient, federation: Record<string, unknown>, id = 'fj') {
    client.send({ id, type: 'room', room: { roomid: 'local-room', sessionid: 'nc-a-alice', federation } });
  }

  it('relays a federated session both ways, survives a restart of the remote server and leaves', async () => {
    const bob = await user(b, ncB, 'bob');
    await bob.client.joinRoom('room-b', 'nc-b-bob');
    const bobEntry = { sessionid: bob.sessionid, userid: 'bob', user: { displayname: 'bob' }, roomsessionid: 'nc-b-bob' };
    expect((await bob.client.next('event')).event.join).toEqual([expect.objectContaining(bobEntry)]);

    const alice = await user(a, ncA, 'alice', ['chat-relay']);
    const token = await aliceToken();
    await federationJoin(alice.client, { signaling: b.baseUrl, url: ncB.url, roomid: 'room-b', token });
    // The answer comes from B, with the local room id.
    expect(await alice.client.next('room')).toEqual({ id: 'fj', type: 'room', room: { roomid: 'local-room', properties: { name: 'Hosted on B', type: 2 } } });

    // B's Nextcloud was asked with the federated actor; A's Nextcloud not at all.
    const join = await ncB.waitForRequest((r) => r.type === 'room' && r.body.room.userid === 'alice');
    expect(join.body.room).toMatchObject({ roomid: 'room-b', sessionid: 'nc-a-alice', actorid: expect.stringMatching(/^alice@/), actortype: 'federated_users' });
    expect(ncA.count('room')).toBe(0);

    // Bob sees the remote session of alice, marked federated.
    const joined = await bob.client.next('event');
    const remoteId = joined.event.join[0].sessionid as string;
    // On clusters: alice on A's first node, her remote session on B's first, bob on B's last.
    expect([a.nodeOf(alice.sessionid), b.nodeOf(remoteId), b.nodeOf(bob.sessionid)]).toEqual([0, 0, b.servers.length - 1]);
    expect(remoteId).not.toBe(alice.sessionid);
    expect(joined.event.join).toEqual([
      expect.objectContaining({ sessionid: remoteId, userid: 'alice', user: expect.objectContaining({ displayname: 'Alice' }), roomsessionid: 'nc-a-alice', federated: true }),
    ]);
    // Alice sees herself under her local id (still federated) and then bob.
    const own = await alice.client.next('event');
    expect(own.event).toMatchObject({ target: 'room', type: 'join' });
    expect(own.event.join).toEqual([expect.objectContaining({ sessionid: alice.sessionid, userid: 'alice', federated: true })]);
    expect((await alice.client.next('event')).event.join).toEqual([expect.objectContaining(bobEntry)]);

    // Session and room messages in both directions, with translated ids.
    bob.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: remoteId }, data: { from: 'bob' } } });
    expect(delivered(await alice.client.next('message'), alice.sessionid)).toEqual({
      type: 'message',
      message: { sender: { type: 'session', sessionid: bob.sessionid, userid: 'bob' }, data: { from: 'bob' } },
    });
    alice.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: bob.sessionid }, data: { from: 'alice' } } });
    expect(delivered(await bob.client.next('message'), bob.sessionid)).toEqual({
      type: 'message',
      message: { sender: { type: 'session', sessionid: remoteId, userid: 'alice' }, data: { from: 'alice' } },
    });
    alice.client.send({ type: 'message', message: { recipient: { type: 'room' }, data: 'to the room' } });
    expect((await bob.client.next('message')).message).toEqual({ sender: { type: 'room', sessionid: remoteId, userid: 'alice' }, data: 'to the room' });
    // MCU-style offer: `to`/`from` naming alice's remote session reach her with her local id.
    bob.client.send({
      type: 'message',
      message: { recipient: { type: 'session', sessionid: remoteId }, data: { type: 'offer', to: remoteId, from: bob.sessionid, roomType: 'video', sid: '1', payload: { sdp: 'v=0' } } },
    });
    expect((await alice.client.next('message')).message.data).toEqual({ type: 'offer', to: alice.sessionid, from: bob.sessionid, roomType: 'video', sid: '1', payload: { sdp: 'v=0' } });
    // Control from bob (old-style sessions may steer others), forceMute peer id translated.
    bob.client.send({ type: 'control', control: { recipient: { type: 'session', sessionid: remoteId }, data: { action: 'forceMute', peerId: remoteId } } });
    expect(delivered(await alice.client.next('control'), alice.sessionid).control).toEqual({
      sender: { type: 'session', sessionid: bob.sessionid, userid: 'bob' },
      data: { action: 'forceMute', peerId: alice.sessionid },
    });
    // Transient data set through the federation reaches bob.
    alice.client.send({ type: 'transient', transient: { type: 'set', key: 'shared', value: 42 } });
    expect(await bob.client.waitForMessage((m) => m.type === 'transient')).toEqual({ type: 'transient', transient: { type: 'set', key: 'shared', value: 42 } });

    // B's Nextcloud reports the participants (on clusters to B's last node, which looks alice's
    // Nextcloud session up on the first): bob sees her remote session as a federated user; alice sees
    // herself under her local id as a user of her own cloud, bob as a federated user, in her room id.
    const actorA = `alice@${ncA.url.slice('http://'.length, -1)}`;
    const cloudB = ncB.url.slice('http://'.length, -1);
    const participants = {
      changed: [{ sessionId: 'nc-a-alice', inCall: 1, actorType: 'federated_users', actorId: actorA }],
      users: [
        { sessionId: 'nc-a-alice', inCall: 1, actorType: 'federated_users', actorId: actorA },
        { sessionId: 'nc-b-bob', inCall: 0, actorType: 'users', actorId: 'bob' },
      ],
    };
    expect((await ncB.backendRequest(b.backendUrl, 'room-b', { type: 'participants', participants })).status).toBe(200);
    expect((await bob.client.waitForMessage((m) => m.event?.target === 'participants')).event.update).toEqual({
      roomid: 'room-b',
      users: [
        { sessionId: remoteId, inCall: 1, actorType: 'federated_users', actorId: actorA },
        { sessionId: bob.sessionid, inCall: 0, actorType: 'users', actorId: 'bob' },
      ],
    });
    expect((await alice.client.waitForMessage((m) => m.event?.target === 'participants')).event.update).toEqual({
      roomid: 'local-room',
      users: [
        { sessionId: alice.sessionid, inCall: 1, actorType: 'users', actorId: 'alice' },
        { sessionId: bob.sessionid, inCall: 0, actorType: 'federated_users', actorId: `bob@${cloudB}` },
      ],
    });
    // The remote session is in the call where it lives.
    expect(b.servers[b.nodeOf(remoteId)]!.sessions.byPublicId(remoteId)!.inCall).toBe(1);
    // A room message of B's Nextcloud reaches alice with her room id.
    expect((await ncB.backendRequest(b.backendUrl, 'room-b', { type: 'message', message: { data: { chat: { refresh: true } } } })).status).toBe(200);
    expect(await alice.client.waitForMessage((m) => m.event?.type === 'message')).toEqual({
      type: 'event',
      event: { target: 'room', type: 'message', message: { roomid: 'local-room', data: { chat: { refresh: true } } } },
    });

    // Pings for the federated session go to A's Nextcloud, under the local room id.
    const ping = await ncA.waitForRequest((r) => r.type === 'ping');
    expect(ping.body.ping).toEqual({ version: '1.0', roomid: 'local-room', entries: [{ userid: 'alice', sessionid: 'nc-a-alice' }] });
    expect(ping.checksumValid).toBe(true);

    // Bob leaves (alice sees it), then B goes away — on a cluster, the node holding alice's remote
    // session — and comes back on the same port: alice is told, then resumed with a new remote session.
    await bob.client.bye();
    expect(await alice.client.waitForMessage((m) => m.type === 'event')).toEqual({ type: 'event', event: { target: 'room', type: 'leave', leave: [bob.sessionid] } });
    await b.stopFirst();
    expect(await alice.client.waitForMessage((m) => m.type === 'event')).toEqual({ type: 'event', event: { target: 'room', type: 'federation_interrupted' } });
    await b.startFirst();
    expect(await alice.client.next('event')).toEqual({ type: 'event', event: { target: 'room', type: 'federation_resumed', resumed: false } });
    // A fresh room and join list, as after a failed resume.
    expect(await alice.client.next('room')).toEqual({ type: 'room', room: { roomid: 'local-room', properties: { name: 'Hosted on B', type: 2 } } });
    expect((await alice.client.next('event')).event.join).toEqual([expect.objectContaining({ sessionid: alice.sessionid, federated: true })]);

    const bob2 = await user(b, ncB, 'bob');
    await bob2.client.joinRoom('room-b', 'nc-b-bob');
    const rejoined = await bob2.client.waitForMessage((m) => m.type === 'event' && m.event.join?.some((e: any) => e.federated));
    const remoteId2 = rejoined.event.join.find((e: any) => e.federated).sessionid as string;
    expect([b.nodeOf(remoteId2), b.nodeOf(bob2.sessionid)]).toEqual([0, b.servers.length - 1]);
    expect(remoteId2).not.toBe(remoteId);
    expect((await alice.client.waitForMessage((m) => m.type === 'event')).event.join).toEqual([expect.objectContaining({ sessionid: bob2.sessionid, userid: 'bob' })]);
    alice.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: bob2.sessionid }, data: 'again' } });
    expect(delivered(await bob2.client.next('message'), bob2.sessionid).message).toEqual({ sender: { type: 'session', sessionid: remoteId2, userid: 'alice' }, data: 'again' });
    bob2.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: remoteId2 }, data: 'back' } });
    expect(delivered(await alice.client.next('message'), alice.sessionid).message).toEqual({ sender: { type: 'session', sessionid: bob2.sessionid, userid: 'bob' }, data: 'back' });

    // Leaving: the answer comes from B; bob sees the leave; B's Nextcloud is told with the actor; the remote session ends.
    alice.client.send({ id: 'lv', type: 'room', room: { roomid: '' } });
    expect(await alice.client.next('room')).toEqual({ id: 'lv', type: 'room', room: { roomid: '' } });
    expect(await bob2.client.next('event')).toEqual({ type: 'event', event: { target: 'room', type: 'leave', leave: [remoteId2] } });
    const leave = await ncB.waitForRequest((r) => r.type === 'room' && r.body.room.action === 'leave' && r.body.room.userid === 'alice');
    expect(leave.body.room).toMatchObject({ roomid: 'room-b', sessionid: 'nc-a-alice', actortype: 'federated_users', action: 'leave' });
    await waitFor(() => b.sessionCount() === 1 && a.federationCount() === 0, { timeout: 5_000, name: 'B holds only bob, A no federation connection' });
    // Alice is a plain local session again: her messages stay on A.
    expect(a.servers.some((server) => server.sessions.byPublicId(alice.sessionid) !== undefined)).toBe(true);
  });

  it('resumes the remote session after a short network interruption', async () => {
    const proxy = await FaultProxy.start({ port: b.port });
    try {
      const bob = await user(b, ncB, 'bob');
      await bob.client.joinRoom('room-b', 'nc-b-bob');
      await bob.client.next('event');
      // The allow-list names B's own port; the proxy is another host:port, so allow any host here.
      await a.stop();
      // Alice on A's last node this time (on clusters: the federation starts from the second node).
      a = await startInstance(ncA, { firstClient: 1 });
      const alice = await user(a, ncA, 'alice');
      await federationJoin(alice.client, { signaling: `http://127.0.0.1:${proxy.port}/`, url: ncB.url, roomid: 'room-b', token: await aliceToken() });
      await alice.client.next('room');
      const remoteId = (await bob.client.next('event')).event.join[0].sessionid as string;
      expect([a.nodeOf(alice.sessionid), b.nodeOf(remoteId), b.nodeOf(bob.sessionid)]).toEqual([a.servers.length - 1, 0, b.servers.length - 1]);
      await alice.client.next('event');
      await alice.client.next('event');

      proxy.suspend();
      expect(await alice.client.next('event')).toEqual({ type: 'event', event: { target: 'room', type: 'federation_interrupted' } });
      // Sent while interrupted: delivered after the resume.
      alice.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: bob.sessionid }, data: 'queued' } });
      // The "load balancer" sends the reconnect to B's last node (on a single server: the server); on
      // clusters that node takes the resume to the one holding the remote session.
      proxy.retarget(b.ports[b.ports.length - 1]!);
      proxy.unsuspend();
      expect(await alice.client.next('event')).toEqual({ type: 'event', event: { target: 'room', type: 'federation_resumed', resumed: true } });
      expect(delivered(await bob.client.next('message'), bob.sessionid).message).toEqual({ sender: { type: 'session', sessionid: remoteId, userid: 'alice' }, data: 'queued' });
      await bob.client.expectNoMessage(100); // no leave/join: the same remote session
      expect(b.nodeOf(remoteId)).toBe(0);
      bob.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: remoteId }, data: 'still there' } });
      expect(delivered(await alice.client.next('message'), alice.sessionid).message).toEqual({ sender: { type: 'session', sessionid: bob.sessionid, userid: 'bob' }, data: 'still there' });

      // Alice's own connection drops and she resumes (on clusters on A's other node): the room goes on both ways.
      const session = a.servers[a.nodeOf(alice.sessionid)]!.sessions.byPublicId(alice.sessionid)!;
      alice.client.close();
      await waitFor(() => session.connection === undefined, { timeout: 5_000, name: "alice's connection gone" });
      const again = await TestClient.connect(a.wsUrl);
      clients.push(again);
      expect(await again.resume(alice.resumeid)).toMatchObject({ type: 'hello', hello: { sessionid: alice.sessionid } });
      expect(a.nodeOf(alice.sessionid)).toBe(a.servers.length - 1);
      bob.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: remoteId }, data: 'welcome back' } });
      expect(delivered(await again.waitForMessage((m) => m.type === 'message'), alice.sessionid).message).toEqual({
        sender: { type: 'session', sessionid: bob.sessionid, userid: 'bob' },
        data: 'welcome back',
      });
      again.send({ type: 'message', message: { recipient: { type: 'session', sessionid: bob.sessionid }, data: 'thanks' } });
      expect(delivered(await bob.client.next('message'), bob.sessionid).message).toEqual({ sender: { type: 'session', sessionid: remoteId, userid: 'alice' }, data: 'thanks' });
    } finally {
      await proxy.close();
    }
  });

  it('closes the remote session on bye, and when a local room is joined', async () => {
    ncA.setRoom('room-a', {});
    const alice = await user(a, ncA, 'alice');
    await federationJoin(alice.client, { signaling: b.baseUrl, url: ncB.url, roomid: 'room-b', token: await aliceToken() });
    await alice.client.next('room');
    await waitFor(() => b.sessionCount() === 1, { timeout: 5_000, name: 'one session on B' });
    // Joining a local room ends the federated one.
    expect(await alice.client.joinRoom('room-a', 'nc-a-alice-2')).toMatchObject({ type: 'room', room: { roomid: 'room-a' } });
    await waitFor(() => b.sessionCount() === 0 && a.federationCount() === 0, { timeout: 5_000, name: 'no session on B, no federation connection on A' });

    await federationJoin(alice.client, { signaling: b.baseUrl, url: ncB.url, roomid: 'room-b', token: await aliceToken() }, 'fj2');
    expect(await alice.client.waitForMessage((m) => m.type === 'room')).toMatchObject({ id: 'fj2', room: { roomid: 'local-room' } });
    // Any local room is left (A's Nextcloud is told), and bye ends the remote session.
    await ncA.waitForRequest((r) => r.type === 'room' && r.body.room.action === 'leave' && r.body.room.roomid === 'room-a');
    await waitFor(() => b.sessionCount() === 1, { timeout: 5_000, name: 'one session on B' });
    await alice.client.bye();
    await waitFor(() => b.sessionCount() === 0 && a.federationCount() === 0, { timeout: 5_000, name: 'no session on B, no federation connection on A' });
  });

  it('refuses targets outside the allow-list, unreachable hosts, servers without federation and bad tokens', async () => {
    const token = await aliceToken();
    // Two users: on a cluster, one on each node.
    for (const userid of ['alice', 'dave']) {
      const { client } = await user(a, ncA, userid);
      await federationJoin(client, { signaling: 'http://other.example.invalid/', url: ncB.url, token }, 'e1');
      expect(await client.next('error')).toEqual({
        id: 'e1',
        type: 'error',
        error: {
          code: 'federation_error',
          message: 'Failed to create federation client.',
          details: { code: 'host_not_allowed', message: 'Federation to other.example.invalid is not allowed.' },
        },
      });
    }
    expect(b.sessionCount()).toBe(0);

    // Without the allow-list (and on clusters from A's last node): an unreachable host is a network error.
    await a.stop();
    a = await startInstance(ncA, { firstClient: 1 });
    const carol = await user(a, ncA, 'carol');
    await federationJoin(carol.client, { signaling: 'http://127.0.0.1:1/', url: ncB.url, token }, 'e2');
    const unreachable = await carol.client.next('error');
    expect(unreachable).toMatchObject({ id: 'e2', error: { code: 'federation_error', details: { code: 'network_error', message: expect.any(String) } } });

    // A target that does not announce `federation`.
    for (const server of b.servers) server.features.remove('federation');
    await federationJoin(carol.client, { signaling: b.baseUrl, url: ncB.url, token }, 'e3');
    expect(await carol.client.next('error')).toEqual({
      id: 'e3',
      type: 'error',
      error: { code: 'federation_unsupported', message: 'The target server does not support federation.' },
    });
    for (const server of b.servers) server.features.add('federation');

    // The remote refuses the token: its hello error reaches the client as the join's answer (as upstream).
    await federationJoin(carol.client, { signaling: b.baseUrl, url: ncB.url, token: 'not-a-jwt' }, 'e4');
    expect(await carol.client.next('error')).toMatchObject({ id: 'e4', error: { code: 'invalid_token' } });
    // The remote Nextcloud lacks Talk's federation-v2 capability: federation_unsupported from the remote.
    ncB.setCapabilities({ features: [...DEFAULT_FEATURES] });
    for (const server of b.servers) server.capabilities.invalidate(ncB.url);
    await federationJoin(carol.client, { signaling: b.baseUrl, url: ncB.url, token }, 'e5');
    expect(await carol.client.next('error')).toMatchObject({ id: 'e5', error: { code: 'federation_unsupported' } });
    ncB.setCapabilities({ features: [...DEFAULT_FEATURES, 'federation-v2'] });
    await waitFor(() => a.federationCount() === 0 && b.sessionCount() === 0, { timeout: 5_000, name: 'no federation connection on A, no session on B' });
  });

  it('federates into a room of its own server (on clusters: from one node into a room on another)', async () => {
    const bob = await user(b, ncB, 'bob');
    await bob.client.joinRoom('room-b', 'nc-b-bob');
    await bob.client.next('event');
    // Carol is a user of B's own Nextcloud, connected to B (on clusters to its last node), and joins
    // room-b through the federation to B's first node, as upstream's clustered federation test does.
    const carol = await user(b, ncB, 'carol');
    const token = await ncB.issueHelloV2Token('carol', { userdata: { displayname: 'Carol', actorType: 'federated_users', actorId: 'carol@elsewhere.example' } });
    carol.client.send({ id: 'fj', type: 'room', room: { roomid: 'carol-room', sessionid: 'nc-b-carol-fed', federation: { signaling: b.baseUrl, url: ncB.url, roomid: 'room-b', token } } });
    expect(await carol.client.next('room')).toEqual({ id: 'fj', type: 'room', room: { roomid: 'carol-room', properties: { name: 'Hosted on B', type: 2 } } });
    const joined = await bob.client.next('event');
    const remoteId = joined.event.join[0].sessionid as string;
    expect(joined.event.join).toEqual([expect.objectContaining({ sessionid: remoteId, userid: 'carol', roomsessionid: 'nc-b-carol-fed', federated: true })]);
    expect([b.nodeOf(carol.sessionid), b.nodeOf(remoteId), b.nodeOf(bob.sessionid)]).toEqual([b.servers.length - 1, 0, b.servers.length - 1]);
    expect((await carol.client.next('event')).event.join).toEqual([expect.objectContaining({ sessionid: carol.sessionid, federated: true })]);
    expect((await carol.client.next('event')).event.join).toEqual([expect.objectContaining({ sessionid: bob.sessionid })]);
    // Her local session is in no room of its own; only room-b exists.
    expect(b.servers.every((server) => server.rooms.get('nc1', 'carol-room') === undefined)).toBe(true);
    expect(b.servers.filter((server) => server.rooms.get('nc1', 'room-b') !== undefined).length).toBe(b.servers.length);

    // Messages to her own ids go nowhere (as upstream): the next message she gets is bob's answer
    // to what she sent after them over the same connection.
    carol.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: carol.sessionid }, data: 'self' } });
    carol.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: remoteId }, data: 'self' } });
    carol.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: bob.sessionid }, data: 'hi bob' } });
    expect(delivered(await bob.client.next('message'), bob.sessionid).message).toEqual({ sender: { type: 'session', sessionid: remoteId, userid: 'carol' }, data: 'hi bob' });
    bob.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: remoteId }, data: 'hi carol' } });
    expect(delivered(await carol.client.next('message'), carol.sessionid).message).toEqual({ sender: { type: 'session', sessionid: bob.sessionid, userid: 'bob' }, data: 'hi carol' });

    await carol.client.bye();
    expect(await bob.client.next('event')).toEqual({ type: 'event', event: { target: 'room', type: 'leave', leave: [remoteId] } });
    await waitFor(() => b.sessionCount() === 1 && b.federationCount() === 0, { timeout: 5_000, name: 'B holds only bob, no federation connection' });
  });
});
