// Several nodes on one multi-core host, as docs/deployment.md section 10a describes it: one
// nats-server, the built server started twice (each its own [http] and [grpc] port, the other as
// gRPC target, everything else the same), and the shipped nginx site with one upstream line per
// node in front. Clients connecting through nginx land on both nodes and behave as on one server.
import { freePort, startNatsServer, TestClient, waitFor, createTestCa, type ManagedProcess } from '@talk-signaling/testing';
import { checksum, newRandom, startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { expectMessageAcross, expectRoomMessage, helloUser, joinBoth, type DeployUser } from './cluster-checks';
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
interface User extends DeployUser {
  /** Index of the node that holds the session. */
  node: number;
}

const nginxWsUrl = (): string => `${nginx.url.replace('https:', 'wss:')}spreed`;

/** A user connected through nginx, with the node it landed on. */
async function user(userid: string): Promise<User> {
  const before = await Promise.all(nodes.map(sessionsOn));
  const found = await helloUser(nextcloud, nginxWsUrl(), userid, clients, { ca });
  const after = await Promise.all(nodes.map(sessionsOn));
  const node = after.findIndex((count, i) => count === before[i]! + 1);
  expect(node).toBeGreaterThanOrEqual(0);
  return { ...found, node };
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
    await expectMessageAcross(alice!, bob!, { hi: 'bob' });
  });

  it('shows joins across the nodes; a room message Nextcloud posts through nginx reaches members on both', async () => {
    const [dan, eve] = await onePerNode('member');
    await joinBoth(nextcloud, 'one-host-room', dan!, eve!);
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
      await expectRoomMessage([dan!, eve!], 'one-host-room', { round });
    }
  });

  it('resumes a session through nginx on whichever node the new connection lands', async () => {
    const [carol, dave] = await onePerNode('resumer');
    let resumeid = carol!.resumeid;
    // nginx takes the nodes in turn: of two reconnections in a row, one lands on the node that
    // holds carol's session and one on the other (relayed there through gRPC, LookupResumeId).
    for (const round of [1, 2]) {
      carol!.client.close();
      const again = await TestClient.connect(nginxWsUrl(), { ca });
      clients.push(again);
      await again.next('welcome');
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
