import { credentials } from '@grpc/grpc-js';
import { ClusterPeer } from '@talk-signaling/cluster';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestCa, freePort, TestClient, waitFor } from '@talk-signaling/testing';
import { loadServerConfig } from '../src/config';
import { SERVER_VERSION } from '../src/version';
import { INTERNAL_SECRET, startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(20_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

/** What other nodes learn about this node's sessions over gRPC (`[grpc] listen`). */
describe('gRPC answers of a node ([grpc] listen)', () => {
  let setup: TestSetup;
  let peer: ClusterPeer;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5, timeouts: { resumeWindowMs: 50 }, extraConfig: '[grpc]\nlisten = 127.0.0.1:0' });
    setup.nextcloud.setRoom('room-g', {});
    peer = new ClusterPeer(`127.0.0.1:${setup.server.cluster!.port}`, credentials.createInsecure());
    // Connected once with a generous deadline (a loaded machine may take longer than the 1 s
    // GetServerId deadline to set the connection up); the calls below keep upstream's deadlines.
    await peer.getServerId({ timeoutMs: 15_000 });
  });
  afterAll(async () => {
    peer?.close();
    await setup?.stop();
  });
  afterEach(async () => {
    while (clients.length) clients.pop()!.close();
    await waitFor(() => setup.server.sessions.size === 0, { timeout: 5_000, name: 'all sessions gone' });
  });

  async function user(userid: string) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
    await client.next('welcome');
    return { client, sessionid: reply.hello.sessionid as string, resumeid: reply.hello.resumeid as string };
  }

  async function internalClient() {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET });
    await client.next('welcome');
    return { client, sessionid: reply.hello.sessionid as string };
  }

  it('answers GetServerId with its id and version', async () => {
    expect(await peer.getServerId()).toEqual({ serverId: setup.server.cluster!.serverId, version: SERVER_VERSION });
  });

  it('LookupResumeId and GetSessionCount see the client sessions', async () => {
    const before = await peer.getSessionCount(setup.nextcloud.backendUrl);
    const ann = await user('ann');
    expect(await peer.lookupResumeId(ann.resumeid)).toBe(ann.sessionid);
    expect(await peer.lookupResumeId(ann.sessionid)).toBeUndefined();
    expect(await peer.lookupResumeId('garbage')).toBeUndefined();
    await user('ben');
    expect(await peer.getSessionCount(setup.nextcloud.backendUrl)).toBe(before + 2);
    expect(await peer.getSessionCount('https://unknown.invalid/')).toBe(0);
    expect(await peer.getSessionCount('not a url')).toBe(0);
  });

  it('LookupSessionId finds a room session; with room_session_reconnected the session is kicked', async () => {
    const ann = await user('ann');
    await ann.client.joinRoom('room-g', 'nc-room-session-ann');
    await ann.client.waitForMessage((m: Msg) => m.type === 'event' && m.event.type === 'join');
    expect(await peer.lookupSessionId('nc-room-session-ann', '')).toBe(ann.sessionid);
    expect(await peer.lookupSessionId('nc-unknown', '')).toBeUndefined();
    // Another reason is not honoured.
    expect(await peer.lookupSessionId('nc-room-session-ann', 'whatever')).toBe(ann.sessionid);
    expect(setup.server.sessions.byPublicId(ann.sessionid)).toBeDefined();
    expect(await peer.lookupSessionId('nc-room-session-ann', 'room_session_reconnected')).toBe(ann.sessionid);
    expect(await ann.client.next('bye')).toEqual({ type: 'bye', bye: { reason: 'room_session_reconnected' } });
    await waitFor(() => setup.server.sessions.byPublicId(ann.sessionid) === undefined, { timeout: 5_000, name: 'session closed' });
    expect(await peer.lookupSessionId('nc-room-session-ann', '')).toBeUndefined();
  });

  it('IsSessionInCall and GetInternalSessions: internal and virtual sessions of a room', async () => {
    const ann = await user('ann');
    await ann.client.joinRoom('room-g', 'nc-ann');
    const owner = await internalClient();
    await owner.client.joinRoom('room-g');
    owner.client.send({ type: 'internal', internal: { type: 'addsession', addsession: { sessionid: 'phone-1', roomid: 'room-g', user: { type: 'phone' }, incall: 1 } } });
    const vid = await waitFor(() => [...setup.server.sessions.all()].find((s) => s.clientType === 'virtual')?.publicId, { timeout: 5_000, name: 'virtual session' });

    const url = setup.nextcloud.backendUrl;
    expect(await peer.isSessionInCall(ann.sessionid, 'room-g', url)).toBe(false);
    expect(await peer.isSessionInCall(owner.sessionid, 'room-g', url)).toBe(true);
    expect(await peer.isSessionInCall(owner.sessionid, 'other-room', url)).toBe(false);
    expect(await peer.isSessionInCall(owner.sessionid, 'room-g', 'https://elsewhere.invalid/')).toBe(false);
    expect(await peer.isSessionInCall('unknown', 'room-g', url)).toBe(false);

    const found = await peer.getInternalSessions('room-g', [url]);
    expect(found.internal).toEqual([{ sessionId: owner.sessionid, inCall: expect.any(Number), features: expect.any(Array) }]);
    expect(found.virtual).toEqual([{ sessionId: vid, inCall: 1 }]);
    expect(await peer.getInternalSessions('room-none', [url])).toEqual({ internal: [], virtual: [] });
    expect(await peer.getInternalSessions('room-g', ['https://unknown.invalid/'])).toEqual({ internal: [], virtual: [] });
  });

  it('GetTransientData: the room data with expiry', async () => {
    const ann = await user('ann');
    await ann.client.joinRoom('room-g', 'nc-ann-t');
    await ann.client.waitForMessage((m: Msg) => m.type === 'event' && m.event.type === 'join');
    ann.client.send({ type: 'transient', transient: { type: 'set', key: 'forever', value: { a: 1 } } });
    ann.client.send({ type: 'transient', transient: { type: 'set', key: 'brief', value: 'x', ttl: 60_000_000_000 } });
    await ann.client.waitForMessage((m: Msg) => m.type === 'transient' && m.transient.key === 'brief');
    const data = await peer.getTransientData('room-g', [setup.nextcloud.backendUrl]);
    expect(data['forever']).toEqual({ value: { a: 1 } });
    expect(data['brief']?.value).toBe('x');
    expect(data['brief']?.expires).toBeGreaterThan(Date.now());
  });

  it('refuses ProxySession for a session it does not have, and answers GetPublisherId with nothing', async () => {
    const relay = peer.proxySession({ sessionId: 'x', remoteAddr: '127.0.0.1', country: '', userAgent: 'test' });
    const err = await new Promise<{ code: string } | undefined>((resolve) => relay.once('close', resolve));
    expect(err?.code).toBe('not_found');
    expect(await peer.getPublisherId('x', 'video')).toBeUndefined();
  });

  it('counts calls in /metrics and reloads gRPC targets on SIGHUP', async () => {
    const metrics = await (await fetch(`${setup.baseUrl}metrics`)).text();
    expect(metrics).toMatch(/signaling_grpc_server_calls_total\{method="GetServerId"\} [1-9]/);
    const peers = setup.server.cluster!.peers!;
    expect(peers.targets).toEqual([]);
    const { config } = loadServerConfig(
      [
        '[sessions]',
        'hashkey = test-hash-key-with-32-characters',
        '[backend]',
        'backends = nc1',
        '[nc1]',
        `url = ${setup.nextcloud.url}`,
        `secret = ${setup.nextcloud.secret}`,
        '[grpc]',
        `listen = 127.0.0.1:0`,
        `targets = 127.0.0.1:${setup.server.cluster!.port}`,
      ].join('\n'),
      {},
    );
    setup.server.reload(config);
    expect(peers.targets).toEqual([`127.0.0.1:${setup.server.cluster!.port}`]);
    await peers.selfChecked();
    // Its own address: recognised as itself and skipped.
    expect(peers.peers()).toEqual([]);
  });
});

