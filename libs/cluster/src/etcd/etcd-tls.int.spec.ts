import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '@talk-signaling/runtime';
import { createTestCa, startEtcd, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { EtcdClient } from './etcd-client';
import { jsonValue } from './value-decoder';

jest.setTimeout(60_000);

/** `[etcd] clientkey`, `clientcert`, `cacert` against an etcd that requires client certificates. */
describe('EtcdClient with TLS client certificates (real etcd)', () => {
  let dir: string;
  let etcd: ManagedProcess;
  let files: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string; strangerCert: string; strangerKey: string };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'talk-etcd-tls-'));
    const ca = createTestCa('etcd CA');
    const server = ca.issue({ commonName: 'etcd', usage: ['server', 'client'] });
    const client = ca.issue({ commonName: 'signaling', usage: ['client'] });
    const stranger = createTestCa('other CA').issue({ commonName: 'intruder', usage: ['client'] });
    const entries = {
      ca: ca.certPem,
      serverCert: server.certPem,
      serverKey: server.keyPem,
      clientCert: client.certPem,
      clientKey: client.keyPem,
      strangerCert: stranger.certPem,
      strangerKey: stranger.keyPem,
    };
    const out: Record<string, string> = {};
    for (const [name, pem] of Object.entries(entries)) {
      out[name] = path.join(dir, `${name}.pem`);
      await writeFile(out[name]!, pem);
    }
    files = out as typeof files;
    etcd = await startEtcd({ tls: { certFile: files.serverCert, keyFile: files.serverKey, caFile: files.ca } });
  });
  afterAll(async () => {
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and watches over TLS with a client certificate (bare host:port endpoints become https)', async () => {
    expect(etcd.url).toMatch(/^https:/);
    const client = (await EtcdClient.create(
      { endpoints: [`127.0.0.1:${etcd.port}`], clientkey: files.clientKey, clientcert: files.clientCert, cacert: files.ca },
      silentLogger(),
    ))!;
    try {
      expect(client.endpoints).toEqual([`https://127.0.0.1:${etcd.port}`]);
      await client.etcd3.put('/tls/one').value(JSON.stringify({ address: 'a:1' }));
      const watch = client.watchPrefix('/tls/', { decode: jsonValue() });
      await watch.ready();
      expect(watch.get('/tls/one')).toEqual({ address: 'a:1' });
      await client.etcd3.put('/tls/two').value(JSON.stringify({ address: 'b:2' }));
      await waitFor(() => watch.get('/tls/two'), { timeout: 10_000, name: 'watched put over TLS' });
    } finally {
      client.close();
    }
  });

  it('is refused with a certificate from another CA, and without TLS', async () => {
    const stranger = (await EtcdClient.create(
      { endpoints: [etcd.url], clientkey: files.strangerKey, clientcert: files.strangerCert, cacert: files.ca },
      silentLogger(),
    ))!;
    try {
      await expect(stranger.getPrefix('/tls/')).rejects.toThrow();
    } finally {
      stranger.close();
    }
    // Only two of the three files: no TLS (as upstream), so the https endpoint cannot be read either.
    const partial = (await EtcdClient.create({ endpoints: [`127.0.0.1:${etcd.port}`], clientkey: files.clientKey, cacert: files.ca }, silentLogger()))!;
    try {
      expect(partial.endpoints).toEqual([`http://127.0.0.1:${etcd.port}`]);
      await expect(partial.getPrefix('/tls/')).rejects.toThrow();
    } finally {
      partial.close();
    }
  });

  it('rejects unreadable TLS files at creation', async () => {
    await expect(
      EtcdClient.create({ endpoints: [etcd.url], clientkey: path.join(dir, 'missing.key'), clientcert: files.clientCert, cacert: files.ca }, silentLogger()),
    ).rejects.toThrow(/could not read the etcd TLS files/);
  });
});
