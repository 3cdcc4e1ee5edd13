import type { FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import type { SignalingServer } from '../src/signaling-server';
import { startTestCluster } from './test-cluster';
import { startTestSetup, type TestSetup, type TestSetupOptions } from './test-server';

export interface TestInstanceOptions extends Omit<TestSetupOptions, 'nextcloud' | 'natsUrl' | 'port' | 'secondBackend'> {
  /**
   * On a cluster: clients connect to every node in turn (`all`, the default), or only to the
   * nodes other than the first (`others`) — the first is the one {@link TestInstance.baseUrl}
   * names, so the sessions a federated join creates there have all their peers on other nodes.
   */
  clients?: 'all' | 'others';
  /** Where the first client goes, as an index into those nodes (default 0); the next ones follow in turn. */
  firstClient?: number;
}

/**
 * One signaling server with a given Nextcloud — or, when the spec runs clustered
 * (`TALK_TEST_NODES`, see two-nodes.ts), a cluster standing in for it: its nodes share one real
 * nats-server and are connected by gRPC. For specs with more than one server (federation), whose
 * servers therefore cannot come from the single `startTestSetup` switch.
 */
export interface TestInstance {
  /** Every node (one on a single server). */
  readonly servers: readonly SignalingServer[];
  /** The first node's port and `http://127.0.0.1:port/`: what a federated join names. */
  readonly port: number;
  readonly baseUrl: string;
  /** Every node's port, the first's first. */
  readonly ports: readonly number[];
  /** Where Nextcloud's backend requests go: the last node (on a cluster, not the one federated joins name). */
  readonly backendUrl: string;
  /** Where the next client connects (see {@link TestInstanceOptions.clients}). */
  readonly wsUrl: string;
  /** Sessions on all nodes. */
  sessionCount(): number;
  /** Federation connections opened by all nodes. */
  federationCount(): number;
  /** Index of the node holding the session with this public id (-1: none). */
  nodeOf(sessionid: string): number;
  /** Stops the first node the normal way (on a single server: the server); the others go on. */
  stopFirst(): Promise<void>;
  /** Starts the first node again on the same port(s). */
  startFirst(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestInstance(nextcloud: FakeNextcloud, opts: TestInstanceOptions = {}): Promise<TestInstance> {
  const count = Number(process.env['TALK_TEST_NODES'] ?? '1');
  const { clients = 'all', firstClient = 0, ...setupOptions } = opts;
  let nodes: TestSetup[];
  let stopNode: () => Promise<void>;
  let startNode: () => Promise<TestSetup>;
  let stopAll: () => Promise<void>;
  if (count > 1) {
    const cluster = await startTestCluster({ ...setupOptions, nextcloud, nodes: count, grpc: true });
    nodes = cluster.nodes;
    stopNode = () => cluster.stopNode(0);
    startNode = () => cluster.startNode(0);
    stopAll = () => cluster.stop();
  } else {
    let single = await startTestSetup({ ...setupOptions, nextcloud });
    let running = true;
    nodes = [single];
    const port = Number(new URL(single.baseUrl).port);
    stopNode = async () => {
      running = false;
      await single.stop();
    };
    startNode = async () => {
      single = await startTestSetup({ ...setupOptions, nextcloud, port });
      running = true;
      nodes[0] = single;
      return single;
    };
    stopAll = async () => {
      if (running) await single.stop();
    };
  }
  const first = nodes[0]!;
  const port = Number(new URL(first.baseUrl).port);
  const reachable = (): TestSetup[] => (clients === 'others' && nodes.length > 1 ? nodes.slice(1) : nodes);
  let turn = firstClient;
  return {
    get servers() {
      return nodes.map((n) => n.server);
    },
    port,
    baseUrl: first.baseUrl,
    ports: nodes.map((n) => Number(new URL(n.baseUrl).port)),
    backendUrl: nodes[nodes.length - 1]!.baseUrl,
    get wsUrl() {
      const pool = reachable();
      return pool[turn++ % pool.length]!.wsUrl;
    },
    sessionCount: () => nodes.reduce((sum, n) => sum + n.server.sessions.size, 0),
    federationCount: () => nodes.reduce((sum, n) => sum + n.server.federation.size, 0),
    nodeOf: (sessionid) => nodes.findIndex((n) => n.server.sessions.byPublicId(sessionid) !== undefined),
    stopFirst: stopNode,
    startFirst: async () => {
      await startNode();
    },
    stop: stopAll,
  };
}