/** Two nodes that know each other over gRPC (no NATS needed for these lookups). */
describe('two nodes over gRPC: cluster-wide session limit and room session uniqueness', () => {
  let nextcloud: FakeNextcloud;
  let targetB = '';
  let deadTarget = '';
  let a: TestSetup;
  let b: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    nextcloud = await startFakeNextcloud({ secret: 'test-backend-secret' });
    nextcloud.setRoom('room-c', {});
    const [portA, portB, deadPort] = await Promise.all([freePort(), freePort(), freePort()]);
    targetB = `127.0.0.1:${portB}`;
    deadTarget = `127.0.0.1:${deadPort}`;
    const grpc = (own: number, others: number[]) => `[grpc]\nlisten = 127.0.0.1:${own}\ntargets = ${others.map((p) => `127.0.0.1:${p}`).join(', ')}`;
    const common = { nextcloud, roomEventBatchMs: 5, timeouts: { resumeWindowMs: 50 }, backendConfig: 'sessionlimit = 2' };
    // Node a also lists an unreachable node and itself: it skips itself, and the dead one (refused) answers nothing at once.
    [a, b] = await Promise.all([
      startTestSetup({ ...common, extraConfig: grpc(portA, [portA, portB, deadPort]) }),
      startTestSetup({ ...common, extraConfig: grpc(portB, [portA]) }),
    ]);
    // Self checks done: a has dropped itself, both know each other's version (the dead one never answers).
    await waitFor(
      () => {
        const fromA = a.server.cluster!.peers!.peers();
        const fromB = b.server.cluster!.peers!.peers();
        return fromA.length === 2 && fromA.some((p) => p.target === `127.0.0.1:${portB}` && p.version !== '') && fromB.length === 1 && fromB[0]!.version !== '';
      },
      { timeout: 10_000, name: 'self checks' },
    );
  });
  afterAll(async () => {
    while (clients.length) clients.pop()!.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await nextcloud?.close();
  });
  afterEach(async () => {
    while (clients.length) clients.pop()!.close();
    await waitFor(() => a.server.sessions.size === 0 && b.server.sessions.size === 0, { timeout: 5_000, name: 'all sessions gone' });
  });

  async function hello(setup: TestSetup, userid: string): Promise<{ client: TestClient; reply: Msg }> {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(userid) });
    return { client, reply };
  }

  it('each node sees the other (itself skipped, the unreachable one kept as a peer), also in the server info', async () => {
    expect(a.server.cluster!.peers!.peers().map((p) => p.target)).toHaveLength(2);
    expect(b.server.cluster!.peers!.peers()).toHaveLength(1);
    const info = (await (await fetch(`${a.baseUrl}api/v1/serverinfo`)).json()) as { grpc: unknown[] };
    expect(info.grpc).toEqual(
      expect.arrayContaining([
        { target: targetB, connected: true, version: SERVER_VERSION },
        { target: deadTarget, connected: false },
      ]),
    );
    expect(info.grpc).toHaveLength(2);
  });

  it('counts the sessions of both nodes against [backend] sessionlimit', async () => {
    expect((await hello(a, 'u1')).reply.type).toBe('hello');
    expect((await hello(b, 'u2')).reply.type).toBe('hello');
    // Two sessions in the cluster: a third is refused on either node.
    const third = await hello(a, 'u3');
    expect(third.reply).toMatchObject({ type: 'error', error: { code: 'session_limit_exceeded' } });
    const fourth = await hello(b, 'u4');
    expect(fourth.reply).toMatchObject({ type: 'error', error: { code: 'session_limit_exceeded' } });
    const metrics = await (await fetch(`${b.baseUrl}metrics`)).text();
    expect(metrics).toMatch(/signaling_backend_session_limit_exceeded_total\{backend="nc1"\} 1/);
    expect(metrics).toMatch(/signaling_grpc_client_calls_total\{method="GetSessionCount"\} [1-9]/);
  });

  it('a Nextcloud room session joining on one node closes the same room session on the other', async () => {
    const first = await hello(a, 'x1');
    await first.client.next('welcome');
    await first.client.joinRoom('room-c', 'nc-shared');
    await first.client.waitForMessage((m: Msg) => m.type === 'event' && m.event.type === 'join');
    const second = await hello(b, 'x1');
    await second.client.next('welcome');
    const joined = await second.client.joinRoom('room-c', 'nc-shared');
    expect(joined).toMatchObject({ type: 'room', room: { roomid: 'room-c' } });
    expect(await first.client.next('bye')).toEqual({ type: 'bye', bye: { reason: 'room_session_reconnected' } });
    await waitFor(() => a.server.sessions.size === 0, { timeout: 5_000, name: 'first session closed on node a' });
    // Nextcloud hears no leave for the replaced session.
    expect(nextcloud.requests.filter((r: Msg) => r.type === 'room' && r.body.room.action === 'leave' && r.body.room.sessionid === 'nc-shared')).toEqual([]);
  });
});

