import pino from 'pino';
import { EtcdClient } from '@talk-signaling/cluster';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { silentLogger, type Logger } from '@talk-signaling/runtime';
import { freePort, startEtcd, startNatsServer, TestClient, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { startNodeProcess, type NodeProcess } from './node-process';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(60_000);

type Msg = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const PREFIX = '/signaling/cluster/grpc';
const WAIT = { timeout: 20_000 };
/**
 * The LookupResumeId deadline of the in-process nodes: far beyond every wait of this spec, so a
 * resume that waited for a dead peer instead of skipping it fails the test (nothing is timed).
 */
const LONG_RESUME_DEADLINE_MS = 600_000;

/** Log lines of the two in-process nodes (real pino into an array; `node` says which). */
const lines: { msg?: string; level: string; node: number; target?: string }[] = [];
const log = pino({ level: 'info', formatters: { level: (label) => ({ level: label }) } }, { write: (line: string) => void lines.push(JSON.parse(line)) }) as unknown as Logger;

/**
 * Three signaling nodes sharing a real nats-server, finding each other through etcd (`[grpc]
 * targettype = etcd`); node 2 is its own process so that it can really be killed. One cluster
 * for the whole story (issue 11, item 5): keys added and removed are followed; one room with a
 * member on every node; nats-server killed and restarted; node 2 SIGKILLed; etcd killed and
 * restarted. The session limit of 3 (`[nc1] sessionlimit`) is summed over the nodes: at most
 * three sessions live at any time below.
 */
describe('three nodes with gRPC targets from etcd, one nats-server', () => {
  let etcd: ManagedProcess;
  let nats: ManagedProcess;
  let writer: EtcdClient;
  let nextcloud: FakeNextcloud;
  let inProcess: TestSetup[] = [];
  let two: NodeProcess;
  let ports: number[] = [];
  const clients: TestClient[] = [];

  /** Targets an in-process node has as peers (itself excluded), sorted. */
  const peersOf = (i: number): string[] => inProcess[i]!.server.cluster!.peers!.peers().map((p) => p.target).sort();
  const address = (i: number): string => `127.0.0.1:${ports[i]}`;
  const others = (i: number): string[] => ports.map((_, j) => address(j)).filter((_, j) => j !== i).sort();
  const wsUrl = (i: number): string => (i === 2 ? two.wsUrl : inProcess[i]!.wsUrl);
  const clusterConfig = (i: number): string =>
    ['[etcd]', `endpoints = ${etcd.url}`, '[grpc]', `listen = 127.0.0.1:${ports[i]}`, 'targettype = etcd', `targetprefix = ${PREFIX}`].join('\n');

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNatsServer()]);
    writer = (await EtcdClient.create({ endpoints: [etcd.url] }, silentLogger()))!;
    nextcloud = await startFakeNextcloud({ secret: 'test-backend-secret' });
    ports = await Promise.all([freePort(), freePort(), freePort()]);
    // Every node's key is in etcd before the nodes start (the admin's job, as upstream).
    for (let i = 0; i < 3; i++) await writer.etcd3.put(`${PREFIX}/node-${i}`).value(JSON.stringify({ address: address(i) }));
    const common = { nextcloud, natsUrl: nats.url, backendConfig: 'sessionlimit = 3' };
    [inProcess, two] = await Promise.all([
      Promise.all(
        [0, 1].map((i) =>
          startTestSetup({
            ...common,
            roomEventBatchMs: 5,
            timeouts: { resumeWindowMs: 50 },
            extraConfig: clusterConfig(i),
            serverOptions: {
              log: log.child({ node: i }),
              bus: { reconnectWaitMs: 100, connectBackoff: { initialMs: 100, maxMs: 400 } },
              cluster: { lookupResumeIdTimeoutMs: LONG_RESUME_DEADLINE_MS },
            },
          }),
        ),
      ),
      startNodeProcess({ ...common, extraConfig: clusterConfig(2) }),
    ]);
  });
  afterAll(async () => {
    while (clients.length) clients.pop()!.close();
    await Promise.all([...inProcess.map((n) => n.stop()), two?.stop()]);
    writer?.close();
    await nextcloud?.close();
    await Promise.all([etcd?.stop(), nats?.stop()]);
  });

  async function user(node: number, userid: string): Promise<{ client: TestClient; sessionid: string; resumeid: string }> {
    const client = await TestClient.connect(wsUrl(node));
    clients.push(client);
    const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(userid) });
    if (reply.type !== 'hello') throw new Error(`hello of ${userid} failed: ${JSON.stringify(reply)}`);
    await client.next('welcome');
    return { client, sessionid: reply.hello.sessionid as string, resumeid: reply.hello.resumeid as string };
  }

  async function metric(node: number, name: string): Promise<number> {
    const m = inProcess[node]!.server.registry.getSingleMetric(name);
    return m ? ((await m.get()).values[0]?.value ?? 0) : NaN;
  }

  const toSession = (sessionid: string, data: unknown) => ({ type: 'message', message: { recipient: { type: 'session', sessionid }, data } });
  const toRoom = (data: unknown) => ({ type: 'message', message: { recipient: { type: 'room' }, data } });
  const joined = (id: string) => (m: Msg) => m.type === 'event' && m.event.type === 'join' && m.event.join.some((e: Msg) => e.sessionid === id);
  /** The next chat message (events in between are skipped): a replayed or doubled message would come first. */
  const nextMessage = (c: TestClient): Promise<Msg> => c.waitForMessage((m) => m.type === 'message');
  const leaves = (c: TestClient): Msg[] => c.messages.filter((m: Msg) => m.type === 'event' && m.event.type === 'leave');

  it('each node finds the two others and skips itself (node 2 asked through its serverinfo)', async () => {
    // Connected, too: node 2 started beside the others, whose first attempts to reach it may have
    // been refused (a peer known down is skipped until gRPC has reconnected by itself).
    const connected = (i: number): boolean => inProcess[i]!.server.cluster!.peers!.peers().every((p) => p.connected);
    for (const i of [0, 1]) await waitFor(() => JSON.stringify(peersOf(i)) === JSON.stringify(others(i)) && connected(i), { ...WAIT, name: `peers of node ${i}` });
    await waitFor(
      async () => {
        const info = (await (await fetch(`${two.baseUrl}api/v1/serverinfo`)).json()) as { grpc?: { target: string; connected: boolean }[] };
        return JSON.stringify((info.grpc ?? []).filter((p) => p.connected).map((p) => p.target).sort()) === JSON.stringify(others(2));
      },
      { ...WAIT, name: 'peers of node 2' },
    );
  });

  it('counts sessions of all three nodes against the session limit', async () => {
    const three = await Promise.all(([[0, 'a'], [1, 'b'], [2, 'c']] as const).map(([node, name]) => user(node, name)));
    const fourth = await TestClient.connect(wsUrl(1));
    clients.push(fourth);
    expect(await fourth.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser('d') })).toMatchObject({ type: 'error', error: { code: 'session_limit_exceeded' } });
    // `bye` ends the sessions at once (node 2 keeps a closed one for resuming, as in production).
    for (const u of three) expect((await u.client.bye()).type).toBe('bye');
    while (clients.length) clients.pop()!.close();
    await waitFor(() => inProcess.every((n) => n.server.sessions.size === 0), { timeout: 5_000, name: 'sessions gone' });
  });

  it('follows a removed and a re-added key', async () => {
    await writer.etcd3.delete().key(`${PREFIX}/node-2`);
    await waitFor(() => !peersOf(0).includes(address(2)) && !peersOf(1).includes(address(2)), { ...WAIT, name: 'node 2 removed' });
    expect(peersOf(0)).toEqual([address(1)]);
    await writer.etcd3.put(`${PREFIX}/node-2`).value(JSON.stringify({ address: address(2) }));
    for (const i of [0, 1]) await waitFor(() => JSON.stringify(peersOf(i)) === JSON.stringify(others(i)), { ...WAIT, name: `peers of node ${i} again` });
  });

  // The story below shares these: ann on node 0, bob on node 1, cat on node 2, all in `room`.
  let ann: Awaited<ReturnType<typeof user>>;
  let bob: Awaited<ReturnType<typeof user>>;
  let cat: Awaited<ReturnType<typeof user>>;

  it('one room with a member on every node: all see each other, messages cross every pair of nodes', async () => {
    nextcloud.setRoom('room', {});
    ann = await user(0, 'ann');
    bob = await user(1, 'bob');
    cat = await user(2, 'cat');
    const members = [ann, bob, cat];
    for (const [i, u] of members.entries()) {
      expect((await u.client.joinRoom('room', `nc-${i}`)).type).toBe('room');
      // Everyone who joined before sees the newcomer, and the newcomer sees them.
      for (const earlier of members.slice(0, i + 1)) await waitFor(() => earlier.client.messages.some(joined(u.sessionid)), { ...WAIT, name: `join of member ${i}` });
      for (const earlier of members.slice(0, i)) await waitFor(() => u.client.messages.some(joined(earlier.sessionid)), { ...WAIT, name: `member ${i} sees the others` });
      // The node's subscription to the room is at the NATS server before the next one joins.
      await inProcess[i]?.server.bus.flush();
    }
    ann.client.send(toSession(cat.sessionid, 'a→c'));
    expect((await nextMessage(cat.client)).message.data).toBe('a→c');
    cat.client.send(toSession(bob.sessionid, 'c→b'));
    expect((await nextMessage(bob.client)).message.data).toBe('c→b');
    bob.client.send(toRoom('b→room'));
    expect((await nextMessage(ann.client)).message.data).toBe('b→room');
    expect((await nextMessage(cat.client)).message.data).toBe('b→room');
  });

  it('nats-server killed and restarted: clients stay connected, a log line and a metric say so, delivery resumes by itself, nothing twice', async () => {
    nats.kill();
    await waitFor(async () => (await metric(0, 'signaling_nats_connected')) === 0 && (await metric(1, 'signaling_nats_connected')) === 0, { ...WAIT, name: 'nodes notice' });
    expect(lines.filter((l) => l.level === 'warn' && l.msg?.startsWith('lost the NATS connection')).map((l) => l.node).sort()).toEqual([0, 1]);
    expect(await metric(0, 'signaling_nats_disconnects_total')).toBe(1);
    // Sent during the outage: dropped and counted, never delivered later.
    ann.client.send(toSession(bob.sessionid, 'lost'));
    await waitFor(async () => (await inProcess[0]!.server.registry.getSingleMetricAsString('signaling_nats_messages_dropped_total')).includes('reason="disconnected"'), {
      ...WAIT,
      name: 'the dropped message counted',
    });

    await nats.restart();
    await waitFor(async () => (await metric(0, 'signaling_nats_reconnects_total')) === 1 && (await metric(1, 'signaling_nats_reconnects_total')) === 1, { ...WAIT, name: 'nodes reconnected' });
    expect(lines.filter((l) => l.msg === 'reconnected to NATS, subscriptions renewed').map((l) => l.node).sort()).toEqual([0, 1]);
    await waitFor(() => two.output.includes('reconnected to NATS, subscriptions renewed'), { ...WAIT, name: 'node 2 reconnected' });
    expect([ann, bob, cat].map((u) => u.client.isClosed)).toEqual([false, false, false]);

    // Each marker must be the very next message its recipient gets: nothing from the outage
    // replayed, nothing twice.
    ann.client.send(toSession(bob.sessionid, 'a→b after'));
    expect((await nextMessage(bob.client)).message.data).toBe('a→b after');
    bob.client.send(toSession(cat.sessionid, 'b→c after'));
    expect((await nextMessage(cat.client)).message.data).toBe('b→c after');
    cat.client.send(toRoom('c→room after'));
    expect((await nextMessage(ann.client)).message.data).toBe('c→room after');
    expect((await nextMessage(bob.client)).message.data).toBe('c→room after');
    await Promise.all([ann, bob, cat].map((u) => u.client.expectNoMessage(200)));
  });

  it('node 2 killed: its client starts over on node 0 without waiting for the dead node; the others see the new join and no leave, and keep talking', async () => {
    const mark = lines.length;
    two.kill();
    // The socket just breaks (no close frame, no bye).
    expect((await cat.client.closed(WAIT.timeout)).code).toBe(1006);

    // Back through the load balancer on node 0: the session died with node 2, so the resume
    // fails. Node 0 asks node 1 (not found) and node 2 (connection refused): the answer comes at
    // once, not after the LookupResumeId deadline (set far beyond this wait, see above).
    const again = await TestClient.connect(wsUrl(0));
    clients.push(again);
    await again.next('welcome');
    expect(await again.resume(cat.resumeid)).toMatchObject({ type: 'error', error: { code: 'no_such_session' } });
    // Said once in node 0's log; lookups skip node 2 from now on without a word.
    await waitFor(() => lines.slice(mark).some((l) => l.node === 0 && l.msg?.startsWith('gRPC peer unreachable')), { ...WAIT, name: 'node 0 logs node 2 down' });
    expect(new Set(lines.slice(mark).filter((l) => l.msg?.startsWith('gRPC peer unreachable')).map((l) => l.target))).toEqual(new Set([address(2)]));

    // ... and starts over: a new hello, the same Nextcloud room session joins again.
    const reply = await again.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser('cat') });
    const newId = reply.hello.sessionid as string;
    expect(newId).not.toBe(cat.sessionid);
    expect((await again.joinRoom('room', 'nc-2')).type).toBe('room');
    for (const member of [ann, bob]) {
      const join = await member.client.waitForMessage(joined(newId));
      expect(join.event.join).toEqual([expect.objectContaining({ sessionid: newId, userid: 'cat' })]);
      await waitFor(() => again.messages.some(joined(member.sessionid)), { ...WAIT, name: 'the new session sees the others' });
    }
    // Nobody says the old session left: only the node holding a session announces its leave (as upstream).
    expect([...leaves(ann.client), ...leaves(bob.client)]).toEqual([]);

    // The two surviving nodes keep messaging, and reach the new session.
    ann.client.send(toSession(bob.sessionid, 'a→b'));
    expect((await nextMessage(bob.client)).message.data).toBe('a→b');
    bob.client.send(toRoom('b→room'));
    expect((await nextMessage(ann.client)).message.data).toBe('b→room');
    expect((await nextMessage(again)).message.data).toBe('b→room');

    // Nextcloud's next participants list (without the dead session) is what corrects the view.
    await nextcloud.backendRequest(inProcess[1]!.baseUrl, 'room', {
      type: 'participants',
      participants: { users: [0, 1, 2].map((i) => ({ sessionId: `nc-${i}`, inCall: 0, userId: ['ann', 'bob', 'cat'][i] })) },
    });
    for (const member of [ann, bob]) {
      const update = await member.client.waitForMessage((m) => m.type === 'event' && m.event.target === 'participants');
      expect(update.event.update.users.map((u: Msg) => u.sessionId).sort()).toEqual([ann.sessionid, bob.sessionid, newId].sort());
    }
    expect([...leaves(ann.client), ...leaves(bob.client)]).toEqual([]);
    cat = { client: again, sessionid: newId, resumeid: reply.hello.resumeid as string };
  });

  it('etcd killed and restarted: the last known targets stay, a key change after the restart is picked up', async () => {
    etcd.kill();
    await waitFor(() => inProcess.every((n) => n.server.cluster!.peers!.etcdState === 'syncing'), { ...WAIT, name: 'watches lost' });
    // Nothing changes while etcd is away: the dead node's key is still there, so it stays a (skipped) target.
    expect(peersOf(0)).toEqual(others(0));
    expect(peersOf(1)).toEqual(others(1));
    ann.client.send(toSession(bob.sessionid, 'etcd down'));
    expect((await nextMessage(bob.client)).message.data).toBe('etcd down');

    await etcd.restart();
    await waitFor(() => inProcess.every((n) => n.server.cluster!.peers!.etcdState === 'watching'), { ...WAIT, name: 'watches back' });
    // The admin removes the dead node's key: both nodes drop it.
    await writer.etcd3.delete().key(`${PREFIX}/node-2`);
    await waitFor(() => peersOf(0).length === 1 && peersOf(1).length === 1, { ...WAIT, name: 'node 2 removed after etcd restart' });
    expect(peersOf(0)).toEqual([address(1)]);
    expect(peersOf(1)).toEqual([address(0)]);
    // The remaining peer answers.
    const peer = inProcess[0]!.server.cluster!.peers!.peers()[0]!;
    expect((await peer.getServerId()).serverId).toBe(inProcess[1]!.server.cluster!.serverId);
  });
});
