import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManagedServer, Spawned, type ManagedProcess } from './managed-process';

/** Start-up deadline for nats-server (ms); it is usually ready in well under 100 ms. */
const NATS_READY_TIMEOUT_MS = 10_000;

/** Shape of the file written by `--ports_file_dir`. */
interface PortsFile {
  nats?: string[];
  monitoring?: string[];
}

/**
 * Starts `nats-server` on a loopback port it picks itself (`-p -1`, ports file; nats.js `nst`).
 * `restart()` relaunches on the same port so clients reconnect to the same URL.
 */
export async function startNatsServer(): Promise<ManagedProcess> {
  const tempDir = await mkdtemp(path.join(tmpdir(), 'talk-nats-'));
  let port = -1;
  const launch = async (): Promise<Spawned> => {
    const child = new Spawned('nats-server', 'nats-server', [
      '-a', '127.0.0.1',
      '-p', String(port),
      '-m', '-1',
      '--ports_file_dir', tempDir,
    ]);
    const pid = child.child.pid;
    const portsFile = path.join(tempDir, `nats-server_${pid}.ports`);
    const url = await child.ready(async () => {
      if (pid === undefined) return undefined;
      const text = await readFile(portsFile, 'utf8').catch(() => undefined);
      if (text === undefined || text === '') return undefined;
      const ports = JSON.parse(text) as PortsFile;
      return ports.nats?.[0];
    }, NATS_READY_TIMEOUT_MS);
    port = Number(new URL(url).port);
    return child;
  };
  const first = await launch().catch(async (err: unknown) => {
    await rm(tempDir, { recursive: true, force: true });
    throw err;
  });
  return new ManagedServer(`nats://127.0.0.1:${port}`, port, first, { launch, tempDir });
}
