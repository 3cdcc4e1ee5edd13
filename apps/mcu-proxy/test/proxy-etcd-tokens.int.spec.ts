import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { startEtcd, startJanus, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { startTestProxy, type TestProxy } from './proxy-harness';
import { makeTokenIdentity, proxyToken, ProxyTestClient } from './proxy-test-client';

jest.setTimeout(30_000);

describe('mcu-proxy tokentype = etcd', () => {
  const server1 = makeTokenIdentity('server1');
  const rotated = makeTokenIdentity('server1');
  let janus: ManagedProcess;
  let etcd: ManagedProcess;
  let writer: Etcd3;
  let proxy: TestProxy;

  const hello = async (identity = server1): Promise<{ type: string; error?: { code: string } }> => {
    const client = await ProxyTestClient.connect(proxy.wsUrl);
    try {
      return await client.hello(await proxyToken(identity));
    } finally {
      client.close();
    }
  };

  beforeAll(async () => {
    [janus, etcd] = await Promise.all([startJanus(), startEtcd()]);
    writer = new Etcd3({ hosts: etcd.url });
    proxy = await startTestProxy({
      janusUrl: janus.url,
      signaling: [],
      extra: `[app]\ntokentype = etcd\n[tokens]\nkeyformat = /first/%s, /signaling/proxy/tokens/%s/public-key\n[etcd]\nendpoints = ${etcd.url}`,
    });
    await waitFor(() => proxy.app.backend.connected, { timeout: 10_000, name: 'proxy connected to janus' });
  });
  afterAll(async () => {
    await proxy?.stop();
    writer?.close();
    await Promise.all([janus?.stop(), etcd?.stop()]);
  });

  it('looks the public key up under the key formats at every hello: missing, present, rotated, removed', async () => {
    expect((await hello()).error?.code).toBe('auth_failed');
    await writer.put('/signaling/proxy/tokens/server1/public-key').value(readFileSync(server1.publicKeyFile));
    expect((await hello()).type).toBe('hello');
    // A key under the first format wins; the old key no longer works.
    await writer.put('/first/server1').value(readFileSync(rotated.publicKeyFile));
    expect((await hello(rotated)).type).toBe('hello');
    expect((await hello()).error?.code).toBe('auth_failed');
    // Garbage under the first format: skipped, the second one is used.
    await writer.put('/first/server1').value('not a pem');
    expect((await hello()).type).toBe('hello');
    await writer.delete().all();
    expect((await hello()).error?.code).toBe('auth_failed');
  });

  it('etcd away: hellos fail with auth_failed; etcd back: they work again by themselves', async () => {
    await writer.put('/signaling/proxy/tokens/server1/public-key').value(readFileSync(server1.publicKeyFile));
    expect((await hello()).type).toBe('hello');
    etcd.kill('SIGKILL');
    expect((await hello()).error?.code).toBe('auth_failed');
    await etcd.restart();
    await waitFor(async () => (await hello()).type === 'hello', { timeout: 15_000, name: 'hello accepted after etcd came back' });
  });
});
