import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@talk-signaling/testing';

const READY_TIMEOUT_MS = 10_000;
/** SIGTERM first (graceful shutdown), SIGKILL after this long. */
const STOP_GRACE_MS = 3_000;

export interface E2eSignaling {
  /** `ws://127.0.0.1:P/spreed` */
  wsUrl: string;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

export interface SignalingOptions {
  /** dist/apps/signaling/main.js */
  mainJs: string;
  /** Backend base URL (the fake Nextcloud), with trailing slash. */
  backendUrl: string;
  backendSecret: string;
  /** Janus WebSocket URL for `[mcu] url`. */
  janusUrl: string;
  /** The whole `[mcu]` section instead of `type = janus` with `janusUrl` (proxy modes). */
  mcuSection?: string;
  /** Also listen on this address (same port): clients coming from there get another GeoIP country. */
  extraAddress?: string;
  /** Appended to the config (e.g. `[geoip-overrides]`). */
  extraConfig?: string;
}

/** The config the test runs the server with: one backend, in-process bus, `[mcu] type = janus`. */
export function signalingConfig(port: number, opts: Omit<SignalingOptions, 'mainJs'>): string {
  return `[http]
listen = 127.0.0.1:${port}${opts.extraAddress ? ` ${opts.extraAddress}:${port}` : ''}

[app]
debug = false
# Keeps the test on the media path: the subscriber may request the publisher's offer without
# both being flagged in the call by Nextcloud.
allowsubscribeany = true

[sessions]
hashkey = e2e-hashkey-0123456789abcdef0123
blockkey = e2e-blockkey-0123456789abcdef012

[clients]
internalsecret = e2e-internal-secret

[backend]
backends = e2e

[e2e]
url = ${opts.backendUrl}
secret = ${opts.backendSecret}

[nats]
url = nats://loopback

${opts.mcuSection ?? `[mcu]\ntype = janus\nurl = ${opts.janusUrl}`}
${opts.extraConfig ?? ''}
`;
}

/** Starts the built signaling server; ready when `GET /api/v1/welcome` answers. */
export async function startE2eSignaling(opts: SignalingOptions): Promise<E2eSignaling> {
  if (!existsSync(opts.mainJs)) throw new Error(`signaling: ${opts.mainJs} missing; build it first (nx build signaling)`);
  const dir = await mkdtemp(path.join(tmpdir(), 'talk-e2e-signaling-'));
  const port = await freePort();
  const configPath = path.join(dir, 'server.conf');
  await writeFile(configPath, signalingConfig(port, opts));
  const child = spawn(process.execPath, [opts.mainJs, '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: process.env['E2E_SIGNALING_LOG_LEVEL'] ?? 'info' },
  });
  let tail = '';
  const collect = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-32_768);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`signaling: exited before it was ready (code ${child.exitCode}, signal ${child.signalCode})\n${tail}`);
    }
    try {
      const res = await fetch(`${base}/api/v1/welcome`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`signaling: not ready after ${READY_TIMEOUT_MS} ms\n${tail}`);
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
  }
  return { wsUrl: `ws://127.0.0.1:${port}/spreed`, pid: child.pid as number, output: () => tail, stop };
}
