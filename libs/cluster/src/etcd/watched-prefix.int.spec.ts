import { FaultProxy, startEtcd, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { silentLogger, type Logger } from '@talk-signaling/runtime';
import { EtcdClient } from './etcd-client';
import { jsonValue } from './value-decoder';
import type { WatchedPrefix } from './watched-prefix';

jest.setTimeout(60_000);

const PREFIX = '/signaling/cluster/grpc/';

interface Target {
  address: string;
}

function targetValue(value: unknown): Target {
  if (typeof value !== 'object' || value === null || typeof (value as Target).address !== 'string') {
    throw new Error('address missing');
  }
  return { address: (value as Target).address };
}

/** Records events as lines, in order. */
function record(watch: WatchedPrefix<Target>): string[] {
  const events: string[] = [];
  watch.on('added', (key, v) => events.push(`added ${key} ${v.address}`));
  watch.on('changed', (key, v, prev) => events.push(`changed ${key} ${prev.address}->${v.address}`));
  watch.on('removed', (key, prev) => events.push(`removed ${key} ${prev.address}`));
  watch.on('synced', () => events.push('synced'));
  watch.on('lost', () => events.push('lost'));
  return events;
}

/** A logger that keeps warn lines (messages and their objects) for assertions. */
function capturingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const base = silentLogger();
  const logger: Logger = {
    ...base,
    warn: (obj: object | string, msg?: string) => warnings.push(typeof obj === 'string' ? obj : `${msg ?? ''} ${JSON.stringify(obj)}`),
    child: () => logger,
  } as Logger;
  return { logger, warnings };
}

