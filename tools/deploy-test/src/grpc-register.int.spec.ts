// deploy/stack/k8s/grpc-register.js (the stack's gRPC registration sidecar) against a real etcd,
// run by the host's Node: it keeps the pod's key on a lease, puts it again when etcd forgets the
// lease, has it back after an etcd restart, and removes the key at once on SIGTERM.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { startEtcd, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { REPO_ROOT } from './podman';

const SCRIPT = path.join(REPO_ROOT, 'deploy/stack/k8s/grpc-register.js');
const KEY = '/signaling/cluster/grpc/talk-signaling-7';
const VALUE = JSON.stringify({ address: '10.1.2.3:9090' });

describe('deploy/stack/k8s/grpc-register.js', () => {
  let etcd: ManagedProcess;
  let client: Etcd3;
  let sidecar: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.url });
    sidecar = spawn(process.execPath, [SCRIPT], {
      env: {
        PATH: process.env.PATH,
        NODE_PATH: path.join(REPO_ROOT, 'node_modules'),
        ETCD_ENDPOINTS: etcd.url,
        GRPC_PREFIX: '/signaling/cluster/grpc/',
        POD_NAME: 'talk-signaling-7',
        GRPC_ADDRESS: '10.1.2.3:9090',
        LEASE_TTL: '6',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    sidecar.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    sidecar.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) => sidecar.on('exit', (code) => resolve(code)));
  });

  afterAll(async () => {
    sidecar?.kill('SIGKILL');
    client?.close();
    await etcd?.stop();
  });

  const leaseOfKey = async (): Promise<string | undefined> => {
    const res = await client.get(KEY).exec();
    const kv = res.kvs[0];
    return kv && kv.value.toString() === VALUE ? String(kv.lease) : undefined;
  };

  it('puts <prefix>/<pod name> = {"address": ...} on a lease', async () => {
    const lease = await waitFor(leaseOfKey, { timeout: 30_000, name: `${KEY} in etcd` });
    expect(lease).not.toBe('0');
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: lease });
    expect(Number(ttl.grantedTTL)).toBe(6);
  });

  it('puts the key again on a new lease when etcd no longer knows the old one', async () => {
    const old = (await leaseOfKey())!;
    await client.leaseClient.leaseRevoke({ ID: old });
    const renewed = await waitFor(async () => {
      const lease = await leaseOfKey();
      return lease !== undefined && lease !== old ? lease : undefined;
    }, { timeout: 30_000, name: `${KEY} on a new lease` });
    expect(renewed).not.toBe(old);
    expect(output).toContain('lease lost');
  });

  it('has its key in etcd again after an etcd restart', async () => {
    await etcd.restart();
    await waitFor(leaseOfKey, { timeout: 30_000, name: `${KEY} after the restart` });
    // Still kept alive: a keep-alive after the restart succeeds for the same lease.
    const lease = (await leaseOfKey())!;
    await waitFor(async () => Number((await client.leaseClient.leaseTimeToLive({ ID: lease })).TTL) > 0, { timeout: 30_000, name: 'lease alive' });
  });

  it('revokes the lease on SIGTERM, so the key goes at once, and exits 0', async () => {
    const lease = (await leaseOfKey())!;
    sidecar.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await client.get(KEY).exec()).toMatchObject({ kvs: [] });
    expect(Number((await client.leaseClient.leaseTimeToLive({ ID: lease })).TTL)).toBe(-1);
    expect(output).toContain(`SIGTERM: lease revoked, ${KEY} removed`);
  });

  it('refuses a LEASE_TTL that is not a whole number of seconds ≥ 1 with exit code 2 and says why', () => {
    for (const bad of ['0', '-3', '1.5', 'fifteen']) {
      const run = spawnSync(process.execPath, [SCRIPT], {
        env: { PATH: process.env.PATH, NODE_PATH: path.join(REPO_ROOT, 'node_modules'), ETCD_ENDPOINTS: etcd.url, GRPC_PREFIX: '/p', POD_NAME: 'x', GRPC_ADDRESS: 'y:1', LEASE_TTL: bad },
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect([bad, run.status, run.stderr.trim()]).toEqual([bad, 2, `grpc-register: LEASE_TTL must be a whole number of seconds >= 1, not ${JSON.stringify(bad)}`]);
    }
  });
});
