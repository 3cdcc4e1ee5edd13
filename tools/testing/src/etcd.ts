import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';
import { ManagedServer, ProcessStartError, Spawned, type ManagedProcess } from './managed-process';

/** Start-up deadline per attempt (ms); etcd is ready in about a second here. */
const ETCD_READY_TIMEOUT_MS = 15_000;
/** Attempts with fresh ports when a port was taken between picking and binding. */
const ETCD_PORT_ATTEMPTS = 5;

/**
 * Starts a single-member `etcd` on two free loopback ports (client, peer), retrying with new
 * ports on bind failure (Go `etcd/test.NewServerForTest`). Ready when `/health` says so.
 * `restart()` keeps both ports and the data dir.
 */
export async function startEtcd(): Promise<ManagedProcess> {
  const tempDir = await mkdtemp(path.join(tmpdir(), 'talk-etcd-'));
  const dataDir = path.join(tempDir, 'data');
  let clientPort = 0;
  let peerPort = 0;
  const launch = async (): Promise<Spawned> => {
    const client = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const child = new Spawned('etcd', 'etcd', [
      '--name', 't',
      '--data-dir', dataDir,
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `t=${peer}`,
      '--logger', 'zap',
      '--log-level', 'warn',
    ]);
    await child.ready(async () => {
      const res = await fetch(`${client}/health`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
      if (res === undefined || !res.ok) return false;
      const body = (await res.json()) as { health?: unknown };
      return body.health === 'true';
    }, ETCD_READY_TIMEOUT_MS);
    return child;
  };

  for (let attempt = 1; ; attempt++) {
    clientPort = await freePort();
    peerPort = await freePort();
    try {
      const first = await launch();
      return new ManagedServer(`http://127.0.0.1:${clientPort}`, clientPort, first, { launch, tempDir });
    } catch (err) {
      const inUse = err instanceof ProcessStartError && /address already in use/i.test(err.output);
      await rm(dataDir, { recursive: true, force: true });
      if (!inUse || attempt >= ETCD_PORT_ATTEMPTS) {
        await rm(tempDir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}
