import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';
import { ManagedServer, ProcessStartError, Spawned, type ManagedProcess } from './managed-process';

/** Start-up deadline per attempt (ms); etcd is ready in about a second here. */
const ETCD_READY_TIMEOUT_MS = 15_000;
/** Attempts with fresh ports when a port was taken between picking and binding. */
const ETCD_PORT_ATTEMPTS = 5;

/** TLS for the client port: etcd serves https and requires client certificates from `caFile`. */
export interface EtcdTlsOptions {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** GET `/health` over https with a client certificate (fetch cannot take a private CA). */
function httpsHealth(url: string, tls: EtcdTlsOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      `${url}/health`,
      { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), timeout: 1_000 },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body));
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * Starts a single-member `etcd` on two free loopback ports (client, peer), retrying with new
 * ports on bind failure (Go `etcd/test.NewServerForTest`). Ready when `/health` says so.
 * `restart()` keeps both ports and the data dir. With `tls` the client port speaks https and
 * requires a client certificate (the url starts with `https://`).
 */
export async function startEtcd(opts: { tls?: EtcdTlsOptions } = {}): Promise<ManagedProcess> {
  const tls = opts.tls;
  const scheme = tls ? 'https' : 'http';
  const tempDir = await mkdtemp(path.join(tmpdir(), 'talk-etcd-'));
  const dataDir = path.join(tempDir, 'data');
  let clientPort = 0;
  let peerPort = 0;
  const launch = async (): Promise<Spawned> => {
    const client = `${scheme}://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const child = new Spawned('etcd', 'etcd', [
      '--name', 't',
      '--data-dir', dataDir,
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `t=${peer}`,
      '--logger', 'zap',
      '--log-level', 'warn',
      ...(tls ? ['--cert-file', tls.certFile, '--key-file', tls.keyFile, '--trusted-ca-file', tls.caFile, '--client-cert-auth'] : []),
    ]);
    await child.ready(async () => {
      if (tls) {
        const body = (await httpsHealth(client, tls).catch(() => undefined)) as { health?: unknown } | undefined;
        return body?.health === 'true';
      }
      const res = await fetch(`${client}/health`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
      if (res === undefined || !res.ok) return false;
      const body = (await res.json()) as { health?: unknown };
      return body.health === 'true';
    }, ETCD_READY_TIMEOUT_MS);
    return child;
  };

  for (let attempt = 1; ; attempt++) {
    clientPort = await freePort();
    peerPort = await freePort();
    try {
      const first = await launch();
      return new ManagedServer(`${scheme}://127.0.0.1:${clientPort}`, clientPort, first, { launch, tempDir });
    } catch (err) {
      const inUse = err instanceof ProcessStartError && /address already in use/i.test(err.output);
      await rm(dataDir, { recursive: true, force: true });
      if (!inUse || attempt >= ETCD_PORT_ATTEMPTS) {
        await rm(tempDir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}
