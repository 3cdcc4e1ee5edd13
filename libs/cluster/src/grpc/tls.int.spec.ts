import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger, type Logger } from '@talk-signaling/runtime';
import { createTestCa, waitFor, type TestCa } from '@talk-signaling/testing';
import { ClusterPeer } from './cluster-peer';
import { ClusterServer } from './cluster-server';
import { createClientCredentials } from './credentials';
import { ClusterError } from './errors';
import type { GrpcTlsOptions } from './grpc-options';
import { TestHandlers } from './test-handlers';

jest.setTimeout(30_000);

/** A logger that keeps warn messages. */
function warnings(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const base = silentLogger();
  const logger = { ...base, warn: (a: object | string, b?: string) => lines.push(typeof a === 'string' ? a : (b ?? '')), child: () => logger } as Logger;
  return { logger, lines };
}

/** Writes PEM files into `dir` and returns their paths. */
async function files(dir: string, entries: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, pem] of Object.entries(entries)) {
    out[name] = path.join(dir, name);
    await writeFile(out[name], pem);
  }
  return out;
}

/** Replaces a file atomically (write + rename), as certificate tools do. */
async function replace(file: string, pem: string): Promise<void> {
  await writeFile(`${file}.tmp`, pem);
  await rename(`${file}.tmp`, file);
}

/** A peer with the given client-side TLS options; closed by the caller. */
function peerFor(port: number, tls: GrpcTlsOptions): { peer: ClusterPeer; close(): void } {
  const creds = createClientCredentials(tls, silentLogger());
  const peer = new ClusterPeer(`127.0.0.1:${port}`, creds.credentials);
  return { peer, close: () => (peer.close(), creds.close()) };
}

