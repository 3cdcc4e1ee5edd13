import { FaultProxy, freePort, startEtcd, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { silentLogger, type Logger } from '@talk-signaling/runtime';
import pino from 'pino';
import { Registry } from 'prom-client';
import { EtcdClient } from '../etcd/etcd-client';
import { ClusterPeers, parseEtcdTarget } from './cluster-peers';
import { ClusterServer } from './cluster-server';
import { createGrpcMetrics } from './metrics';
import { createServerId } from './server-id';
import { TestHandlers } from './test-handlers';

jest.setTimeout(60_000);

interface Node {
  id: string;
  address: string;
  handlers: TestHandlers;
  server: ClusterServer;
}

async function startNode(listen = '127.0.0.1:0'): Promise<Node> {
  const id = createServerId();
  const handlers = new TestHandlers();
  const server = new ClusterServer({ listen, tls: {}, serverId: id, version: 'v1', handlers, logger: silentLogger() });
  const port = await server.start();
  return { id, address: `127.0.0.1:${port}`, handlers, server };
}

/** Targets of the peers that are not this node, sorted. */
function labels(peers: ClusterPeers): string[] {
  return peers.peers().map((p) => p.label).sort();
}

const FAST_RETRY = { initial: 50, max: 200 };

describe('ClusterPeers: static targets', () => {
  let a: Node;
  let b: Node;
  let c: Node;
  let deadPort: number;

  beforeAll(async () => {
    [a, b, c] = await Promise.all([startNode(), startNode(), startNode()]);
    deadPort = await freePort();
  });
  afterAll(async () => {
    await Promise.all([a, b, c].map((n) => n?.server.close()));
  });

  it('skips itself among its targets (GetServerId) and counts clients', async () => {
    const registry = new Registry();
    const metrics = createGrpcMetrics(registry);
    const peers = new ClusterPeers({ grpc: { targets: [a.address, b.address, c.address] }, serverId: a.id, version: 'v1', logger: silentLogger(), metrics, selfCheckRetryMs: FAST_RETRY });
    try {
      await peers.ready();
      await peers.selfChecked();
      expect(labels(peers)).toEqual([b.address, c.address].sort());
      expect(peers.targets.sort()).toEqual([a.address, b.address, c.address].sort());
      expect(await registry.metrics()).toMatch(/signaling_grpc_clients 2\b/);
    } finally {
      peers.close();
    }
  });

  it('fan-out: the first answer wins while a blackholed peer only costs its deadline; collect sums the others', async () => {
    c.handlers.resumeIds.set('r-on-c', 'public-on-c');
    b.handlers.counts.set('https://nc.invalid/', 2);
    c.handlers.counts.set('https://nc.invalid/', 3);
    // Accepts the connection and swallows everything: neither down nor answering.
    const blackhole = await FaultProxy.start({ port: b.server.port });
    blackhole.pause('to');
    blackhole.pause('from');
    const unreachable = `127.0.0.1:${blackhole.port}`;
    const peers = new ClusterPeers({ grpc: { targets: [b.address, c.address, unreachable] }, serverId: a.id, version: 'v1', logger: silentLogger(), selfCheckRetryMs: FAST_RETRY });
    try {
      expect(labels(peers)).toEqual([b.address, c.address, unreachable].sort());
      // The answer from c arrives while the call to the unreachable peer is still waiting.
      const settled = new Set<string>();
      const answer = await peers.firstResult((peer, opts) =>
        peer.lookupResumeId('r-on-c', { ...opts, timeoutMs: 10_000 }).finally(() => settled.add(peer.target)),
      );
      expect(answer).toBe('public-on-c');
      expect(settled.has(unreachable)).toBe(false);
      // ...and that call was cancelled, not left running.
      await waitFor(() => settled.has(unreachable), { timeout: 5_000, name: 'cancelled call' });
      // Nobody knows it: resolves with undefined once the unreachable peer's deadline has passed.
      expect(await peers.firstResult((peer, opts) => peer.lookupResumeId('nobody', { ...opts, timeoutMs: 300 }))).toBeUndefined();
      const counts = await peers.collect((peer) => peer.getSessionCount('https://nc.invalid/', { timeoutMs: 300 }));
      expect(counts.map((r) => r.value).reduce((x, y) => x + y, 0)).toBe(5);
      expect(counts.map((r) => r.peer.target).sort()).toEqual([b.address, c.address].sort());
    } finally {
      peers.close();
      await blackhole.close();
    }
  });

  it('fan-out: a peer that is down (connection refused) answers nothing at once, and is logged once', async () => {
    const dead = `127.0.0.1:${deadPort}`;
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) }) as unknown as Logger;
    const peers = new ClusterPeers({ grpc: { targets: [b.address, dead] }, serverId: a.id, version: 'v1', logger, selfCheckRetryMs: FAST_RETRY });
    try {
      // Deadlines far beyond the test's timeout: waiting for the dead peer would fail the test.
      const long = { timeoutMs: 120_000 };
      expect(await peers.firstResult((peer, opts) => peer.lookupResumeId('nobody', opts), long)).toBeUndefined();
      b.handlers.counts.set('https://nc.invalid/', 2);
      const counts = await peers.collect((peer, opts) => peer.getSessionCount('https://nc.invalid/', opts), long);
      expect(counts.map((r) => [r.peer.target, r.value])).toEqual([[b.address, 2]]);
      await waitFor(() => peers.peers().find((p) => p.target === dead)?.reachable === false, { timeout: 10_000, name: 'dead peer known down' });
      const failedCalls = (): number => warnings.filter((w) => w === 'gRPC call to peer failed').length;
      const before = failedCalls();
      for (let i = 0; i < 3; i++) expect(await peers.firstResult((peer, opts) => peer.lookupResumeId('nobody', opts), long)).toBeUndefined();
      // Said once when it went down, not once per call.
      expect(warnings.filter((w) => w.startsWith('gRPC peer unreachable'))).toHaveLength(1);
      expect(failedCalls()).toBe(before);
    } finally {
      peers.close();
    }
  });

  it('reload (SIGHUP) adds and removes static targets and keeps the unchanged ones', async () => {
    const peers = new ClusterPeers({ grpc: { targets: [b.address] }, serverId: a.id, version: 'v1', logger: silentLogger(), selfCheckRetryMs: FAST_RETRY });
    try {
      const kept = peers.peers()[0];
      const removed: string[] = [];
      peers.on('removed', (p) => removed.push(p.target));
      peers.reload({ targets: [b.address, c.address, a.address] });
      await peers.selfChecked();
      expect(labels(peers)).toEqual([b.address, c.address].sort());
      expect(peers.peers()).toContain(kept);
      expect(removed).toEqual([a.address]); // itself, found by the self check
      peers.reload({ targets: [c.address] });
      expect(labels(peers)).toEqual([c.address]);
      expect(kept!.closed).toBe(true);
      // A broken reload keeps the previous set.
      peers.reload({ targettype: 'etcd', targetprefix: '/x' });
      expect(labels(peers)).toEqual([c.address]);
    } finally {
      peers.close();
    }
  });

  it('DNS discovery: one connection per resolved address, following changes (injected resolver)', async () => {
    const port = b.address.split(':')[1]!;
    let answer: string[] | Error = ['127.0.0.1'];
    let lookups = 0;
    const peers = new ClusterPeers({
      grpc: { targets: [`signaling.cluster.test:${port}`], dnsdiscovery: true },
      serverId: a.id,
      version: 'v1',
      logger: silentLogger(),
      lookupHost: async (host) => {
        expect(host).toBe('signaling.cluster.test');
        lookups++;
        if (answer instanceof Error) throw answer;
        return answer;
      },
      dnsIntervalMs: 20,
      selfCheckRetryMs: FAST_RETRY,
    });
    try {
      await waitFor(() => peers.peers().length === 1, { timeout: 5_000, name: 'first address' });
      const first = peers.peers()[0]!;
      expect(first.label).toBe(`signaling.cluster.test:${port} (127.0.0.1)`);
      expect((await first.getServerId()).serverId).toBe(b.id);

      answer = ['127.0.0.1', '::1'];
      await waitFor(() => peers.peers().length === 2, { timeout: 5_000, name: 'second address' });
      // A failing lookup keeps the addresses.
      answer = new Error('SERVFAIL');
      const before = lookups;
      await waitFor(() => lookups >= before + 3, { timeout: 5_000, name: 'failing lookups' });
      expect(peers.peers()).toHaveLength(2);
      answer = ['::1'];
      await waitFor(() => peers.peers().length === 1, { timeout: 5_000, name: 'address removed' });
      expect(peers.peers()[0]!.ip).toBe('::1');
      expect(first.closed).toBe(true);
      answer = [];
      await waitFor(() => peers.peers().length === 0, { timeout: 5_000, name: 'all removed' });
    } finally {
      peers.close();
    }
  });

  it('DNS discovery with the system resolver: localhost reaches a node bound to it', async () => {
    const d = await startNode('localhost:0');
    const port = d.address.split(':')[1]!;
    const peers = new ClusterPeers({ grpc: { targets: [`localhost:${port}`], dnsdiscovery: true }, serverId: a.id, version: 'v1', logger: silentLogger(), selfCheckRetryMs: FAST_RETRY });
    try {
      await waitFor(() => peers.peers().length >= 1, { timeout: 5_000, name: 'localhost resolved' });
      for (const peer of peers.peers()) {
        expect(['127.0.0.1', '::1']).toContain(peer.ip);
        expect((await peer.getServerId()).serverId).toBe(d.id);
      }
    } finally {
      peers.close();
      await d.server.close();
    }
  });
});

