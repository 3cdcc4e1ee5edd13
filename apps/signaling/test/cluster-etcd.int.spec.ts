import { EtcdClient } from '@talk-signaling/cluster';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { silentLogger } from '@talk-signaling/runtime';
import { freePort, startEtcd, TestClient, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(60_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

const PREFIX = '/signaling/cluster/grpc';

/**
 * Three signaling nodes finding each other through etcd (`[grpc] targettype = etcd`): keys added
 * and removed are followed, etcd going away keeps the last peers, and the cluster-wide session
 * limit works through the peers found this way.
 */
describe('three nodes with gRPC targets from etcd', () => {
  let etcd: ManagedProcess;
  let writer: EtcdClient;
  let nextcloud: FakeNextcloud;
  let nodes: TestSetup[] = [];
  let ports: number[] = [];
  const clients: TestClient[] = [];

  /** Targets each node has as peers (itself excluded), sorted. */
  const peersOf = (node: TestSetup): string[] => node.server.cluster!.peers!.peers().map((p) => p.target).sort();
  const address = (i: number): string => `127.0.0.1:${ports[i]}`;
  const others = (i: number): string[] => ports.map((_, j) => address(j)).filter((_, j) => j !== i).sort();

  beforeAll(async () => {
    etcd = await startEtcd();
    writer = (await EtcdClient.create({ endpoints: [etcd.url] }, silentLogger()))!;
    nextcloud = await startFakeNextcloud({ secret: 'test-backend-secret' });
    ports = await Promise.all([freePort(), freePort(), freePort()]);
    // Every node's key is in etcd before the nodes start (the admin's job, as upstream).
    for (let i = 0; i < 3; i++) await writer.etcd3.put(`${PREFIX}/node-${i}`).value(JSON.stringify({ address: address(i) }));
    nodes = await Promise.all(
      ports.map((port) =>
        startTestSetup({
          nextcloud,
          timeouts: { resumeWindowMs: 50 },
          backendConfig: 'sessionlimit = 3',
          extraConfig: ['[etcd]', `endpoints = ${etcd.url}`, '[grpc]', `listen = 127.0.0.1:${port}`, 'targettype = etcd', `targetprefix = ${PREFIX}`].join('\n'),
        }),
      ),
    );
  });
  afterAll(async () => {
    while (clients.length) clients.pop()!.close();
    await Promise.all(nodes.map((n) => n.stop()));
    writer?.close();
    await nextcloud?.close();
    await etcd?.stop();
  });

  it('each node finds the two others and skips itself', async () => {
    for (let i = 0; i < 3; i++) {
      await waitFor(() => JSON.stringify(peersOf(nodes[i]!)) === JSON.stringify(others(i)), { timeout: 15_000, name: `peers of node ${i}` });
    }
  });

  it('counts sessions of all three nodes against the session limit', async () => {
    const hello = async (node: TestSetup, user: string): Promise<Msg> => {
      const client = await TestClient.connect(node.wsUrl);
      clients.push(client);
      return client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(user) });
    };
    expect((await hello(nodes[0]!, 'a')).type).toBe('hello');
    expect((await hello(nodes[1]!, 'b')).type).toBe('hello');
    expect((await hello(nodes[2]!, 'c')).type).toBe('hello');
    expect(await hello(nodes[1]!, 'd')).toMatchObject({ type: 'error', error: { code: 'session_limit_exceeded' } });
    while (clients.length) clients.pop()!.close();
    await waitFor(() => nodes.every((n) => n.server.sessions.size === 0), { timeout: 5_000, name: 'sessions gone' });
  });

  it('follows a removed and a re-added key; keeps the peers while etcd is down and catches up after', async () => {
    await writer.etcd3.delete().key(`${PREFIX}/node-2`);
    await waitFor(() => !peersOf(nodes[0]!).includes(address(2)) && !peersOf(nodes[1]!).includes(address(2)), { timeout: 10_000, name: 'node 2 removed' });
    expect(peersOf(nodes[0]!)).toEqual([address(1)]);

    etcd.kill();
    // While etcd is away nothing changes: the last known peers stay.
    await waitFor(() => nodes.every((n) => n.server.cluster!.peers!.etcdState === 'syncing'), { timeout: 10_000, name: 'watches lost' });
    expect(peersOf(nodes[0]!)).toEqual([address(1)]);
    expect(peersOf(nodes[2]!)).toEqual(others(2));
    await etcd.restart();
    await waitFor(() => nodes.every((n) => n.server.cluster!.peers!.etcdState === 'watching'), { timeout: 20_000, name: 'watches back' });

    await writer.etcd3.put(`${PREFIX}/node-2`).value(JSON.stringify({ address: address(2) }));
    for (let i = 0; i < 3; i++) {
      await waitFor(() => JSON.stringify(peersOf(nodes[i]!)) === JSON.stringify(others(i)), { timeout: 20_000, name: `peers of node ${i} after etcd restart` });
    }
    // A peer found again answers.
    const peer = nodes[0]!.server.cluster!.peers!.peers().find((p) => p.target === address(2))!;
    expect((await peer.getServerId()).serverId).toBe(nodes[2]!.server.cluster!.serverId);
  });
});
