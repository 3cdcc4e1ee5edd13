import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { EtcdClient } from '@talk-signaling/cluster';
import { silentLogger } from '@talk-signaling/runtime';
import { startEtcd, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { loadServerConfig } from '../src/config';
import { createProxySfu } from '../src/mcu/proxy/create-proxy-sfu';
import type { ProxySfu } from '../src/mcu/proxy/proxy-sfu';
import { ScriptedProxy } from './scripted-proxy';

jest.setTimeout(60_000);

/**
 * Where the proxy list comes from, through `createProxySfu` and real configuration text: the
 * static list and its SIGHUP reload, DNS discovery (real name resolution of `localhost`), and
 * an etcd prefix on a real etcd.
 */
describe('proxy list sources', () => {
  let keyDir: string;
  let keyPath: string;
  const proxies: ScriptedProxy[] = [];
  const sfus: ProxySfu[] = [];

  beforeAll(async () => {
    keyDir = await mkdtemp(path.join(tmpdir(), 'talk-proxy-key-'));
    keyPath = path.join(keyDir, 'key.pem');
    await writeFile(keyPath, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  });
  afterAll(async () => {
    await rm(keyDir, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const sfu of sfus.splice(0)) await sfu.stop();
    for (const p of proxies.splice(0)) await p.stop();
  });

  async function proxy(country?: string): Promise<ScriptedProxy> {
    const p = await ScriptedProxy.start(country ? { country } : {});
    proxies.push(p);
    return p;
  }

  function config(mcu: string, extra = '') {
    return loadServerConfig(`[mcu]\ntype = proxy\ntoken_id = test\ntoken_key = ${keyPath}\n${mcu}\n${extra}`, {}).config;
  }

  function create(text: string, extra = '') {
    const made = createProxySfu(config(text, extra), new Registry(), silentLogger(), { reconnect: { initialMs: 20, maxMs: 100 }, dnsIntervalMs: 50 });
    sfus.push(made.sfu);
    made.sfu.start();
    return made;
  }

  const request = { publisherId: 'p', sid: 's', streamType: 'video' as const, bitrate: 0, mediaTypes: 3 };

  it('static list: SIGHUP connects added proxies, retires removed ones and applies new continent overrides', async () => {
    const us = await proxy('US');
    const de = await proxy('DE');
    const { sfu, reload } = create(`url = ${us.url}`);
    await waitFor(() => sfu.connections[0]?.connected, { timeout: 5_000, name: 'first proxy' });
    const first = await sfu.newPublisher({ ...request, country: 'ZA' });
    expect(first.connection.url).toBe(us.url);

    reload(config(`url = ${us.url} ${de.url}`, '[continent-overrides]\nAF = EU'));
    await waitFor(() => sfu.connections.length === 2 && sfu.connections.every((c) => c.connected), { timeout: 5_000, name: 'second proxy' });
    expect((await sfu.newPublisher({ ...request, publisherId: 'q', country: 'ZA' })).connection.url).toBe(de.url);

    reload(config(`url = ${de.url}`));
    // Retired, not closed, while its publisher lives; closed once that one is gone.
    await waitFor(() => sfu.connections.find((c) => c.url === us.url)?.retiring === true, { timeout: 5_000, name: 'removed proxy retiring' });
    expect(us.sockets.size).toBe(1);
    await first.close();
    await waitFor(() => us.sockets.size === 0, { timeout: 5_000, name: 'removed proxy closed once unused' });
    expect(sfu.connections.map((c) => c.url)).toEqual([de.url]);
  });

  it('DNS discovery: one connection per address of the name, the name kept in Host', async () => {
    const p = await proxy();
    const port = new URL(p.url).port;
    const { sfu } = create(`url = http://localhost:${port}/\ndnsdiscovery = true`);
    await waitFor(() => sfu.connections.some((c) => c.ip === '127.0.0.1' && c.connected), { timeout: 5_000, name: 'connected by address' });
    expect(sfu.connections.every((c) => c.url === `http://localhost:${port}/` && c.ip !== undefined)).toBe(true);
    expect(p.hosts[0]).toBe(`localhost:${port}`);
    expect((await sfu.newPublisher(request)).connection.ip).toBe('127.0.0.1');
  });

  describe('etcd', () => {
    let etcd: ManagedProcess;
    let writer: EtcdClient;
    const PREFIX = '/signaling/proxy/server/';

    beforeAll(async () => {
      etcd = await startEtcd();
      writer = (await EtcdClient.create({ endpoints: [etcd.url] }, silentLogger()))!;
    });
    afterAll(async () => {
      writer?.close();
      await etcd?.stop();
    });

    it('connects to the proxies listed under the prefix and follows additions and removals; bad entries are ignored', async () => {
      const a = await proxy();
      const b = await proxy();
      await writer.etcd3.put(`${PREFIX}a`).value(JSON.stringify({ address: a.url.replace(/\/$/, '') }));
      await writer.etcd3.put(`${PREFIX}junk`).value('{"address": 7}');
      const { sfu } = create(`urltype = etcd\nkeyprefix = ${PREFIX}`, `[etcd]\nendpoints = ${etcd.url}`);
      await waitFor(() => sfu.connections.length === 1 && sfu.connections[0]!.connected, { timeout: 10_000, name: 'proxy from etcd' });
      expect(sfu.connections[0]!.url).toBe(a.url);

      await writer.etcd3.put(`${PREFIX}b`).value(JSON.stringify({ address: b.url }));
      await waitFor(() => sfu.connections.length === 2 && sfu.connections.every((c) => c.connected), { timeout: 10_000, name: 'second proxy from etcd' });

      await writer.etcd3.delete().key(`${PREFIX}a`);
      await waitFor(() => a.sockets.size === 0 && sfu.connections.length === 1, { timeout: 10_000, name: 'removed proxy closed' });
      expect(sfu.connections[0]!.url).toBe(b.url);
    });
  });
});
