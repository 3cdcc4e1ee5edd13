import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '@talk-signaling/testing';
import { REPO_ROOT } from './podman';
import { mcuProxyConf } from './proxy-conf';
import { signalingServerConf } from './server-conf';

/** A host process of a test with its output tail and its own temp folder. */
export interface HostProcess {
  /** `http://127.0.0.1:port/` */
  baseUrl: string;
  port: number;
  dir: string;
  output(): string;
  /** SIGKILL, wait for the exit, remove the temp folder. Idempotent. */
  stop(): Promise<void>;
}

const OUTPUT_TAIL = 16 * 1024;

/**
 * Spawns `command` (which gets the temp folder and a free port from `argsFor`), then polls
 * `ready(baseUrl)` until it holds; a process that exits first, or a timeout, fails with its
 * last output.
 */
export async function startHostProcess(
  name: string,
  command: string,
  argsFor: (dir: string, port: number) => string[],
  ready: (baseUrl: string) => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<HostProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), `deploy-test-${name}-`));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}/`;
  let output = '';
  const child: ChildProcess = spawn(command, argsFor(dir, port), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      output += `\n${error.message}`;
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode})`);
        return ready(baseUrl);
      },
      { timeout: timeoutMs, name: `${name} ready` },
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- ${name} output ---\n${output}`);
  }
  return { baseUrl, port, dir, output: () => output, stop };
}

/** GET that answers only the status (0 when nothing listens yet). */
export async function statusOf(url: string): Promise<number> {
  try {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * The built signaling bundle (dist/apps/signaling/main.js) on a free loopback port with one
 * backend and the bus at `natsUrl`; ready when /ready answers 200. `extraConfig` is appended
 * to server.conf.
 */
export function startSignalingProcess(backend: { url: string; secret: string }, extraConfig = '', natsUrl = 'nats://loopback'): Promise<HostProcess> {
  return startHostProcess(
    'signaling',
    process.execPath,
    (dir, port) => {
      const conf = path.join(dir, 'server.conf');
      writeFileSync(conf, signalingServerConf(port, backend, extraConfig, natsUrl));
      return [path.join(REPO_ROOT, 'dist/apps/signaling/main.js'), '--config', conf];
    },
    async (baseUrl) => (await statusOf(`${baseUrl}ready`)) === 200,
  );
}

/**
 * The built mcu-proxy bundle (dist/apps/mcu-proxy/main.js) on a free loopback port in front of
 * `janusUrl`, with static tokens (token id -> public key file); ready when /ready answers 200
 * (Janus connected).
 */
export function startMcuProxyProcess(janusUrl: string, tokenFiles: Record<string, string>): Promise<HostProcess> {
  return startHostProcess(
    'mcu-proxy',
    process.execPath,
    (dir, port) => {
      const conf = path.join(dir, 'proxy.conf');
      writeFileSync(conf, mcuProxyConf(port, janusUrl, tokenFiles));
      return [path.join(REPO_ROOT, 'dist/apps/mcu-proxy/main.js'), '--config', conf];
    },
    async (baseUrl) => (await statusOf(`${baseUrl}ready`)) === 200,
  );
}