/** Resume on another node (`LookupResumeId` + `ProxySession`), as upstream's RemoteSession. */
describe('two nodes over gRPC: resume on the other node', () => {
  let nextcloud: FakeNextcloud;
  let a: TestSetup;
  let b: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    nextcloud = await startFakeNextcloud({ secret: 'test-backend-secret' });
    const [portA, portB] = await Promise.all([freePort(), freePort()]);
    const grpc = (own: number, other: number) => `[grpc]\nlisten = 127.0.0.1:${own}\ntargets = 127.0.0.1:${other}`;
    const common = { nextcloud, timeouts: { resumeWindowMs: 10_000 } };
    [a, b] = await Promise.all([startTestSetup({ ...common, extraConfig: grpc(portA, portB) }), startTestSetup({ ...common, extraConfig: grpc(portB, portA) })]);
    await Promise.all([a.server.cluster!.peers!.selfChecked(), b.server.cluster!.peers!.selfChecked()]);
  });
  afterAll(async () => {
    while (clients.length) clients.pop()!.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await nextcloud?.close();
  });

  async function connect(setup: TestSetup): Promise<TestClient> {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    await client.next('welcome');
    return client;
  }

  it('relays a resumed session: hello, messages both ways, disconnect and bye', async () => {
    const first = await connect(a);
    const hello = await first.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser('roamer') });
    const { sessionid, resumeid } = hello.hello as { sessionid: string; resumeid: string };
    const other = await connect(a);
    const otherHello = await other.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser('stayer') });
    first.close();
    await waitFor(() => a.server.sessions.byPublicId(sessionid)?.connection === undefined, { timeout: 5_000, name: 'session detached on a' });

    // The client comes back on node b, which does not know the session.
    const roamer = await connect(b);
    const resumed = await roamer.resume(resumeid);
    expect(resumed).toMatchObject({ type: 'hello', hello: { sessionid, resumeid, userid: 'roamer' } });
    expect(b.server.sessions.size).toBe(0);
    expect(a.server.sessions.byPublicId(sessionid)?.connection).toBeDefined();

    other.send({ type: 'message', message: { recipient: { type: 'session', sessionid }, data: { to: 'roamer' } } });
    expect((await roamer.next('message')).message.data).toEqual({ to: 'roamer' });
    roamer.send({ type: 'message', message: { recipient: { type: 'session', sessionid: otherHello.hello.sessionid }, data: { to: 'stayer' } } });
    expect((await other.next('message')).message).toMatchObject({ sender: { type: 'session', sessionid }, data: { to: 'stayer' } });

    // Leaving node b detaches the session on a again; it can be resumed there directly.
    roamer.close();
    await waitFor(() => a.server.sessions.byPublicId(sessionid)?.connection === undefined, { timeout: 5_000, name: 'detached again' });
    const back = await connect(a);
    expect(await back.resume(resumeid)).toMatchObject({ type: 'hello', hello: { sessionid } });
    back.close();
    await waitFor(() => a.server.sessions.byPublicId(sessionid)?.connection === undefined, { timeout: 5_000, name: 'detached a third time' });

    // Through b again, then bye ends the session on a and closes the socket on b.
    const last = await connect(b);
    await last.resume(resumeid);
    last.send({ id: 'bye-1', type: 'bye', bye: {} });
    expect(await last.next('bye')).toMatchObject({ type: 'bye', id: 'bye-1' });
    await last.closed();
    await waitFor(() => a.server.sessions.byPublicId(sessionid) === undefined, { timeout: 5_000, name: 'session ended on a' });
    other.close();
  });

  it('a room new on a node gets the transient data the other node holds (GetTransientData)', async () => {
    nextcloud.setRoom('room-t', {});
    const ann = await connect(a);
    await ann.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser('ann') });
    await ann.joinRoom('room-t', 'nc-ann');
    ann.send({ type: 'transient', transient: { type: 'set', key: 'plain', value: { x: 1 } } });
    ann.send({ type: 'transient', transient: { type: 'set', key: 'brief', value: 'y', ttl: 60_000_000_000 } });
    await ann.waitForMessage((m: Msg) => m.type === 'transient' && m.transient.key === 'brief');

    const ben = await connect(b);
    await ben.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser('ben') });
    await ben.joinRoom('room-t', 'nc-ben');
    expect(await ben.waitForMessage((m: Msg) => m.type === 'transient')).toEqual({
      type: 'transient',
      transient: { type: 'initial', data: { brief: 'y', plain: { x: 1 } } },
    });
    const room = b.server.rooms.get('nc1', 'room-t')!;
    expect(room.transient.entries()['brief']?.expires).toBeGreaterThan(Date.now());
    ann.send({ type: 'bye', bye: {} });
    ben.send({ type: 'bye', bye: {} });
  });

  it('answers no_such_session for ids no node knows, and for garbage without asking', async () => {
    const lost = await connect(a);
    const hello = await lost.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser('gone') });
    lost.send({ type: 'bye', bye: {} });
    await waitFor(() => a.server.sessions.byPublicId(hello.hello.sessionid) === undefined, { timeout: 5_000, name: 'session gone' });
    const client = await connect(b);
    expect(await client.resume(hello.hello.resumeid)).toMatchObject({ type: 'error', error: { code: 'no_such_session' } });
    const calls = await (await fetch(`${b.baseUrl}metrics`)).text();
    const lookups = Number(/signaling_grpc_client_calls_total\{method="LookupResumeId"\} (\d+)/.exec(calls)?.[1] ?? 0);
    expect(await client.resume('not-a-resume-id')).toMatchObject({ type: 'error', error: { code: 'no_such_session' } });
    const after = await (await fetch(`${b.baseUrl}metrics`)).text();
    expect(Number(/signaling_grpc_client_calls_total\{method="LookupResumeId"\} (\d+)/.exec(after)?.[1] ?? 0)).toBe(lookups);
  });
});