describe('WatchedPrefix (real etcd)', () => {
  let etcd: ManagedProcess;
  let writer: EtcdClient;

  beforeAll(async () => {
    etcd = await startEtcd();
    writer = (await EtcdClient.create({ endpoints: [etcd.url] }, silentLogger()))!;
  });
  afterAll(async () => {
    writer?.close();
    await etcd?.stop();
  });
  afterEach(async () => {
    await waitFor(async () => (await writer.etcd3.delete().prefix(PREFIX), true), { timeout: 10_000, name: 'cleanup' });
  });

  it('is not created without endpoints', async () => {
    expect(await EtcdClient.create({ endpoints: [] }, silentLogger())).toBeUndefined();
    expect(await EtcdClient.create({}, silentLogger())).toBeUndefined();
  });

  it('reads existing keys, then follows puts and deletes; ignores keys outside the prefix', async () => {
    await writer.etcd3.put(`${PREFIX}one`).value(JSON.stringify({ address: '127.0.0.1:1001' }));
    await writer.etcd3.put('/signaling/cluster/grpcX').value(JSON.stringify({ address: 'outside' }));
    const client = (await EtcdClient.create({ endpoints: [`127.0.0.1:${etcd.port}`] }, silentLogger()))!;
    try {
      const watch = client.watchPrefix(PREFIX, { decode: jsonValue(targetValue) });
      const events = record(watch);
      await watch.ready();
      expect(events).toEqual([`added ${PREFIX}one 127.0.0.1:1001`, 'synced']);
      expect(watch.state).toBe('watching');

      await writer.etcd3.put(`${PREFIX}two`).value(JSON.stringify({ address: '127.0.0.1:1002' }));
      await writer.etcd3.put(`${PREFIX}one`).value(JSON.stringify({ address: '127.0.0.1:2001' }));
      // Same bytes again: no event.
      await writer.etcd3.put(`${PREFIX}one`).value(JSON.stringify({ address: '127.0.0.1:2001' }));
      await writer.etcd3.delete().key(`${PREFIX}two`);
      await writer.etcd3.delete().key(`${PREFIX}never-existed`);
      await waitFor(() => events.length >= 5, { timeout: 10_000, name: 'watch events' });
      expect(events.slice(2)).toEqual([
        `added ${PREFIX}two 127.0.0.1:1002`,
        `changed ${PREFIX}one 127.0.0.1:1001->127.0.0.1:2001`,
        `removed ${PREFIX}two 127.0.0.1:1002`,
      ]);
      expect([...watch.entries()]).toEqual([[`${PREFIX}one`, { address: '127.0.0.1:2001' }]]);
      expect(watch.get(`${PREFIX}one`)).toEqual({ address: '127.0.0.1:2001' });
    } finally {
      client.close();
    }
  });

  it('logs and ignores bad JSON, invalid and oversized values; a known key keeps its last valid value', async () => {
    await writer.etcd3.put(`${PREFIX}garbage`).value('{not json');
    await writer.etcd3.put(`${PREFIX}good`).value(JSON.stringify({ address: '127.0.0.1:1' }));
    const { logger, warnings } = capturingLogger();
    const client = (await EtcdClient.create({ endpoints: [etcd.url] }, logger))!;
    try {
      const watch = client.watchPrefix(PREFIX, { decode: jsonValue(targetValue), maxValueBytes: 100 });
      const events = record(watch);
      await watch.ready();
      expect(events).toEqual([`added ${PREFIX}good 127.0.0.1:1`, 'synced']);

      await writer.etcd3.put(`${PREFIX}good`).value(JSON.stringify({ address: 42 }));
      await writer.etcd3.put(`${PREFIX}good`).value(JSON.stringify({ address: 'x'.repeat(200) }));
      await writer.etcd3.put(`${PREFIX}good`).value('\u0000\u00ff');
      await writer.etcd3.put(`${PREFIX}marker`).value(JSON.stringify({ address: 'marker' }));
      await waitFor(() => events.includes(`added ${PREFIX}marker marker`), { timeout: 10_000, name: 'marker' });
      expect(events).toEqual([`added ${PREFIX}good 127.0.0.1:1`, 'synced', `added ${PREFIX}marker marker`]);
      expect(watch.get(`${PREFIX}good`)).toEqual({ address: '127.0.0.1:1' });
      expect(watch.get(`${PREFIX}garbage`)).toBeUndefined();
      const invalid = warnings.filter((w) => w.includes('ignoring invalid etcd value'));
      expect(invalid).toHaveLength(4);
      expect(invalid.join('\n')).toContain('exceeds 100');
      expect(invalid.join('\n')).toContain('address missing');
    } finally {
      client.close();
    }
  });

  it('a throwing listener does not stop the watch', async () => {
    const client = (await EtcdClient.create({ endpoints: [etcd.url] }, silentLogger()))!;
    try {
      const watch = client.watchPrefix(PREFIX, { decode: jsonValue(targetValue) });
      watch.once('added', () => {
        throw new Error('listener bug');
      });
      const events = record(watch);
      await watch.ready();
      await writer.etcd3.put(`${PREFIX}a`).value(JSON.stringify({ address: 'a' }));
      await writer.etcd3.put(`${PREFIX}b`).value(JSON.stringify({ address: 'b' }));
      await waitFor(() => events.includes(`added ${PREFIX}b b`), { timeout: 10_000, name: 'second key' });
    } finally {
      client.close();
    }
  });

  it('keeps the last known values while etcd is unreachable and resyncs when it is back', async () => {
    const proxy = await FaultProxy.start({ port: etcd.port, url: etcd.url });
    const client = (await EtcdClient.create({ endpoints: [proxy.url.replace('tcp:', 'http:')] }, silentLogger()))!;
    try {
      await writer.etcd3.put(`${PREFIX}stays`).value(JSON.stringify({ address: 's' }));
      await writer.etcd3.put(`${PREFIX}goes`).value(JSON.stringify({ address: 'g' }));
      await writer.etcd3.put(`${PREFIX}changes`).value(JSON.stringify({ address: 'c1' }));
      const watch = client.watchPrefix(PREFIX, { decode: jsonValue(targetValue), retryInitialMs: 100, retryMaxMs: 400 });
      const events = record(watch);
      await watch.ready();
      expect(watch.size).toBe(3);

      proxy.suspend();
      await waitFor(() => events.includes('lost'), { timeout: 10_000, name: 'watch lost' });
      // Changes this node cannot see while its link is down.
      await writer.etcd3.delete().key(`${PREFIX}goes`);
      await writer.etcd3.put(`${PREFIX}changes`).value(JSON.stringify({ address: 'c2' }));
      await writer.etcd3.put(`${PREFIX}new`).value(JSON.stringify({ address: 'n' }));
      expect(watch.state).toBe('syncing');
      expect(watch.size).toBe(3);
      expect(watch.get(`${PREFIX}goes`)).toEqual({ address: 'g' });

      const before = events.length;
      proxy.unsuspend();
      await waitFor(() => watch.state === 'watching', { timeout: 15_000, name: 'resync' });
      expect(events.slice(before).filter((e) => e !== 'lost').sort()).toEqual(
        [`added ${PREFIX}new n`, `changed ${PREFIX}changes c1->c2`, `removed ${PREFIX}goes g`, 'synced'].sort(),
      );
      // And the new watch works.
      await writer.etcd3.put(`${PREFIX}after`).value(JSON.stringify({ address: 'a' }));
      await waitFor(() => watch.get(`${PREFIX}after`), { timeout: 10_000, name: 'put after resync' });
    } finally {
      client.close();
      await proxy.close();
    }
  });

  it('survives etcd being killed and restarted', async () => {
    const client = (await EtcdClient.create({ endpoints: [etcd.url] }, silentLogger()))!;
    try {
      await writer.etcd3.put(`${PREFIX}one`).value(JSON.stringify({ address: '1' }));
      const watch = client.watchPrefix(PREFIX, { decode: jsonValue(targetValue), retryInitialMs: 100, retryMaxMs: 400 });
      const events = record(watch);
      await watch.ready();

      etcd.kill();
      await waitFor(() => events.includes('lost'), { timeout: 10_000, name: 'watch lost' });
      expect(watch.get(`${PREFIX}one`)).toEqual({ address: '1' });
      await etcd.restart();

      await waitFor(() => events.filter((e) => e === 'synced').length >= 2, { timeout: 20_000, name: 'resync after restart' });
      await writer.etcd3.put(`${PREFIX}two`).value(JSON.stringify({ address: '2' }));
      await waitFor(() => watch.get(`${PREFIX}two`), { timeout: 10_000, name: 'put after restart' });
      expect(watch.get(`${PREFIX}one`)).toEqual({ address: '1' });
    } finally {
      client.close();
    }
  });

  it('waits for an etcd that is down at start', async () => {
    const proxy = await FaultProxy.start({ port: etcd.port });
    proxy.suspend();
    const client = (await EtcdClient.create({ endpoints: [`127.0.0.1:${proxy.port}`] }, silentLogger()))!;
    try {
      await writer.etcd3.put(`${PREFIX}x`).value(JSON.stringify({ address: 'x' }));
      const watch = client.watchPrefix(PREFIX, { decode: jsonValue(targetValue), retryInitialMs: 100, retryMaxMs: 400 });
      let ready = false;
      void watch.ready().then(() => (ready = true));
      await expect(client.getPrefix(PREFIX)).rejects.toThrow();
      expect(ready).toBe(false);
      expect(watch.state).toBe('syncing');
      proxy.unsuspend();
      await watch.ready();
      expect(watch.get(`${PREFIX}x`)).toEqual({ address: 'x' });
    } finally {
      client.close();
      await proxy.close();
    }
  });

  it('close() stops events and keeps values readable', async () => {
    const client = (await EtcdClient.create({ endpoints: [etcd.url] }, silentLogger()))!;
    await writer.etcd3.put(`${PREFIX}k`).value(JSON.stringify({ address: 'k' }));
    const watch = client.watchPrefix(PREFIX, { decode: jsonValue(targetValue) });
    await watch.ready();
    client.close();
    expect(watch.closed).toBe(true);
    expect(watch.get(`${PREFIX}k`)).toEqual({ address: 'k' });
    expect(() => client.watchPrefix(PREFIX, { decode: jsonValue() })).toThrow(/closed/);
  });
});
