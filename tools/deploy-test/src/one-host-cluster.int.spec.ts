// Several nodes on one multi-core host, as docs/deployment.md section 10a describes it: one
// nats-server, the built server started twice (each its own [http] and [grpc] port, the other as
// gRPC target, everything else the same), and the shipped nginx site with one upstream line per
// node in front. Clients connecting through nginx land on both nodes and behave as on one server.
import { freePort, startNatsServer, TestClient, waitFor, createTestCa, type ManagedProcess } from '@talk-signaling/testing';
import { checksum, newRandom, startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { startSignalingProcess, type HostProcess } from './processes';
import { httpsRequest, startReverseProxy, type RunningProxy } from './reverse-proxies';

let ca: string;
let nextcloud: FakeNextcloud;
let nats: ManagedProcess;
const nodes: HostProcess[] = [];
let nginx: RunningProxy;
const clients: TestClient[] = [];

/** The node-specific part of server.conf: own gRPC listener, the other nodes as targets. */
function grpcSection(own: number, all: number[]): string {
  const others = all.filter((port) => port !== own).map((port) => `127.0.0.1:${port}`);
  return ['[grpc]', `listen = 127.0.0.1:${own}`, `targets = ${others.join(', ')}`].join('\n');
}

async function sessionsOn(node: HostProcess): Promise<number> {
  const res = await fetch(`${node.baseUrl}api/v1/stats`);
  return ((await res.json()) as { sessions: number }).sessions;
}

beforeAll(async () => {
  const testCa = createTestCa();
  ca = testCa.certPem;
  const leaf = testCa.issue({ commonName: 'signaling.test', usage: ['server'] });
  nextcloud = await startFakeNextcloud({ secret: 'deploy-test-backend-secret' });
  nats = await startNatsServer();
  const grpcPorts = [await freePort(), await freePort()];
  for (const port of grpcPorts) {
    nodes.push(await startSignalingProcess({ url: nextcloud.url, secret: nextcloud.secret }, grpcSection(port, grpcPorts), nats.url));
  }
  for (const node of nodes) {
    await waitFor(async () => /^signaling_nats_connected 1$/m.test(await (await fetch(`${node.baseUrl}metrics`)).text()), {
      timeout: 20_000,
      name: `${node.baseUrl} connected to NATS`,
    });
  }
  nginx = await startReverseProxy('nginx', {
    upstreamPort: nodes[0]!.port,
    moreUpstreamPorts: [nodes[1]!.port],
    certPem: leaf.certPem + testCa.certPem,
    keyPem: leaf.keyPem,
    ca,
  });
}, 90_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await nginx?.process.stop();
  for (const node of nodes) await node.stop();
  await nats?.stop();
  await nextcloud?.close();
}, 30_000);

/** A user connected through nginx; `node` is the index of the node that holds the session. */
interface User {
  client: TestClient;
  userid: string;
  sessionid: string;
  resumeid: string;
  node: number;
}

async function connect(): Promise<TestClient> {
  const client = await TestClient.connect(`${nginx.url.replace('https:', 'wss:')}spreed`, { ca });
  clients.push(client);
  await client.next('welcome');
  return client;
}

async function user(userid: string): Promise<User> {
  const before = await Promise.all(nodes.map(sessionsOn));
  const client = await connect();
  const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(userid) });
  expect(reply.type).toBe('hello');
  const after = await Promise.all(nodes.map(sessionsOn));
  const node = after.findIndex((count, i) => count === before[i]! + 1);
  expect(node).toBeGreaterThanOrEqual(0);
  return { client, userid, sessionid: reply.hello.sessionid as string, resumeid: reply.hello.resumeid as string, node };
}

/** Users through nginx until there is one on each node (nginx takes the nodes in turn). */
async function onePerNode(prefix: string): Promise<User[]> {
  const found: Array<User | undefined> = [];
  for (let i = 0; i < 6 && found.filter(Boolean).length < nodes.length; i++) {
    const u = await user(`${prefix}${i}`);
    found[u.node] ??= u;
  }
  expect(found.map((u) => u?.node)).toEqual([0, 1]);
  return found as User[];
}

