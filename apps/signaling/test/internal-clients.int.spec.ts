import { TestClient, waitFor } from '@talk-signaling/testing';
import { silentLogger } from '@talk-signaling/runtime';
import { DialoutRegistry } from '../src/internal/dialout-registry';
import { INTERNAL_SECRET, allNodes, busesFlushed, nodeOf, onDifferentNodes, startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(20_000);

/** Messages as the test client hands them over (parsed JSON). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

const PHONE_USER = { type: 'phone', callid: 'call-1', number: '+4930123456' };

describe('internal clients, virtual sessions and dialout', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5, timeouts: { resumeWindowMs: 50 } });
    setup.nextcloud.setRoom('room-1', { properties: { name: 'Room one' } });
    setup.nextcloud.setRoom('555', {});
  });
  afterAll(async () => {
    await setup.stop();
  });
  afterEach(async () => {
    while (clients.length) clients.pop()!.close();
    // Sessions expire 50 ms after their socket; virtual ones end with their owner. Waiting keeps
    // tests from seeing each other's leftovers (e.g. a closing dialout bridge).
    await waitFor(() => allNodes(setup).every((n) => n.server.sessions.size === 0), { timeout: 2_000, name: 'all sessions gone' });
    expect(virtualSessions()).toBe(0);
    setup.nextcloud.clearRequests();
  });

  /** Live virtual sessions over every node. */
  const virtualSessions = (): number => allNodes(setup).reduce((sum, n) => sum + n.server.internal.virtualSessionCount, 0);
  /** The session with this public id on whichever node holds it. */
  const sessionAnywhere = (publicId: string) => nodeOf(setup, publicId).server.sessions.byPublicId(publicId);

  async function connect(): Promise<TestClient> {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    return client;
  }

  /** A user in `roomid`, with its own join event consumed (and its announcement to other nodes on its way). */
  async function userInRoom(userid: string, roomid = 'room-1') {
    const client = await connect();
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
    await client.next('welcome');
    await client.joinRoom(roomid, `nc-${userid}`);
    await client.waitForMessage((m) => m.type === 'event' && m.event.type === 'join');
    await busesFlushed(setup);
    return { client, sessionid: reply.hello.sessionid as string };
  }

  async function internalClient(features?: string[]) {
    const client = await connect();
    const reply = await client.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET, ...(features ? { features } : {}) });
    expect(reply.type).toBe('hello');
    await client.next('welcome');
    return { client, sessionid: reply.hello.sessionid as string, features: reply.hello.server.features as string[] };
  }

  /**
   * An internal client that joined room-1, where `member` already is: `addsession` needs the
   * room on the client's own node (upstream ignores it otherwise), so a bridge joins the room
   * first, as upstream's clustered test does. Both have seen the join and the participants
   * update listing the internal client.
   */
  async function ownerInRoom(member: { client: TestClient; sessionid: string }, features?: string[]) {
    const owner = await internalClient(features);
    // On two nodes, consecutive connections go to different nodes: the bridge is not on the member's.
    expect(onDifferentNodes(setup, member.sessionid, owner.sessionid)).toBe(setup.nodes !== undefined);
    expect((await owner.client.joinRoom('room-1')).type).toBe('room');
    const inCall = features?.includes('internal-incall') ? 0 : 3;
    const update = { roomid: 'room-1', users: [{ inCall, sessionId: owner.sessionid, lastPing: expect.any(Number), internal: true }] };
    const joined = (m: Msg, id: string) => m.type === 'event' && m.event.type === 'join' && m.event.join.some((e: Msg) => e.sessionid === id);
    await member.client.waitForMessage((m) => joined(m, owner.sessionid));
    expect((await member.client.next('event')).event.update).toEqual(update);
    // The owner hears its own join, the members (one event per node) and the update, in an order that depends on the nodes.
    const seen = { self: false, member: false, update: false };
    await owner.client.waitForMessage((m) => {
      seen.self ||= joined(m, owner.sessionid);
      seen.member ||= joined(m, member.sessionid);
      if (participants(m)) {
        expect(m.event.update).toEqual(update);
        seen.update = true;
      }
      return seen.self && seen.member && seen.update;
    });
    return owner;
  }

  function addSession(client: TestClient, addsession: Record<string, unknown>, id?: string): void {
    client.send({ ...(id ? { id } : {}), type: 'internal', internal: { type: 'addsession', addsession } });
  }

  /** Adds a phone session to room-1 and returns its public id as the user saw it join. */
  async function addPhone(owner: TestClient, user: TestClient, extra: Record<string, unknown> = {}): Promise<string> {
    addSession(owner, { sessionid: 'phone-1', roomid: 'room-1', user: PHONE_USER, ...extra });
    const join = await user.waitForMessage((m) => m.type === 'event' && m.event.type === 'join');
    return join.event.join[0].sessionid as string;
  }

  const participants = (m: Msg) => m.type === 'event' && m.event.target === 'participants' && m.event.type === 'update';

  it('announces virtual-sessions to internal clients only, dialout to everyone', async () => {
    const user = await connect();
    const welcome = await user.next('welcome');
    expect(welcome.welcome.features).toEqual(expect.arrayContaining(['virtual-sessions', 'dialout']));
    const reply = await user.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('ann') });
    expect(reply.hello.server.features).toContain('dialout');
    expect(reply.hello.server.features).not.toContain('virtual-sessions');
    const internal = await internalClient();
    expect(internal.features).toEqual(expect.arrayContaining(['virtual-sessions', 'dialout']));
    expect([...internal.features].sort()).toEqual(internal.features);
  });

  it('starts internal sessions in the call with audio unless they announced internal-incall', async () => {
    const plain = await internalClient();
    const own = await internalClient(['internal-incall']);
    expect(sessionAnywhere(plain.sessionid)?.inCall).toBe(3);
    expect(sessionAnywhere(own.sessionid)?.inCall).toBe(0);
  });

  it('adds a virtual session without options: Nextcloud session request, join, participants and flags events', async () => {
    const ann = await userInRoom('ann');
    const owner = await ownerInRoom(ann);
    const vid = await addPhone(owner.client, ann.client, { flags: 1 });

    const request = await setup.nextcloud.waitForRequest((r) => r.type === 'session' && r.body.session?.sessionid === vid);
    expect(request.body).toEqual({ type: 'session', session: { version: '1.0', roomid: 'room-1', action: 'add', sessionid: vid, user: PHONE_USER } });
    expect(request.checksumValid).toBe(true);

    expect(ann.client.messages.filter((m: Msg) => m.type === 'event' && m.event.type === 'join').at(-1).event.join).toEqual([
      { sessionid: vid, userid: '', user: PHONE_USER },
    ]);
    const update = await ann.client.waitForMessage(participants);
    expect(update.event.update).toEqual({
      roomid: 'room-1',
      users: [
        { inCall: 3, sessionId: owner.sessionid, lastPing: expect.any(Number), internal: true },
        { inCall: 9, sessionId: vid, lastPing: expect.any(Number), virtual: true },
      ],
    });
    expect(await ann.client.next('event')).toEqual({
      type: 'event',
      event: { target: 'participants', type: 'flags', flags: { roomid: 'room-1', sessionid: vid, flags: 1 } },
    });

    // It lives on its owner's node.
    const { server } = nodeOf(setup, owner.sessionid);
    const virtual = server.sessions.byPublicId(vid)!;
    expect(virtual.clientType).toBe('virtual');
    expect(server.sessions.byPrivateId(virtual.privateId)).toBeUndefined();
    const gauge = await server.registry.getSingleMetric('signaling_hub_sessions')!.get();
    expect(gauge.values.find((v) => v.labels['clienttype'] === 'virtual')?.value).toBe(1);
  });

  it('adds a virtual session with options through a Nextcloud room join and leaves it the same way', async () => {
    const ann = await userInRoom('ann');
    const owner = await ownerInRoom(ann);
    const vid = await addPhone(owner.client, ann.client, { userid: 'phone-user', options: { actorId: '+4930123456', actorType: 'phones' } });
    const join = await setup.nextcloud.waitForRequest((r) => r.type === 'room' && r.body.room.sessionid === vid);
    expect(join.body).toEqual({
      type: 'room',
      room: { version: '1.0', roomid: 'room-1', userid: 'phone-user', sessionid: vid, actorid: '+4930123456', actortype: 'phones', incall: 9 },
    });
    // No `session` request for this one (another test's late fire-and-forget remove may still arrive).
    expect(setup.nextcloud.requests.filter((r) => r.type === 'session' && r.body.session?.sessionid === vid)).toEqual([]);

    owner.client.send({ type: 'internal', internal: { type: 'removesession', removesession: { sessionid: 'phone-1', roomid: 'room-1' } } });
    expect(await ann.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'leave')).toEqual({
      type: 'event',
      event: { target: 'room', type: 'leave', leave: [vid] },
    });
    const leave = await setup.nextcloud.waitForRequest((r) => r.type === 'room' && r.body.room.action === 'leave' && r.body.room.sessionid === vid);
    expect(leave.body).toEqual({
      type: 'room',
      room: { version: '1.0', roomid: 'room-1', action: 'leave', userid: 'phone-user', sessionid: vid, actorid: '+4930123456', actortype: 'phones' },
    });
    expect(sessionAnywhere(vid)).toBeUndefined();
    // The owner, a member too, sees the leave; no remove_failed follows.
    await owner.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'leave' && m.event.leave.includes(vid));
    await owner.client.expectNoMessage(100);
  });

  it('lists internal and virtual members in participants updates', async () => {
    const ann = await userInRoom('ann');
    const owner = await ownerInRoom(ann, ['internal-incall']);
    const vid = await addPhone(owner.client, ann.client, { incall: 1 });
    const update = await ann.client.waitForMessage(participants);
    expect(update.event.update.users).toEqual(
      expect.arrayContaining([
        { inCall: 0, sessionId: owner.sessionid, lastPing: expect.any(Number), internal: true },
        { inCall: 1, sessionId: vid, lastPing: expect.any(Number), virtual: true },
      ]),
    );
    expect(update.event.update.users).toHaveLength(2);

    // The internal client's own flags; negative values become 0.
    owner.client.send({ type: 'internal', internal: { type: 'incall', incall: { incall: 7 } } });
    const own = await ann.client.waitForMessage(participants);
    expect(own.event.update.users.find((u: Msg) => u.internal)).toMatchObject({ inCall: 7, sessionId: owner.sessionid });
    owner.client.send({ type: 'internal', internal: { type: 'incall', incall: { incall: -3 } } });
    const reset = await ann.client.waitForMessage(participants);
    expect(reset.event.update.users.find((u: Msg) => u.internal)).toMatchObject({ inCall: 0 });
  });

  it('delivers messages and controls for a virtual session to its owner with the client-chosen id', async () => {
    const ann = await userInRoom('ann');
    const owner = await ownerInRoom(ann);
    const vid = await addPhone(owner.client, ann.client, { userid: 'phone-user' });
    // Through the bus (sender on another node) the recipient also names the virtual user, as upstream.
    const recipient = { type: 'session', sessionid: 'phone-1', ...(onDifferentNodes(setup, ann.sessionid, vid) ? { userid: 'phone-user' } : {}) };
    ann.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: vid }, data: { hello: 'phone' } } });
    expect(await owner.client.waitForMessage((m) => m.type === 'message')).toEqual({
      type: 'message',
      message: {
        sender: { type: 'session', sessionid: ann.sessionid, userid: 'ann' },
        recipient,
        data: { hello: 'phone' },
      },
    });
    ann.client.send({ type: 'control', control: { recipient: { type: 'session', sessionid: vid }, data: { type: 'mute', audio: 1 } } });
    expect(await owner.client.waitForMessage((m) => m.type === 'control')).toEqual({
      type: 'control',
      control: {
        sender: { type: 'session', sessionid: ann.sessionid, userid: 'ann' },
        recipient,
        data: { type: 'mute', audio: 1 },
      },
    });
  });

  it('asks the owner to hang up when Nextcloud disinvites the virtual session', async () => {
    const ann = await userInRoom('ann');
    const owner = await ownerInRoom(ann);
    const vid = await addPhone(owner.client, ann.client, { userid: 'phone-user' });
    const res = await setup.nextcloud.backendRequest(setup.baseUrl, 'room-1', { type: 'disinvite', disinvite: { sessionids: [vid] } });
    expect(res.status).toBe(200);
    expect(await owner.client.waitForMessage((m) => m.type === 'control')).toEqual({
      type: 'control',
      control: { recipient: { type: 'session', sessionid: 'phone-1', userid: 'phone-user' }, data: { type: 'hangup', hangup: { reason: 'disinvited' } } },
    });
  });

  it('updatesession sends flags and participants events; unknown sessions are ignored', async () => {
    const ann = await userInRoom('ann');
    const owner = await ownerInRoom(ann);
    const vid = await addPhone(owner.client, ann.client);
    await ann.client.waitForMessage(participants);
    const update = (updatesession: Record<string, unknown>) =>
      owner.client.send({ type: 'internal', internal: { type: 'updatesession', updatesession: { sessionid: 'phone-1', roomid: 'room-1', ...updatesession } } });

    update({ flags: 4 });
    expect(await ann.client.next('event')).toEqual({
      type: 'event',
      event: { target: 'participants', type: 'flags', flags: { roomid: 'room-1', sessionid: vid, flags: 4 } },
    });
    update({ incall: 0 });
    expect((await ann.client.next('event')).event.update.users).toEqual([
      { inCall: 3, sessionId: owner.sessionid, lastPing: expect.any(Number), internal: true },
      { inCall: 0, sessionId: vid, lastPing: expect.any(Number), virtual: true },
    ]);
    update({ flags: 4, incall: 0 }); // nothing changed
    owner.client.send({ type: 'internal', internal: { type: 'updatesession', updatesession: { sessionid: 'nope', roomid: 'room-1', flags: 1 } } });
    owner.client.send({ type: 'internal', internal: { type: 'updatesession', updatesession: { sessionid: 'phone-1', roomid: 'other', flags: 1 } } });
    await ann.client.expectNoMessage(150);
  });

  it('removesession notifies Nextcloud with a session remove request', async () => {
    const ann = await userInRoom('ann');
    const owner = await ownerInRoom(ann);
    const vid = await addPhone(owner.client, ann.client, { userid: 'phone-user' });
    owner.client.send({ type: 'internal', internal: { type: 'removesession', removesession: { sessionid: 'phone-1', roomid: 'room-1' } } });
    expect((await ann.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'leave')).event.leave).toEqual([vid]);
    const remove = await setup.nextcloud.waitForRequest((r) => r.type === 'session' && r.body.session.action === 'remove' && r.body.session.sessionid === vid);
    expect(remove.body).toEqual({
      type: 'session',
      session: { version: '1.0', roomid: 'room-1', action: 'remove', sessionid: vid, userid: 'phone-user', user: PHONE_USER },
    });
  });

  it('closes virtual sessions when their owner goes, telling members and Nextcloud', async () => {
    const ann = await userInRoom('ann');
    const owner = await ownerInRoom(ann);
    const vid = await addPhone(owner.client, ann.client);
    await owner.client.bye();
    // Both leave, in one event or two.
    const left: string[] = [];
    await ann.client.waitForMessage((m) => {
      if (m.type === 'event' && m.event.type === 'leave') left.push(...m.event.leave);
      return left.length >= 2;
    });
    expect(left.sort()).toEqual([owner.sessionid, vid].sort());
    await setup.nextcloud.waitForRequest((r) => r.type === 'session' && r.body.session.action === 'remove' && r.body.session.sessionid === vid);
    expect(sessionAnywhere(vid)).toBeUndefined();
  });

  it('ignores addsession for rooms not on this node and internal messages from normal clients', async () => {
    const ann = await userInRoom('ann');
    const owner = await internalClient();
    addSession(owner.client, { sessionid: 'x', roomid: 'unknown-room' });
    ann.client.send({ type: 'internal', internal: { type: 'addsession', addsession: { sessionid: 'y', roomid: 'room-1' } } });
    await ann.client.expectNoMessage(150);
    await owner.client.expectNoMessage(0);
    expect(setup.nextcloud.requests.filter((r) => r.type === 'session' && r.body.session?.action === 'add')).toEqual([]);
    expect(virtualSessions()).toBe(0);
  });

  it('answers add_failed with the upstream texts and the Nextcloud message', async () => {
    const owner = await ownerInRoom(await userInRoom('ann'));
    const error = () => owner.client.waitForMessage((m) => m.type === 'error');
    setup.nextcloud.failNext('session', 'http500');
    addSession(owner.client, { sessionid: 'p1', roomid: 'room-1' }, 'a1');
    expect(await error()).toEqual({
      id: 'a1',
      type: 'error',
      error: { code: 'add_failed', message: 'Could not add virtual session.' },
    });
    setup.nextcloud.failNext('room', 'close');
    addSession(owner.client, { sessionid: 'p2', roomid: 'room-1', options: { actorId: 'a', actorType: 'phones' } }, 'a2');
    expect((await error()).error).toEqual({ code: 'add_failed', message: 'Could not join virtual session.' });

    setup.nextcloud.setRoom('room-1', { error: { code: 'not_allowed', message: 'Phones are not allowed here.' } });
    try {
      addSession(owner.client, { sessionid: 'p3', roomid: 'room-1', options: { actorId: 'a', actorType: 'phones' } }, 'a3');
      expect(await error()).toEqual({
        id: 'a3',
        type: 'error',
        error: { code: 'add_failed', message: 'Phones are not allowed here.' },
      });
    } finally {
      setup.nextcloud.setRoom('room-1', { properties: { name: 'Room one' } });
    }
    expect(virtualSessions()).toBe(0);
  });

  it('answers remove_failed, except when Nextcloud says the room is gone', async () => {
    const ann = await userInRoom('ann');
    const owner = await ownerInRoom(ann);
    const error = () => owner.client.waitForMessage((m) => m.type === 'error');
    const remove = (sessionid: string, id: string) =>
      owner.client.send({ id, type: 'internal', internal: { type: 'removesession', removesession: { sessionid, roomid: 'room-1' } } });

    await addPhone(owner.client, ann.client);
    setup.nextcloud.failNext('session', 'http500');
    remove('phone-1', 'r1');
    expect(await error()).toEqual({
      id: 'r1',
      type: 'error',
      error: { code: 'remove_failed', message: 'Could not remove virtual session from backend.' },
    });

    const options = { options: { actorId: 'a', actorType: 'phones' } };
    addSession(owner.client, { sessionid: 'phone-2', roomid: 'room-1', ...options });
    await waitFor(() => virtualSessions() === 1, { timeout: 2_000, name: 'phone-2 added' });
    setup.nextcloud.setRoom('room-1', { error: { code: 'not_allowed', message: 'Cannot leave.' } });
    remove('phone-2', 'r2');
    expect((await error()).error).toEqual({ code: 'remove_failed', message: 'Cannot leave.' });
    setup.nextcloud.setRoom('room-1', { properties: { name: 'Room one' } });

    addSession(owner.client, { sessionid: 'phone-3', roomid: 'room-1', ...options });
    await waitFor(() => virtualSessions() === 1, { timeout: 2_000, name: 'phone-3 added' });
    // The only virtual session now, on its owner's node.
    const [vid3] = [...nodeOf(setup, owner.sessionid).server.sessions.all()].filter((s) => s.clientType === 'virtual').map((s) => s.publicId);
    setup.nextcloud.setRoom('room-1', { error: { code: 'no_such_room', message: 'The room does not exist.' } });
    remove('phone-3', 'r3');
    await setup.nextcloud.waitForRequest((r) => r.type === 'room' && r.body.room.action === 'leave' && r.body.room.actorid === 'a');
    await owner.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'leave' && m.event.leave.includes(vid3));
    await owner.client.expectNoMessage(150);
    setup.nextcloud.setRoom('room-1', { properties: { name: 'Room one' } });
  });

  describe('dialout', () => {
    const backend = () => setup.server.backends.all().find((b) => b.id === 'nc1')!;
    const request = { number: '+4930123456' };
    /** A node asks only the bridges connected to it (as upstream): the node a bridge is on. */
    const nodeOfBridge = (bridge: { sessionid: string }) => nodeOf(setup, bridge.sessionid);

    it('sends the request to a dialout-capable internal client and maps its accepted reply', async () => {
      const bridge = await internalClient(['start-dialout']);
      const result = nodeOfBridge(bridge).server.dialouts.start(backend(), '555', request, undefined);
      const sent = await bridge.client.next('internal');
      expect(sent).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        type: 'internal',
        internal: { type: 'dialout', dialout: { roomid: '555', backend: setup.nextcloud.url, request } },
      });
      bridge.client.send({ id: sent.id, type: 'internal', internal: { type: 'dialout', dialout: { type: 'status', status: { callid: 'call-7', status: 'accepted' } } } });
      expect(await result).toEqual({ status: 200, body: { type: 'dialout', dialout: { callid: 'call-7' } } });
    });

    it('maps error replies, other statuses and types, and missing clients', async () => {
      expect(await setup.server.dialouts.start(backend(), '555', request, undefined)).toEqual({
        status: 404,
        body: { type: 'dialout', dialout: { error: { code: 'no_client_available', message: 'No available client found to trigger dialout.' } } },
      });
      expect((await setup.server.dialouts.start(backend(), 'abc', request, undefined)).status).toBe(400);

      const bridge = await internalClient(['start-dialout']);
      const { server } = nodeOfBridge(bridge);
      const reply = async (dialout: Record<string, unknown>) => {
        const result = server.dialouts.start(backend(), '555', request, undefined);
        const sent = await bridge.client.next('internal');
        bridge.client.send({ id: sent.id, type: 'internal', internal: { type: 'dialout', dialout } });
        return result;
      };
      expect(await reply({ type: 'error', error: { code: 'busy', message: 'All lines busy.' } })).toEqual({
        status: 502,
        body: { type: 'dialout', dialout: { error: { code: 'busy', message: 'All lines busy.' } } },
      });
      expect((await reply({ type: 'status', status: { callid: 'c', status: 'ringing' } })).body).toEqual({
        type: 'dialout',
        dialout: { error: { code: 'unsupported_status', message: 'Unsupported dialout status received.' } },
      });
      expect((await reply({ type: 'other' })).body.dialout).toEqual({
        error: { code: 'unsupported_type', message: 'Unsupported dialout type received.' },
      });

      // A client in a room is not a candidate.
      await bridge.client.joinRoom('555');
      expect(server.dialouts.candidates(backend())).toEqual([]);
    });

    it('times out after the configured wait and fails at once when the client goes', async () => {
      // One short-timeout registry per node, each created before the bridge's hello so that it knows the bridge.
      const registries = allNodes(setup).map(({ server }) => new DialoutRegistry({ hub: server.hub, router: server.router, log: silentLogger(), timeoutMs: 150 }));
      const bridge = await internalClient(['start-dialout']);
      const { server } = nodeOfBridge(bridge);
      const registry = registries[allNodes(setup).findIndex((n) => n.server === server)]!;
      expect(await registry.start(backend(), '555', request, undefined)).toEqual({
        status: 504,
        body: { type: 'dialout', dialout: { error: { code: 'timeout', message: 'Timeout while waiting for dialout to start.' } } },
      });
      const pending = server.dialouts.start(backend(), '555', request, undefined);
      await bridge.client.waitForMessage((m) => m.type === 'internal' && m.id !== undefined);
      await bridge.client.waitForMessage((m) => m.type === 'internal' && m.id !== undefined);
      await bridge.client.bye();
      expect(await pending).toEqual({
        status: 502,
        body: { type: 'dialout', dialout: { error: { code: 'error_notify', message: 'No dialout response received.' } } },
      });
    });

    it('runs through the backend API and stores later call status as transient data', async () => {
      const ann = await userInRoom('ann', '555');
      const bridge = await internalClient(['start-dialout']);
      // A node without a bridge of its own finds none (as upstream); only in a cluster.
      for (const other of allNodes(setup).filter((n) => n !== nodeOfBridge(bridge))) {
        const res = await setup.nextcloud.backendRequest(other.baseUrl, '555', { type: 'dialout', dialout: request });
        expect([res.status, JSON.parse(res.body)]).toEqual([404, { type: 'dialout', dialout: { error: { code: 'no_client_available', message: 'No available client found to trigger dialout.' } } }]);
      }
      const http = setup.nextcloud.backendRequest(nodeOfBridge(bridge).baseUrl, '555', { type: 'dialout', dialout: request });
      const sent = await bridge.client.next('internal');
      bridge.client.send({
        id: sent.id,
        type: 'internal',
        internal: { type: 'dialout', dialout: { type: 'status', roomid: '555', status: { callid: 'call-9', status: 'accepted' } } },
      });
      const res = await http;
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ type: 'dialout', dialout: { callid: 'call-9' } });
      expect(await ann.client.waitForMessage((m) => m.type === 'transient')).toEqual({
        type: 'transient',
        transient: { type: 'set', key: 'callstatus_call-9', value: { callid: 'call-9', status: 'accepted' } },
      });

      const status = (s: Record<string, unknown>) =>
        bridge.client.send({ type: 'internal', internal: { type: 'dialout', dialout: { type: 'status', roomid: '555', status: s } } });
      status({ callid: 'call-9', status: 'cleared', cause: 'hangup' });
      expect((await ann.client.next('transient')).transient).toEqual({
        type: 'set',
        key: 'callstatus_call-9',
        value: { callid: 'call-9', status: 'cleared', cause: 'hangup' },
        oldvalue: { callid: 'call-9', status: 'accepted' },
      });
      // Stored on every node hosting the room, whichever node the bridge is on.
      expect(nodeOf(setup, ann.sessionid).server.rooms.get('nc1', '555')!.transient.get('callstatus_call-9')).toBeDefined();

      // Other dialout types are broadcast to the room without the room id.
      bridge.client.send({ type: 'internal', internal: { type: 'dialout', dialout: { type: 'custom', roomid: '555' } } });
      expect(await ann.client.waitForMessage((m) => m.type === 'dialout')).toEqual({ type: 'dialout', dialout: { type: 'custom' } });
    });
  });
});