async function expectRefused(port: number, tls: GrpcTlsOptions): Promise<void> {
  const { peer, close } = peerFor(port, tls);
  try {
    const err = await peer.getServerId({ timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect(['unavailable', 'deadline_exceeded']).toContain((err as ClusterError).code);
  } finally {
    close();
  }
}

describe('gRPC TLS (test CA made with node-forge)', () => {
  let ca: TestCa;
  let dir: string;

  beforeAll(async () => {
    ca = createTestCa();
    dir = await mkdtemp(path.join(tmpdir(), 'talk-grpc-tls-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('TLS: a client trusting the CA connects; an unencrypted or untrusting client does not', async () => {
    const server = ca.issue({ commonName: 'node-a', usage: ['server'] });
    const f = await files(dir, { 'tls-ca.pem': ca.certPem, 'tls-server.pem': server.certPem, 'tls-server.key': server.keyPem });
    const srv = new ClusterServer({
      listen: '127.0.0.1:0',
      tls: { servercertificate: f['tls-server.pem'], serverkey: f['tls-server.key'] },
      serverId: 'id-a',
      version: 'v',
      handlers: new TestHandlers(),
      logger: silentLogger(),
    });
    const port = await srv.start();
    try {
      expect(srv.secure).toBe(true);
      const { peer, close } = peerFor(port, { serverca: f['tls-ca.pem'] });
      try {
        expect((await peer.getServerId()).serverId).toBe('id-a');
      } finally {
        close();
      }
      await expectRefused(port, {});
      const other = createTestCa('other CA');
      const o = await files(dir, { 'tls-other-ca.pem': other.certPem });
      await expectRefused(port, { serverca: o['tls-other-ca.pem'] });
    } finally {
      await srv.close();
    }
  });

  it('mTLS: with clientca the server requires a client certificate from that CA', async () => {
    const server = ca.issue({ commonName: 'node-a', usage: ['server'] });
    const client = ca.issue({ commonName: 'node-b', usage: ['client'] });
    const stranger = createTestCa('stranger CA').issue({ commonName: 'intruder', usage: ['client'] });
    const f = await files(dir, {
      'm-ca.pem': ca.certPem,
      'm-server.pem': server.certPem,
      'm-server.key': server.keyPem,
      'm-client.pem': client.certPem,
      'm-client.key': client.keyPem,
      'm-stranger.pem': stranger.certPem,
      'm-stranger.key': stranger.keyPem,
    });
    const srv = new ClusterServer({
      listen: '127.0.0.1:0',
      tls: { servercertificate: f['m-server.pem'], serverkey: f['m-server.key'], clientca: f['m-ca.pem'] },
      serverId: 'id-m',
      version: 'v',
      handlers: new TestHandlers(),
      logger: silentLogger(),
    });
    const port = await srv.start();
    try {
      const { peer, close } = peerFor(port, { serverca: f['m-ca.pem'], clientcertificate: f['m-client.pem'], clientkey: f['m-client.key'] });
      try {
        expect((await peer.getServerId()).serverId).toBe('id-m');
      } finally {
        close();
      }
      await expectRefused(port, { serverca: f['m-ca.pem'] });
      await expectRefused(port, { serverca: f['m-ca.pem'], clientcertificate: f['m-stranger.pem'], clientkey: f['m-stranger.key'] });
    } finally {
      await srv.close();
    }
  });

  it('rejects inconsistent or unreadable TLS files at start', async () => {
    const server = ca.issue({ commonName: 'node-a' });
    const wrong = ca.issue({ commonName: 'node-x' });
    const f = await files(dir, { 'bad-server.pem': server.certPem, 'bad-wrong.key': wrong.keyPem, 'bad-garbage.pem': 'not a certificate' });
    const start = (tls: GrpcTlsOptions): Promise<number> =>
      new ClusterServer({ listen: '127.0.0.1:0', tls, serverId: 'x', version: 'v', handlers: new TestHandlers(), logger: silentLogger() }).start();
    await expect(start({ servercertificate: f['bad-server.pem'], serverkey: f['bad-wrong.key'] })).rejects.toThrow(/does not belong/);
    await expect(start({ servercertificate: f['bad-garbage.pem'], serverkey: f['bad-wrong.key'] })).rejects.toThrow(/not a PEM certificate/);
    await expect(start({ servercertificate: path.join(dir, 'missing.pem'), serverkey: f['bad-wrong.key'] })).rejects.toThrow(/ENOENT/);
    await expect(start({ clientca: f['bad-server.pem'] })).rejects.toThrow(/clientca needs/);
  });

  it('reloads the server certificate and the client CA when the files change; a bad change keeps the old ones', async () => {
    const first = ca.issue({ commonName: 'node-a', usage: ['server'] });
    const f = await files(dir, { 'r-server.pem': first.certPem, 'r-server.key': first.keyPem, 'r-ca.pem': ca.certPem, 'r-client-ca.pem': ca.certPem });
    const log = warnings();
    const srv = new ClusterServer({
      listen: '127.0.0.1:0',
      tls: { servercertificate: f['r-server.pem'], serverkey: f['r-server.key'] },
      serverId: 'id-r',
      version: 'v',
      handlers: new TestHandlers(),
      logger: log.logger,
    });
    const port = await srv.start();
    // A long-lived client whose CA file will change too.
    const creds = createClientCredentials({ serverca: f['r-client-ca.pem'] }, silentLogger());
    try {
      const other = createTestCa('second CA');
      const o = await files(dir, { 'r-other-ca.pem': other.certPem });

      // A broken write (garbage) is ignored: the old certificate keeps working.
      await replace(f['r-server.pem']!, 'garbage');
      await waitFor(() => log.lines.includes('could not reload TLS files, keeping the previous ones'), { timeout: 10_000, name: 'rejected reload' });
      const { peer: p1, close: c1 } = peerFor(port, { serverca: f['r-ca.pem'] });
      try {
        expect((await p1.getServerId()).serverId).toBe('id-r');
      } finally {
        c1();
      }
      expect(srv.certificateReloads).toBe(0);

      // Certificate and key from another CA, both replaced: taken up once they match.
      const second = other.issue({ commonName: 'node-a', usage: ['server'] });
      await replace(f['r-server.key']!, second.keyPem);
      await replace(f['r-server.pem']!, second.certPem);
      await waitFor(() => srv.certificateReloads >= 1, { timeout: 10_000, name: 'server certificate reload' });
      await expectRefused(port, { serverca: f['r-ca.pem'] });
      const { peer: p2, close: c2 } = peerFor(port, { serverca: o['r-other-ca.pem'] });
      try {
        expect((await p2.getServerId()).serverId).toBe('id-r');
      } finally {
        c2();
      }

      // The long-lived client's CA file now changes to the second CA: new connections work.
      await replace(f['r-client-ca.pem']!, other.certPem);
      await waitFor(() => (creds.files?.reloads ?? 0) >= 1, { timeout: 10_000, name: 'client CA reload' });
      const p3 = new ClusterPeer(`127.0.0.1:${port}`, creds.credentials);
      try {
        expect((await p3.getServerId()).serverId).toBe('id-r');
      } finally {
        p3.close();
      }
    } finally {
      creds.close();
      await srv.close();
    }
  });
});
