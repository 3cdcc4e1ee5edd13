import { freePort, startNatsServer, TestClient, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { startTestSetup, type TestSetup, type TestSetupOptions } from './test-server';

export interface TestCluster {
  /** The one nats-server every node is connected to. */
  nats: ManagedProcess;
  /** The one Nextcloud every node uses as backend `nc1`. */
  nextcloud: FakeNextcloud;
  nodes: TestSetup[];
  /**
   * A user session on `node` (hello through the shared Nextcloud), subscribed on the NATS
   * server before anyone addresses it; its client is pushed to `clients` for the spec to close.
   */
  user(node: TestSetup, userid: string, clients: TestClient[]): Promise<ClusterUser>;
  /**
   * `a` on the first node, `b` on the second, both in `roomid` (created on the Nextcloud), each
   * having seen the other join; the clients are pushed to `clients`.
   */
  pair(roomid: string, clients: TestClient[]): Promise<readonly [ClusterUser, ClusterUser]>;
  /** Stops node `i` the normal way (its sessions end and their leaves are sent); the others go on. */
  stopNode(i: number): Promise<void>;
  /** Starts node `i` again on its HTTP and gRPC ports (after {@link stopNode}); `nodes[i]` is the new one. */
  startNode(i: number): Promise<TestSetup>;
  stop(): Promise<void>;
}

export interface ClusterUser {
  client: TestClient;
  sessionid: string;
  userid: string;
  node: TestSetup;
}

export interface TestClusterOptions extends Omit<TestSetupOptions, 'natsUrl' | 'port'> {
  /** Number of signaling servers (default 2). */
  nodes?: number;
  /** Also connect the nodes with gRPC (`[grpc] listen` + static `targets`); default: NATS only. */
  grpc?: boolean;
  /** server.conf lines of node `index` alone (e.g. its own MCU proxy), after `extraConfig`. */
  nodeConfig?: (index: number) => string;
}

/** A node that could not start because its gRPC port was taken meanwhile. */
function grpcPortTaken(result: PromiseSettledResult<unknown>): boolean {
  if (result.status === 'fulfilled') return false;
  for (let err: unknown = result.reason; err instanceof Error; err = err.cause) {
    if (/EADDRINUSE/.test(err.message)) return true;
  }
  return false;
}

/** Reconnect quickly after a nats-server restart (production: every second). */
const TEST_RECONNECT_WAIT_MS = 100;

/**
 * N signaling servers sharing one real nats-server and one fake Nextcloud, each on its own
 * free port and configured through the real server.conf loader — started in one call. The
 * nodes know nothing of each other but the NATS server (no gRPC yet).
 */
export async function startTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  const nats = await startNatsServer();
  const nextcloud = opts.nextcloud ?? (await startFakeNextcloud({ secret: 'test-backend-secret' }));
  const { nodes: count = 2, grpc = false, nodeConfig, serverOptions, nextcloud: _given, ...setupOptions } = opts;
  let grpcPorts = grpc ? await Promise.all(Array.from({ length: count }, () => freePort())) : [];
  const grpcConfig = (i: number): string =>
    grpc ? ['[grpc]', `listen = 127.0.0.1:${grpcPorts[i]}`, `targets = ${grpcPorts.filter((_, j) => j !== i).map((p) => `127.0.0.1:${p}`).join(', ')}`].join('\n') : '';
  const startNodeOn = (i: number, port?: number): Promise<TestSetup> =>
    startTestSetup({
      ...setupOptions,
      extraConfig: [setupOptions.extraConfig ?? '', nodeConfig?.(i) ?? '', grpcConfig(i)].join('\n'),
      nextcloud,
      natsUrl: nats.url,
      port,
      serverOptions: {
        bus: { reconnectWaitMs: TEST_RECONNECT_WAIT_MS, connectBackoff: { initialMs: 100, maxMs: 400 } },
        // A node started before its peers retries them soon (see peersReachable).
        cluster: { peerRetry: { initialReconnectMs: 50, selfCheckRetryMs: { initial: 50, max: 400 } } },
        ...serverOptions,
      },
    });
  let started = await Promise.allSettled(Array.from({ length: count }, (_, i) => startNodeOn(i)));
  // A free port can be taken by another test process before the node binds it: start the
  // cluster again on new gRPC ports (the HTTP ports are the nodes' own, picked at bind time).
  for (let attempt = 1; attempt < 3 && started.some(grpcPortTaken); attempt++) {
    await Promise.all(started.flatMap((r) => (r.status === 'fulfilled' ? [r.value.stop()] : [])));
    grpcPorts = await Promise.all(Array.from({ length: count }, () => freePort()));
    started = await Promise.allSettled(Array.from({ length: count }, (_, i) => startNodeOn(i)));
  }
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  /** Nodes stopped by `stopNode` and not started again (`stop()` skips them). */
  const stopped = new Set<TestSetup>();
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.filter((n) => !stopped.has(n)).map((n) => n.stop()));
    if (!opts.nextcloud) await nextcloud.close();
    await nats.stop();
  };
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  // A node skips a peer whose connection attempt failed (e.g. it started first) until gRPC has
  // reconnected: scenarios start once every node reaches every other one.
  const peersReachable = async (): Promise<void> => {
    if (!grpc) return;
    // Each peer has answered GetServerId (its version is known) and is not down since.
    await waitFor(() => nodes.every((n) => n.server.cluster?.peers?.peers().filter((p) => p.version !== '' && p.reachable).length === count - 1), {
      timeout: 15_000,
      name: 'every node reaching its gRPC peers',
    });
  };
  try {
    await peersReachable();
  } catch (err) {
    await stop();
    throw err;
  }
  const user = async (node: TestSetup, userid: string, clients: TestClient[]): Promise<ClusterUser> => {
    const client = await TestClient.connect(node.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(userid) });
    await client.next('welcome');
    await node.server.bus.flush();
    return { client, sessionid: reply.hello.sessionid as string, userid, node };
  };
  const pair = async (roomid: string, clients: TestClient[]): Promise<readonly [ClusterUser, ClusterUser]> => {
    const [one, two] = nodes as [TestSetup, TestSetup];
    nextcloud.setRoom(roomid, {});
    const a = await user(one, `${roomid}-a`, clients);
    const b = await user(two, `${roomid}-b`, clients);
    const joinOf = (u: ClusterUser) => (m: { type: string; event?: { join?: { sessionid: string }[] } }) =>
      m.type === 'event' && (m.event?.join ?? []).some((e) => e.sessionid === u.sessionid);
    if ((await a.client.joinRoom(roomid, `nc-${roomid}-a`)).type !== 'room') throw new Error(`${a.userid} could not join ${roomid}`);
    await a.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'join');
    await one.server.bus.flush();
    if ((await b.client.joinRoom(roomid, `nc-${roomid}-b`)).type !== 'room') throw new Error(`${b.userid} could not join ${roomid}`);
    await a.client.waitForMessage(joinOf(b));
    await b.client.waitForMessage(joinOf(a));
    await two.server.bus.flush();
    return [a, b] as const;
  };
  const stopNode = async (i: number): Promise<void> => {
    const node = nodes[i]!;
    stopped.add(node);
    await node.stop();
  };
  const startNode = async (i: number): Promise<TestSetup> => {
    const old = nodes[i]!;
    const node = await startNodeOn(i, Number(new URL(old.baseUrl).port));
    stopped.delete(old);
    nodes[i] = node;
    await peersReachable();
    return node;
  };
  return { nats, nextcloud, nodes, user, pair, stopNode, startNode, stop };
}

/**
 * A cluster standing in for one server, so that a single-server spec runs unchanged on several
 * nodes (`*.clustered.int.spec.ts`; upstream runs its hub tests "local" and "clustered"), the
 * nodes connected by NATS and gRPC as in production: each
 * WebSocket connection goes to the next node in turn, so the clients of every scenario are split
 * over the nodes. `server`, `baseUrl` (backend requests, stats) are the first node's.
 */
export async function startClusteredSetup(opts: TestSetupOptions, nodes: number): Promise<TestSetup> {
  const { natsUrl: _u, port: _p, ...rest } = opts;
  const cluster = await startTestCluster({ ...rest, nodes, grpc: true });
  const first = cluster.nodes[0]!;
  let next = 0;
  return {
    server: first.server,
    nextcloud: cluster.nextcloud,
    baseUrl: first.baseUrl,
    get wsUrl() {
      return cluster.nodes[next++ % cluster.nodes.length]!.wsUrl;
    },
    nodes: cluster.nodes.map((n) => ({ server: n.server, baseUrl: n.baseUrl })),
    stop: () => cluster.stop(),
  };
}
