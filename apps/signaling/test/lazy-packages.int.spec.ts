import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEtcd, startNatsServer, waitFor, type ManagedProcess } from '@talk-signaling/testing';

jest.setTimeout(60_000);

// The built bundle requires etcd3, cockatiel, nats, maxmind, jose and node-forge on first use
// (tools/build/lazy-externals.mjs): a node whose configuration uses none of them does not pay
// their memory. These tests run the bundle with a preload that records which packages were
// loaded when the process exits.
const root = path.resolve(__dirname, '../../..');
const LAZY = ['etcd3', 'cockatiel', 'nats', 'maxmind', 'jose', 'node-forge'];

async function loadedPackages(configLines: string[]): Promise<Set<string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lazy-packages-'));
  const out = path.join(dir, 'loaded.json');
  const preload = path.join(dir, 'record.js');
  writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));\n`);
  const config = path.join(dir, 'server.conf');
  writeFileSync(config, ['[http]', 'listen = 127.0.0.1:0', '[sessions]', 'hashkey = lazy-packages-hashkey-0123456789', '[backend]', 'allowall = true', 'secret = lazy-secret', ...configLines].join('\n'));
  const child = spawn(process.execPath, ['-r', preload, path.join(root, 'dist/apps/signaling/main.js'), '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    await waitFor(() => output.includes('signaling server started'), { timeout: 20_000, name: `server start; output: ${output}` });
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  const files = JSON.parse(readFileSync(out, 'utf8')) as string[];
  const names = new Set<string>();
  for (const f of files) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f);
    if (m) names.add(m[1]!);
  }
  return names;
}

describe('packages loaded by the built server', () => {
  let nats: ManagedProcess | undefined;
  let etcd: ManagedProcess | undefined;
  afterAll(async () => {
    await nats?.stop();
    await etcd?.stop();
  });

  it('a node with the in-process bus, static backends and no GeoIP loads none of the optional packages', async () => {
    const loaded = await loadedPackages(['[nats]', 'url = nats://loopback']);
    expect(loaded.has('ws')).toBe(true);
    expect(LAZY.filter((p) => loaded.has(p))).toEqual([]);
  });

  it('a node configured for NATS and etcd backends loads those packages when it uses them', async () => {
    nats = await startNatsServer();
    etcd = await startEtcd();
    const loaded = await loadedPackages(['backendtype = etcd', 'backendprefix = /lazy/backends/', '[etcd]', `endpoints = ${etcd.url}`, '[nats]', `url = ${nats.url}`]);
    expect(['nats', 'etcd3', 'cockatiel'].filter((p) => loaded.has(p))).toEqual(['nats', 'etcd3', 'cockatiel']);
    expect(['maxmind', 'jose', 'node-forge'].filter((p) => loaded.has(p))).toEqual([]);
  });
});
