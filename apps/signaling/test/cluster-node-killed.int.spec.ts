import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { freePort, startNatsServer, TestClient, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { INTERNAL_SECRET, startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(30_000);

const root = path.resolve(__dirname, '../../..');

type Msg = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A node of a two-node cluster (real nats-server, gRPC between the nodes) dies without a word:
 * node two is the built server in a child process, SIGKILLed. What its clients and the members
 * on the surviving node see is pinned down here (README "Several nodes", docs/deployment.md).
 */
describe('a cluster node killed', () => {
  let nats: ManagedProcess;
  let nextcloud: FakeNextcloud;
  let one: TestSetup;
  let two: ChildProcess | undefined;
  let twoOutput = '';
  let twoWsUrl: string;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nextcloud = await startFakeNextcloud({ secret: 'test-backend-secret' });
    const [grpcOne, grpcTwo, httpTwo] = await Promise.all([freePort(), freePort(), freePort()]);
    one = await startTestSetup({
      nextcloud,
      natsUrl: nats.url,
      roomEventBatchMs: 5,
      extraConfig: ['[grpc]', `listen = 127.0.0.1:${grpcOne}`, `targets = 127.0.0.1:${grpcTwo}`].join('\n'),
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'talk-node-killed-'));
    const file = path.join(dir, 'two.conf');
    writeFileSync(
      file,
      [
        '[http]',
        `listen = 127.0.0.1:${httpTwo}`,
        '[sessions]',
        'hashkey = test-hash-key-with-32-characters',
        'blockkey = 0123456789abcdef',
        '[clients]',
        `internalsecret = ${INTERNAL_SECRET}`,
        '[nats]',
        `url = ${nats.url}`,
        '[backend]',
        'backends = nc1',
        '[nc1]',
        `url = ${nextcloud.url}`,
        `secret = ${nextcloud.secret}`,
        '[grpc]',
        `listen = 127.0.0.1:${grpcTwo}`,
        `targets = 127.0.0.1:${grpcOne}`,
      ].join('\n'),
    );
    two = spawn(process.execPath, [path.join(root, 'dist/apps/signaling/main.js'), '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    two.stdout!.on('data', (d: Buffer) => (twoOutput += d.toString()));
    two.stderr!.on('data', (d: Buffer) => (twoOutput += d.toString()));
    await waitFor(() => twoOutput.includes('signaling server started'), { timeout: 10_000, name: 'node two started' });
    twoWsUrl = `ws://127.0.0.1:${httpTwo}/spreed`;
  });
  afterAll(async () => {
    while (clients.length) clients.pop()!.close();
    if (two?.exitCode === null) two.kill('SIGKILL');
    await one?.stop();
    await nextcloud?.close();
    await nats?.stop();
  });

  async function user(wsUrl: string, userid: string) {
    const client = await TestClient.connect(wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(userid) });
    await client.next('welcome');
    return { client, sessionid: reply.hello.sessionid as string, resumeid: reply.hello.resumeid as string };
  }

  const joined = (id: string) => (m: Msg) => m.type === 'event' && m.event.type === 'join' && m.event.join.some((e: Msg) => e.sessionid === id);

  it('its clients start over on the surviving node; members there get no leave for the dead sessions, only the new join', async () => {
    nextcloud.setRoom('room', {});
    const ann = await user(one.wsUrl, 'ann');
    expect((await ann.client.joinRoom('room', 'nc-ann')).type).toBe('room');
    await ann.client.waitForMessage(joined(ann.sessionid));
    await one.server.bus.flush();
    const bob = await user(twoWsUrl, 'bob');
    expect((await bob.client.joinRoom('room', 'nc-bob')).type).toBe('room');
    await ann.client.waitForMessage(joined(bob.sessionid));
    await bob.client.waitForMessage(joined(ann.sessionid));

    two!.kill('SIGKILL');
    // The socket just breaks (no close frame, no bye).
    expect((await bob.client.closed()).code).toBe(1006);

    // The client comes back through the load balancer to node one: its session died with node
    // two, so the resume fails (node one asks its peers, node two does not answer)...
    const again = await TestClient.connect(one.wsUrl);
    clients.push(again);
    await again.next('welcome');
    // (Our gRPC calls wait for the peer to be ready: a dead target costs the 5 s LookupResumeId deadline.)
    again.send({ id: 'r1', type: 'hello', hello: { version: '1.0', resumeid: bob.resumeid } });
    expect(await again.waitForMessage((m) => m.id === 'r1', 10_000)).toMatchObject({ type: 'error', error: { code: 'no_such_session' } });
    // ... and it starts over: a new hello and the same Nextcloud room session joins again.
    const reply = await again.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser('bob') });
    const newId = reply.hello.sessionid as string;
    expect(newId).not.toBe(bob.sessionid);
    expect((await again.joinRoom('room', 'nc-bob')).type).toBe('room');
    const join = await ann.client.waitForMessage(joined(newId));
    expect(join.event.join).toEqual([expect.objectContaining({ sessionid: newId, userid: 'bob' })]);
    expect(await again.waitForMessage(joined(ann.sessionid))).toBeDefined();

    // Nothing on node one ever says the old session left: NATS carries no presence, and only the
    // node holding a session announces its leave (as upstream). Ann has seen no leave up to here.
    expect(ann.client.messages.filter((m: Msg) => m.type === 'event' && m.event.type === 'leave')).toEqual([]);

    // Nextcloud's next participants list (without the dead session) is what corrects the view.
    await nextcloud.backendRequest(one.baseUrl, 'room', {
      type: 'participants',
      participants: { users: [{ sessionId: 'nc-ann', inCall: 0, userId: 'ann' }, { sessionId: 'nc-bob', inCall: 0, userId: 'bob' }] },
    });
    const update = await ann.client.waitForMessage((m) => m.type === 'event' && m.event.target === 'participants');
    expect(update.event.update.users.map((u: Msg) => u.sessionId)).toEqual([ann.sessionid, newId]);
    expect(ann.client.messages.filter((m: Msg) => m.type === 'event' && m.event.type === 'leave')).toEqual([]);
  });
});
