import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { makeTestCertificate, TestClient, type TestCertificate } from '@talk-signaling/testing';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(30_000);

/** GET over https trusting `ca`; resolves with status, body and the peer certificate's fingerprint. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint }));
    });
    req.on('error', reject);
  });
}

describe('[https] listener', () => {
  let cert: TestCertificate;
  let setup: TestSetup;
  let httpsAddress: string;

  beforeAll(async () => {
    cert = makeTestCertificate();
    const dir = mkdtempSync(path.join(tmpdir(), 'talk-https-'));
    writeFileSync(path.join(dir, 'cert.pem'), cert.cert);
    writeFileSync(path.join(dir, 'key.pem'), cert.key);
    setup = await startTestSetup({
      extraConfig: ['[https]', 'listen = 127.0.0.1:0', `certificate = ${dir}/cert.pem`, `key = ${dir}/key.pem`].join('\n'),
    });
    httpsAddress = setup.server.http.addresses()[1]!;
  });
  afterAll(() => setup.stop());

  it('serves the REST endpoints with the configured certificate', async () => {
    const res = await httpsGet(`https://${httpsAddress}/api/v1/welcome`, cert.cert);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ 'nextcloud-spreed-signaling': 'Welcome' });
    const { X509Certificate } = await import('node:crypto');
    expect(res.fingerprint).toBe(new X509Certificate(cert.cert).fingerprint256);
  });

  it('accepts clients on wss:// (hello over TLS)', async () => {
    const client = await TestClient.connect(`wss://${httpsAddress}/spreed`, { ca: cert.cert });
    expect((await client.next()).type).toBe('welcome');
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('tls-user') });
    expect(reply.type).toBe('hello');
    client.close();
  });

  it('refuses a client that does not trust the certificate (it is really TLS)', async () => {
    await expect(httpsGet(`https://${httpsAddress}/api/v1/welcome`, makeTestCertificate({ bits: 1024 }).cert)).rejects.toThrow();
  });
});

describe('[http] writetimeout', () => {
  let setup: TestSetup;

  beforeAll(async () => {
    setup = await startTestSetup({ extraConfig: ['[http]', 'writetimeout = 1'].join('\n') });
    // A handler that never answers stands for a stuck request or a client that stops reading.
    setup.server.http.routes.add('GET', '/test/never-answers', () => undefined);
  });
  afterAll(() => setup.stop());

  it('cuts off a response that is not written in time', async () => {
    await expect(fetch(`${setup.baseUrl}test/never-answers`)).rejects.toThrow('fetch failed');
  });

  it('leaves prompt responses and WebSockets alone', async () => {
    expect((await fetch(`${setup.baseUrl}api/v1/welcome`)).status).toBe(200);
    const client = await TestClient.connect(setup.wsUrl);
    await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('slow-poke') });
    // Still open after a request that outlived the write timeout was cut off.
    await expect(fetch(`${setup.baseUrl}test/never-answers`)).rejects.toThrow();
    expect(client.isClosed).toBe(false);
    expect(await client.bye()).toMatchObject({ type: 'bye' });
  });
});
