import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '@talk-signaling/testing';
import { startContainer, type Container } from './podman';
import { signalingServerConf } from './server-conf';

export interface SignalingContainer {
  container: Container;
  /** `http://127.0.0.1:port/` */
  baseUrl: string;
  /** `ws://127.0.0.1:port/spreed` */
  wsUrl: string;
  port: number;
  /** Removes the container and its config folder. */
  remove(): Promise<void>;
}

/**
 * Runs the signaling image on the host network with a generated server.conf (mounted
 * read-only where the image expects it): loopback listener on a free port, one backend, the
 * in-process bus or NATS at `natsUrl`. Resolves once /ready answers 200; a container that
 * dies first fails with its logs.
 */
export async function startSignalingContainer(
  image: string,
  backend: { url: string; secret: string },
  extraConfig = '',
  natsUrl = 'nats://loopback',
): Promise<SignalingContainer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'deploy-test-'));
  const conf = path.join(dir, 'server.conf');
  // Readable by the image's uid 1000.
  writeFileSync(conf, signalingServerConf(port, backend, extraConfig, natsUrl), { mode: 0o644 });
  const baseUrl = `http://127.0.0.1:${port}/`;
  const container = await startContainer(image, {
    mounts: { [conf]: '/etc/signaling/server.conf' },
    env: { HEALTHCHECK_URL: `${baseUrl}health`, LOG_LEVEL: 'warn' },
  });
  const remove = async (): Promise<void> => {
    await container.remove();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await fetch(`${baseUrl}ready`)).status === 200, { timeout: 30_000, name: 'signaling container /ready' });
  } catch (error) {
    const logs = await container.logs();
    await remove();
    throw new Error(`${(error as Error).message}\ncontainer output:\n${logs.slice(-4000)}`);
  }
  return { container, baseUrl, wsUrl: `ws://127.0.0.1:${port}/spreed`, port, remove };
}
