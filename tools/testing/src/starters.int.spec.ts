import { existsSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import WebSocket from 'ws';
import { runningChildPids } from './child-registry';
import { startEtcd } from './etcd';
import { startJanus } from './janus';
import type { ManagedProcess, ManagedServer } from './managed-process';
import { startNatsServer } from './nats-server';
import { waitFor } from './wait-for';

/** Whether `pid` is alive (signal 0 probes without killing). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Reads the first line a NATS server sends (`INFO {...}`). */
function natsInfo(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: hostname, port: Number(port) });
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('error', reject);
  });
}

async function etcdHealthy(url: string): Promise<boolean> {
  const res = await fetch(`${url}/health`);
  return ((await res.json()) as { health: string }).health === 'true';
}

function janusInfo(url: string): Promise<{ janus: string; plugins: Record<string, unknown>; transports: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'janus-protocol');
    ws.on('open', () => ws.send(JSON.stringify({ janus: 'info', transaction: 'x' })));
    ws.on('message', (data) => {
      ws.close();
      resolve(JSON.parse(data.toString()));
    });
    ws.on('error', reject);
  });
}

/** Start → use → restart on the same port → use → stop leaves nothing behind. */
async function lifecycle(server: ManagedProcess, probe: (url: string) => Promise<unknown>): Promise<void> {
  const managed = server as ManagedServer;
  const tempDir = managed.launcher.tempDir;
  const firstPid = managed.pid!;
  expect(alive(firstPid)).toBe(true);
  expect(runningChildPids()).toContain(firstPid);
  await probe(server.url);

  const port = server.port;
  await server.restart();
  const secondPid = managed.pid!;
  expect(secondPid).not.toBe(firstPid);
  expect(alive(firstPid)).toBe(false);
  expect(server.port).toBe(port);
  expect(server.url).toContain(`:${port}`);
  await probe(server.url);

  await server.stop();
  expect(alive(secondPid)).toBe(false);
  expect(runningChildPids()).not.toContain(secondPid);
  expect(existsSync(tempDir)).toBe(false);
  await server.stop(); // idempotent
}

describe('startNatsServer', () => {
  it('starts, restarts on the same port and stops', async () => {
    const nats = await startNatsServer();
    expect(nats.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    await lifecycle(nats, async (url) => expect(await natsInfo(url)).toMatch(/^INFO /));
  }, 20_000);

  it('comes back after kill() + restart()', async () => {
    await using nats = await startNatsServer();
    nats.kill();
    await waitFor(() => !alive((nats as ManagedServer).pid!), { timeout: 2_000, name: 'nats-server to die' });
    await expect(natsInfo(nats.url)).rejects.toThrow();
    await nats.restart();
    expect(await natsInfo(nats.url)).toMatch(/^INFO /);
  }, 20_000);
});

describe('startEtcd', () => {
  it('starts, restarts on the same port and stops', async () => {
    const etcd = await startEtcd();
    expect(etcd.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await lifecycle(etcd, async (url) => expect(await etcdHealthy(url)).toBe(true));
  }, 40_000);
});

describe('startJanus', () => {
  it('starts with only the videoroom plugin and websockets, restarts on the same port and stops', async () => {
    const janus = await startJanus();
    expect(janus.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    await lifecycle(janus, async (url) => {
      const info = await janusInfo(url);
      expect(info.janus).toBe('server_info');
      expect(Object.keys(info.plugins)).toEqual(['janus.plugin.videoroom']);
      expect(Object.keys(info.transports)).toEqual(['janus.transport.websockets']);
    });
  }, 40_000);
});

describe('missing binaries', () => {
  it('fail with a clear error', async () => {
    const original = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      await expect(startNatsServer()).rejects.toThrow(/nats-server: binary not found/);
    } finally {
      process.env['PATH'] = original;
    }
  }, 10_000);
});
