import { startNatsServer, type ManagedProcess } from '@talk-signaling/testing';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { startTestSetup, type TestSetup, type TestSetupOptions } from './test-server';

export interface TestCluster {
  /** The one nats-server every node is connected to. */
  nats: ManagedProcess;
  /** The one Nextcloud every node uses as backend `nc1`. */
  nextcloud: FakeNextcloud;
  nodes: TestSetup[];
  stop(): Promise<void>;
}

export interface TestClusterOptions extends Omit<TestSetupOptions, 'nextcloud' | 'natsUrl' | 'port'> {
  /** Number of signaling servers (default 2). */
  nodes?: number;
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
  const nextcloud = await startFakeNextcloud({ secret: 'test-backend-secret' });
  const { nodes: count = 2, serverOptions, ...setupOptions } = opts;
  const started = await Promise.allSettled(
    Array.from({ length: count }, () =>
      startTestSetup({
        ...setupOptions,
        nextcloud,
        natsUrl: nats.url,
        serverOptions: { bus: { reconnectWaitMs: TEST_RECONNECT_WAIT_MS, connectBackoff: { initialMs: 100, maxMs: 400 } }, ...serverOptions },
      }),
    ),
  );
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    await nextcloud.close();
    await nats.stop();
  };
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { nats, nextcloud, nodes, stop };
}
