import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '@talk-signaling/testing';
import type { FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { INTERNAL_SECRET } from './test-server';

const root = path.resolve(__dirname, '../../..');

export interface NodeProcess {
  /** `ws://127.0.0.1:port/spreed` */
  wsUrl: string;
  /** `http://127.0.0.1:port/` */
  baseUrl: string;
  /** Everything the process wrote (JSON log lines), so far. */
  readonly output: string;
  /** SIGKILL: the node dies without a word (no close frames, no leave events). */
  kill(): void;
  /** Kills the process if still running and removes its config. */
  stop(): Promise<void>;
}

export interface NodeProcessOptions {
  nextcloud: FakeNextcloud;
  natsUrl: string;
  /** Extra lines for the `[nc1]` section (e.g. `sessionlimit = 3`). */
  backendConfig?: string;
  /** Further sections (`[grpc]`, `[etcd]`, ...). */
  extraConfig?: string;
}

/**
 * A signaling node as its own process (the built `dist/apps/signaling/main.js`, configured
 * through a server.conf file like the in-process test servers): the one a cluster test can
 * really kill. Resolves once it has logged its start.
 */
export async function startNodeProcess(opts: NodeProcessOptions): Promise<NodeProcess> {
  const httpPort = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'talk-node-'));
  const file = path.join(dir, 'server.conf');
  writeFileSync(
    file,
    [
      '[http]',
      `listen = 127.0.0.1:${httpPort}`,
      '[sessions]',
      'hashkey = test-hash-key-with-32-characters',
      'blockkey = 0123456789abcdef',
      '[clients]',
      `internalsecret = ${INTERNAL_SECRET}`,
      '[nats]',
      `url = ${opts.natsUrl}`,
      '[backend]',
      'backends = nc1',
      '[nc1]',
      `url = ${opts.nextcloud.url}`,
      `secret = ${opts.nextcloud.secret}`,
      opts.backendConfig ?? '',
      opts.extraConfig ?? '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [path.join(root, 'dist/apps/signaling/main.js'), '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = async (): Promise<void> => {
    if (running()) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => output.includes('signaling server started') || !running(), { timeout: 15_000, name: 'node process started' });
    if (!running()) throw new Error(`node process exited: ${output.slice(-2_000)}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    wsUrl: `ws://127.0.0.1:${httpPort}/spreed`,
    baseUrl: `http://127.0.0.1:${httpPort}/`,
    get output() {
      return output;
    },
    kill: () => child.kill('SIGKILL'),
    stop,
  };
}