describe('parseEtcdTarget', () => {
  it('accepts host:port, drops one trailing slash, rejects the rest', () => {
    expect(parseEtcdTarget({ address: '192.168.0.1:9090' })).toEqual({ address: '192.168.0.1:9090' });
    expect(parseEtcdTarget({ address: 'node.invalid:9090/', other: 1 })).toEqual({ address: 'node.invalid:9090' });
    expect(parseEtcdTarget({ address: '[::1]:9090' })).toEqual({ address: '[::1]:9090' });
    for (const bad of [null, 1, 'x', {}, { address: '' }, { address: 7 }, { address: 'no-port' }, { address: 'h:99999' }, { address: 'h:p' }]) {
      expect(() => parseEtcdTarget(bad)).toThrow();
    }
  });
});

describe('ClusterPeers: etcd targets (real etcd)', () => {
  const PREFIX = '/signaling/cluster/grpc';
  let etcd: ManagedProcess;
  let client: EtcdClient;
  let writer: EtcdClient;
  let a: Node;
  let b: Node;
  let c: Node;

  beforeAll(async () => {
    etcd = await startEtcd();
    client = (await EtcdClient.create({ endpoints: [etcd.url] }, silentLogger()))!;
    writer = (await EtcdClient.create({ endpoints: [etcd.url] }, silentLogger()))!;
    [a, b, c] = await Promise.all([startNode(), startNode(), startNode()]);
  });
  afterAll(async () => {
    client?.close();
    writer?.close();
    await Promise.all([a, b, c].map((n) => n?.server.close()));
    await etcd?.stop();
  });

  it('follows keys: add, self, bad JSON, address change, delete; keeps targets while etcd is down', async () => {
    await writer.etcd3.put(`${PREFIX}/a`).value(JSON.stringify({ address: a.address }));
    await writer.etcd3.put(`${PREFIX}/b`).value(JSON.stringify({ address: `${b.address}/` }));
    await writer.etcd3.put(`${PREFIX}/garbage`).value('{"address":');
    const peers = new ClusterPeers({ grpc: { targettype: 'etcd', targetprefix: PREFIX }, serverId: a.id, version: 'v1', etcd: client, logger: silentLogger(), selfCheckRetryMs: FAST_RETRY });
    try {
      await peers.ready();
      await peers.selfChecked();
      expect(labels(peers)).toEqual([b.address]);

      await writer.etcd3.put(`${PREFIX}/c`).value(JSON.stringify({ address: c.address }));
      await waitFor(() => labels(peers).includes(c.address), { timeout: 10_000, name: 'c added' });
      // A second key for the same address shares the connection; removing one keeps it.
      await writer.etcd3.put(`${PREFIX}/c-alias`).value(JSON.stringify({ address: c.address }));
      await writer.etcd3.delete().key(`${PREFIX}/c-alias`);
      await writer.etcd3.put(`${PREFIX}/marker`).value(JSON.stringify({ address: '127.0.0.1:1' }));
      await waitFor(() => peers.targets.includes('127.0.0.1:1'), { timeout: 10_000, name: 'marker' });
      expect(labels(peers)).toContain(c.address);

      // Address change = remove + add.
      await writer.etcd3.put(`${PREFIX}/marker`).value(JSON.stringify({ address: '127.0.0.1:2' }));
      await waitFor(() => peers.targets.includes('127.0.0.1:2') && !peers.targets.includes('127.0.0.1:1'), { timeout: 10_000, name: 'marker moved' });

      await writer.etcd3.delete().key(`${PREFIX}/b`);
      await waitFor(() => !labels(peers).includes(b.address), { timeout: 10_000, name: 'b removed' });

      etcd.kill();
      await new Promise((r) => setTimeout(r, 300));
      expect(labels(peers)).toEqual([c.address, '127.0.0.1:2'].sort());
      await etcd.restart();
      await writer.etcd3.put(`${PREFIX}/b`).value(JSON.stringify({ address: b.address }));
      await waitFor(() => labels(peers).includes(b.address), { timeout: 20_000, name: 'b back after etcd restart' });
      expect(labels(peers)).toEqual([b.address, c.address, '127.0.0.1:2'].sort());
      expect(await peers.firstResult((peer, opts) => peer.getServerId({ ...opts, timeoutMs: 500 }).then((r) => (r.serverId === c.id ? r.serverId : undefined)))).toBe(c.id);
    } finally {
      peers.close();
      await writer.etcd3.delete().prefix(PREFIX);
    }
  });

  it('needs an etcd client and a prefix', () => {
    expect(() => new ClusterPeers({ grpc: { targettype: 'etcd', targetprefix: PREFIX }, serverId: 'x', version: 'v', logger: silentLogger() })).toThrow(/needs \[etcd\]/);
    expect(() => new ClusterPeers({ grpc: { targettype: 'etcd' }, serverId: 'x', version: 'v', etcd: client, logger: silentLogger() })).toThrow(/targetprefix/);
  });
});
