import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { silentLogger } from '@talk-signaling/runtime';
import { freePort, makeTestCertificate, startNatsServer, waitFor } from '@talk-signaling/testing';
import { loadServerConfig } from '../src/config';
import type { CheckResult, SelfCheckReport } from '../src/selfcheck/self-check';
import { startTestSetup } from './test-server';
import { SignalingServer } from '../src/signaling-server';

jest.setTimeout(30_000);

const root = path.resolve(__dirname, '../../..');


describe('self-check', () => {
  let good: FakeNextcloud;
  let misconfigured: FakeNextcloud;
  let dir: string;
  let configText: string;

  beforeAll(async () => {
    good = await startFakeNextcloud({ secret: 'good-backend-secret' });
    // Nextcloud's "shared secret" differs from what this server is configured with.
    misconfigured = await startFakeNextcloud({ secret: 'what-nextcloud-has' });
    dir = mkdtempSync(path.join(tmpdir(), 'talk-selfcheck-'));
    const expired = makeTestCertificate({ notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000), bits: 1024 });
    const other = makeTestCertificate({ bits: 1024 });
    writeFileSync(path.join(dir, 'cert.pem'), expired.cert);
    writeFileSync(path.join(dir, 'key.pem'), expired.key);
    writeFileSync(path.join(dir, 'other-key.pem'), other.key);
    // A port nothing listens on: a Nextcloud and a Janus that are not there.
    const deadPort = await freePort();
    configText = [
      '[http]',
      'listen = 127.0.0.1:0',
      '[https]',
      'listen = 127.0.0.1:0',
      `certificate = ${dir}/cert.pem`,
      `key = ${dir}/key.pem`,
      '[sessions]',
      'hashkey = selfcheck-test-hashkey-0123456789',
      '[nats]',
      'url = nats://loopback',
      '[backend]',
      'backends = good, wrong, gone',
      '[good]',
      `url = ${good.url}`,
      `secret = ${good.secret}`,
      '[wrong]',
      `url = ${misconfigured.url}`,
      'secret = what-the-signaling-server-has',
      '[gone]',
      `url = http://127.0.0.1:${deadPort}/`,
      'secret = gone-secret',
      '[mcu]',
      'type = janus',
      `url = ws://127.0.0.1:${deadPort}/`,
    ].join('\n');
  });
  afterAll(async () => {
    await good.close();
    await misconfigured.close();
  });

  const byName = (checks: CheckResult[], prefix: string) => checks.filter((c) => c.name.startsWith(prefix));

  it('GET /api/v1/selfcheck reports each backend, the certificate and the MCU with a hint per failure', async () => {
    // An expired certificate still loads (TLS servers do not check their own): the report says so.
    const server = new SignalingServer(loadServerConfig(configText, {}).config, {
      log: silentLogger(),
      registry: new Registry(),
      mcu: { startRetry: { initialMs: 50, maxMs: 100 } },
    });
    const [address] = await server.start();
    try {
      const res = await fetch(`http://${address}/api/v1/selfcheck`);
      expect(res.status).toBe(503);
      const report = (await res.json()) as SelfCheckReport;
      expect(report.ok).toBe(false);
      expect(byName(report.checks, 'backend good')).toEqual([expect.objectContaining({ status: 'ok', detail: 'Nextcloud answers and accepts our checksum' })]);
      const [wrong] = byName(report.checks, 'backend wrong');
      expect(wrong).toMatchObject({ status: 'error', detail: expect.stringContaining('rejects our checksum') });
      expect(wrong!.hint).toContain('"Shared secret"');
      const [gone] = byName(report.checks, 'backend gone');
      expect(gone).toMatchObject({ status: 'error', detail: expect.stringContaining('does not answer') });
      expect(gone!.hint).toContain('[gone]');
      expect(byName(report.checks, '[https] certificate')).toEqual([expect.objectContaining({ status: 'error', detail: expect.stringContaining('expired on') })]);
      expect(byName(report.checks, '[https] key')).toEqual([expect.objectContaining({ status: 'ok', detail: 'belongs to the certificate' })]);
      expect(byName(report.checks, 'mcu')).toEqual([expect.objectContaining({ status: 'error', detail: expect.stringContaining('not connected') })]);
      expect(byName(report.checks, 'nats')).toEqual([expect.objectContaining({ status: 'ok' })]);
      // The misconfigured Nextcloud really was asked (and saw a bad checksum), not guessed at.
      expect(misconfigured.requests.some((r) => r.type === 'ping' && !r.checksumValid)).toBe(true);

      // Only from [stats] allowed_ips (default 127.0.0.1); the trusted-proxy header names another client.
      const denied = await fetch(`http://${address}/api/v1/selfcheck`, { headers: { 'X-Real-IP': '203.0.113.9' } });
      expect(denied.status).toBe(403);
    } finally {
      await server.stop();
    }
  });

  it('answers 200 when everything is fine', async () => {
    const text = ['[http]', 'listen = 127.0.0.1:0', '[sessions]', 'hashkey = selfcheck-test-hashkey-0123456789', '[nats]', 'url = nats://loopback', '[backend]', 'backends = good', '[good]', `url = ${good.url}`, `secret = ${good.secret}`].join('\n');
    const server = new SignalingServer(loadServerConfig(text, {}).config, { log: silentLogger(), registry: new Registry() });
    const [address] = await server.start();
    try {
      const res = await fetch(`http://${address}/api/v1/selfcheck`);
      expect(res.status).toBe(200);
      const report = (await res.json()) as SelfCheckReport;
      expect(report.checks.map((c) => `${c.status} ${c.name}`).sort()).toEqual([`ok backend good (${good.url})`, 'ok nats'].sort());
    } finally {
      await server.stop();
    }
  });

  it('reports a NATS server that goes away, with a hint', async () => {
    const nats = await startNatsServer();
    const text = ['[http]', 'listen = 127.0.0.1:0', '[sessions]', 'hashkey = selfcheck-test-hashkey-0123456789', '[nats]', `url = ${nats.url}`, '[backend]', 'backends = good', '[good]', `url = ${good.url}`, `secret = ${good.secret}`].join('\n');
    const server = new SignalingServer(loadServerConfig(text, {}).config, { log: silentLogger(), registry: new Registry() });
    try {
      await server.start();
      const natsCheck = async () => (await server.selfCheck.run()).checks.find((c) => c.name === 'nats');
      expect(await natsCheck()).toMatchObject({ status: 'ok', detail: expect.stringContaining('connected') });
      await nats.stop();
      await waitFor(async () => (await natsCheck())?.status === 'error', { timeout: 10_000, name: 'nats reported gone' });
      expect((await natsCheck())?.hint).toContain('[nats] url');
    } finally {
      await server.stop();
      await nats.stop();
    }
  });

  it('asks every gRPC peer for its id: an answering node is ok, a missing one is reported with a hint', async () => {
    const [portA, portB, deadPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const b = await startTestSetup({ nextcloud: good, extraConfig: `[grpc]\nlisten = 127.0.0.1:${portB}` });
    const a = await startTestSetup({ nextcloud: good, extraConfig: `[grpc]\nlisten = 127.0.0.1:${portA}\ntargets = 127.0.0.1:${portB}, 127.0.0.1:${deadPort}` });
    try {
      const grpc = (await a.server.selfCheck.run()).checks.filter((c) => c.name.startsWith('grpc'));
      expect(grpc.find((c) => c.name === `grpc 127.0.0.1:${portB}`)).toMatchObject({ status: 'ok', detail: expect.stringContaining('answers (version') });
      const dead = grpc.find((c) => c.name === `grpc 127.0.0.1:${deadPort}`);
      expect(dead).toMatchObject({ status: 'error', detail: expect.stringContaining('does not answer') });
      expect(dead!.hint).toContain('[grpc] listen');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('--check on the built server prints the report and exits 1 on failures, without binding anything', async () => {
    const port = await freePort();
    const file = path.join(dir, 'server.conf');
    // With a key that does not belong to the certificate (the server could not even start with it).
    writeFileSync(file, configText.replace('listen = 127.0.0.1:0', `listen = 127.0.0.1:${port}`).replace(`${dir}/key.pem`, `${dir}/other-key.pem`));
    // Something else holds the port: --check must not try to bind it.
    const blocker = createServer().listen(port, '127.0.0.1');
    try {
      const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(root, 'dist/apps/signaling/main.js'), '--config', file, '--check'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
        child.once('exit', (code) => resolve({ code, output }));
      });
      expect(code).toBe(1);
      expect(output).toContain(`OK      backend good (${good.url}): Nextcloud answers and accepts our checksum`);
      expect(output).toMatch(/ERROR {3}backend wrong .*rejects our checksum/);
      expect(output).toContain('→ the secret of [wrong] must be exactly the "Shared secret"');
      expect(output).toContain('does not belong to the certificate');
      expect(output).toContain('self-check FAILED');
      expect(output).not.toContain('signaling server started');
    } finally {
      blocker.close();
    }
  });
});