/** `[grpc]` TLS files through the real config loader: two nodes with mutual TLS, a third without a client certificate. */
describe('two nodes over gRPC with mutual TLS', () => {
  let nextcloud: FakeNextcloud;
  let dir: string;
  const setups: TestSetup[] = [];

  beforeAll(async () => {
    nextcloud = await startFakeNextcloud({ secret: 'test-backend-secret' });
    dir = await mkdtemp(path.join(tmpdir(), 'talk-grpc-mtls-'));
  });
  afterAll(async () => {
    await Promise.all(setups.map((s) => s.stop()));
    await nextcloud?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('nodes with certificates from the cluster CA talk; a node without a client certificate is refused', async () => {
    const ca = createTestCa('cluster CA');
    const node = ca.issue({ commonName: 'signaling-node' });
    const files = { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'node.pem'), key: path.join(dir, 'node.key') };
    await writeFile(files.ca, ca.certPem);
    await writeFile(files.cert, node.certPem);
    await writeFile(files.key, node.keyPem);
    const tls = [
      `servercertificate = ${files.cert}`,
      `serverkey = ${files.key}`,
      `clientca = ${files.ca}`,
      `serverca = ${files.ca}`,
      `clientcertificate = ${files.cert}`,
      `clientkey = ${files.key}`,
    ];
    const [portA, portB, portC] = await Promise.all([freePort(), freePort(), freePort()]);
    const grpc = (own: number, others: number[], withTls: string[]) =>
      ['[grpc]', `listen = 127.0.0.1:${own}`, `targets = ${others.map((p) => `127.0.0.1:${p}`).join(', ')}`, ...withTls].join('\n');
    const [a, b, c] = await Promise.all([
      startTestSetup({ nextcloud, extraConfig: grpc(portA, [portB], tls) }),
      startTestSetup({ nextcloud, extraConfig: grpc(portB, [portA], tls) }),
      // Trusts the CA but has no client certificate: node a must refuse it.
      startTestSetup({ nextcloud, extraConfig: grpc(portC, [portA], [`serverca = ${files.ca}`]) }),
    ]);
    setups.push(a!, b!, c!);
    await waitFor(() => b!.server.cluster!.peers!.peers()[0]?.version !== '', { timeout: 10_000, name: 'b checked a over mTLS' });
    const fromB = b!.server.cluster!.peers!.peers()[0]!;
    expect(await fromB.getServerId()).toEqual({ serverId: a!.server.cluster!.serverId, version: SERVER_VERSION });
    const fromC = c!.server.cluster!.peers!.peers()[0]!;
    await expect(fromC.getServerId({ timeoutMs: 1_000 })).rejects.toMatchObject({ code: expect.stringMatching(/unavailable|deadline_exceeded/) });
    expect(fromC.version).toBe('');
  });
});
