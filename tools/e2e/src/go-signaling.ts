// Mode `go-signaling`: the Go signaling server 0.4.1 of the Debian package in front of our
// mcu-proxy (`[mcu] type = proxy`), the other interop direction of the proxy protocol. 0.4.1 has
// no in-process NATS, so a real nats-server runs beside it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startNatsServer, type ManagedProcess } from '@talk-signaling/testing';
import type { E2eSignaling } from './signaling';

/** The Debian package's Go signaling server (0.4.1). */
export const GO_SIGNALING_BINARY = '/usr/bin/nextcloud-spreed-signaling-server';

const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;

export interface GoSignalingOptions {
  backendSecret: string;
  /** `[mcu]` section (type = proxy, url, token_id, token_key). */
  mcuSection: string;
}

/** Starts nats-server and the Go signaling server; ready when `GET /api/v1/welcome` answers. */
export async function startGoSignaling(opts: GoSignalingOptions): Promise<E2eSignaling> {
  if (!existsSync(GO_SIGNALING_BINARY)) throw new Error(`${GO_SIGNALING_BINARY} missing: install the Debian package nextcloud-spreed-signaling`);
  const nats: ManagedProcess = await startNatsServer();
  const dir = await mkdtemp(path.join(tmpdir(), 'talk-e2e-go-signaling-'));
  const port = await freePort();
  const configPath = path.join(dir, 'server.conf');
  // Any backend URL is accepted with the shared secret (the fake Nextcloud's); a subscriber may
  // request the publisher's offer without Nextcloud flagging both in the call.
  await writeFile(
    configPath,
    [
      '[http]',
      `listen = 127.0.0.1:${port}`,
      '[app]',
      'debug = false',
      'allowsubscribeany = true',
      '[sessions]',
      'hashkey = e2e-hashkey-0123456789abcdef0123',
      'blockkey = e2e-blockkey-0123456789abcdef012',
      '[clients]',
      'internalsecret = e2e-internal-secret',
      '[backend]',
      'allowall = true',
      `secret = ${opts.backendSecret}`,
      'timeout = 10',
      '[nats]',
      `url = ${nats.url}`,
      opts.mcuSection,
      'urltype = static',
      '',
    ].join('\n'),
  );
  const child = spawn(GO_SIGNALING_BINARY, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`go signaling: exited before it was ready (code ${child.exitCode}, signal ${child.signalCode})\n${tail}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/welcome`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`go signaling: not ready after ${READY_TIMEOUT_MS} ms\n${tail}`);
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
  }
  return { wsUrl: `ws://127.0.0.1:${port}/spreed`, pid: child.pid as number, output: () => tail, stop };
}

/** Our mcu-proxy's `/stats` (allowed from 127.0.0.1): `sessions` counts signaling servers connected. */
async function proxySessions(proxyUrl: string): Promise<number> {
  const res = await fetch(new URL('stats', proxyUrl), { signal: AbortSignal.timeout(1_000) });
  return ((await res.json()) as { sessions?: number }).sessions ?? 0;
}

/** Waits until the Go server holds a session on our proxy (it connects right after start). */
export async function waitForProxySession(proxyUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await proxySessions(proxyUrl).catch(() => 0)) >= 1) return;
    if (Date.now() > deadline) throw new Error('go signaling: no session on our mcu-proxy in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Our proxy's command counters (`signaling_proxy_command_messages_total`) by type, from `/metrics`. */
export async function proxyCommandCounts(proxyUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(new URL('metrics', proxyUrl), { signal: AbortSignal.timeout(1_000) })).text();
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^signaling_proxy_command_messages_total\{type="([^"]+)"\} (\d+)/gm)) counts[m[1] as string] = Number(m[2]);
  return counts;
}