describe('two nodes on one host behind nginx, one nats-server, gRPC between them', () => {
  it('spreads clients over both nodes; a client on one messages a client on the other', async () => {
    const [alice, bob] = await onePerNode('user');
    // Bob's subscription reaches nats-server a moment after his hello: resend until it has.
    const received = await waitFor(
      async () => {
        alice!.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: bob!.sessionid }, data: { hi: 'bob' } } });
        return bob!.client.waitForMessage((m) => m.type === 'message', 500).catch(() => undefined);
      },
      { timeout: 20_000, name: 'message from the client on node 0 to the client on node 1' },
    );
    // Between nodes the message carries its recipient, as upstream's does.
    expect(received.message).toEqual({
      sender: { type: 'session', sessionid: alice!.sessionid, userid: alice!.userid },
      recipient: { type: 'session', sessionid: bob!.sessionid },
      data: { hi: 'bob' },
    });
  });

  it('shows joins across the nodes; a room message Nextcloud posts through nginx reaches members on both', async () => {
    nextcloud.setRoom('one-host-room', {});
    const [dan, eve] = await onePerNode('member');
    const sawJoin = (sessionid: string) => (m: { type: string; event?: { join?: Array<{ sessionid: string }> } }) =>
      m.type === 'event' && (m.event?.join ?? []).some((e) => e.sessionid === sessionid);
    expect((await dan!.client.joinRoom('one-host-room', 'nc-dan')).type).toBe('room');
    await dan!.client.waitForMessage(sawJoin(dan!.sessionid));
    expect((await eve!.client.joinRoom('one-host-room', 'nc-eve')).type).toBe('room');
    await eve!.client.waitForMessage(sawJoin(dan!.sessionid));
    await dan!.client.waitForMessage(sawJoin(eve!.sessionid));

    // Nextcloud knows one signaling URL (nginx); each request may land on either node.
    for (const round of [1, 2]) {
      const body = JSON.stringify({ type: 'message', message: { data: { round } } });
      const random = newRandom();
      const posted = await httpsRequest(`${nginx.url}api/v1/room/one-host-room`, {
        method: 'POST',
        body,
        ca,
        headers: {
          'Content-Type': 'application/json',
          'OCS-APIRequest': 'true',
          'Spreed-Signaling-Random': random,
          'Spreed-Signaling-Checksum': checksum(random, body, nextcloud.secret),
          'Spreed-Signaling-Backend': nextcloud.url,
        },
      });
      expect(posted.status).toBe(200);
      const expected = { type: 'event', event: { target: 'room', type: 'message', message: { roomid: 'one-host-room', data: { round } } } };
      const isIt = (m: { type: string; event?: { type?: string } }) => m.type === 'event' && m.event?.type === 'message';
      expect(await dan!.client.waitForMessage(isIt)).toEqual(expected);
      expect(await eve!.client.waitForMessage(isIt)).toEqual(expected);
    }
  });

  it('resumes a session through nginx on whichever node the new connection lands', async () => {
    const [carol, dave] = await onePerNode('resumer');
    let resumeid = carol!.resumeid;
    // nginx takes the nodes in turn: of two reconnections in a row, one lands on the node that
    // holds carol's session and one on the other (relayed there through gRPC, LookupResumeId).
    for (const round of [1, 2]) {
      carol!.client.close();
      const again = await connect();
      const reply = await again.resume(resumeid);
      expect(reply).toMatchObject({ type: 'hello', hello: { sessionid: carol!.sessionid, resumeid } });
      carol!.client = again;
      resumeid = reply.hello.resumeid as string;
      dave!.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: carol!.sessionid }, data: { round } } });
      expect((await again.next('message')).message).toEqual({
        sender: { type: 'session', sessionid: dave!.sessionid, userid: dave!.userid },
        recipient: { type: 'session', sessionid: carol!.sessionid },
        data: { round },
      });
    }
  });
});
