import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger } from '@talk-signaling/runtime';
import { TestClient, waitFor, writeProxyTokenKey } from '@talk-signaling/testing';
import { loadServerConfig } from '../src/config';
import { SignalingServer } from '../src/signaling-server';
import { startTestSetup } from './test-server';

const README = path.resolve(__dirname, '../../../README.md');

/** The metric names in the README's metrics list (between the `metrics` markers). */
function readmeNames(): string[] {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf('<!-- metrics:start -->');
  const end = text.indexOf('<!-- metrics:end -->');
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  return [...new Set([...text.slice(start, end).matchAll(/`(signaling_[a-z_]+)`/g)].map((m) => m[1]!))].sort();
}

/** Names registered by a server built from `extra` config (constructed only: metrics exist from then on). */
async function registeredNames(extra: string): Promise<string[]> {
  const base = ['[http]', 'listen = 127.0.0.1:0', '[sessions]', 'hashkey = metrics-test-hashkey-0123456789abcd', '[backend]', 'allowall = true', 'secret = metrics-secret'];
  const registry = new Registry();
  const server = new SignalingServer(loadServerConfig([...base, extra].join('\n'), {}).config, { log: silentLogger(), registry });
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
  await server.stop();
  return names;
}

describe('metric names', () => {
  it('are exactly the README list: what /metrics exposes plus what the MCU, NATS and gRPC configurations add', async () => {
    const setup = await startTestSetup();
    const body = await (await fetch(`${setup.baseUrl}metrics`)).text();
    await setup.stop();
    const exposed = new Set([...body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    expect(exposed.size).toBeGreaterThan(20);

    const key = await writeProxyTokenKey(mkdtempSync(path.join(tmpdir(), 'talk-metrics-')));
    for (const extra of [
      '[mcu]\ntype = janus\nurl = ws://127.0.0.1:9/',
      `[mcu]\ntype = proxy\nurl = http://127.0.0.1:9/\ntoken_id = ${key.tokenId}\ntoken_key = ${key.privateKeyPath}`,
      '[nats]\nurl = nats://127.0.0.1:9',
      '[grpc]\nlisten = 127.0.0.1:0',
    ]) {
      for (const name of await registeredNames(extra)) exposed.add(name);
    }
    expect([...exposed].sort()).toEqual(readmeNames());
  });
});

describe('upstream v2.1 call and client metrics', () => {
  it('count sessions in a call, rooms with a call, client frames, bytes and ping round trips', async () => {
    const setup = await startTestSetup({ roomEventBatchMs: 5 });
    try {
      setup.nextcloud.setRoom('call-room', {});
      const value = async (name: string, labels: Record<string, string> = {}) => {
        const metric = await setup.server.registry.getSingleMetric(name)!.get();
        const match = metric.values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l) && !('le' in v.labels));
        return match.reduce((sum, v) => sum + v.value, 0);
      };
      const clients: TestClient[] = [];
      for (const user of ['call-a', 'call-b']) {
        const client = await TestClient.connect(setup.wsUrl);
        await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(user) });
        await client.joinRoom('call-room', `nc-${user}`);
        clients.push(client);
      }
      const incall = (flags: number) => setup.nextcloud.backendRequest(setup.baseUrl, 'call-room', { type: 'incall', incall: { incall: flags, all: true } });
      expect((await incall(7)).status).toBe(200);
      await waitFor(async () => (await value('signaling_call_sessions')) === 2, { timeout: 5_000, name: 'two in the call' });
      expect(await value('signaling_call_sessions', { backend: 'nc1', room: 'call-room', clienttype: 'client' })).toBe(2);
      expect(await value('signaling_call_sessions_total', { backend: 'nc1', clienttype: 'client' })).toBe(2);
      expect(await value('signaling_call_rooms_total', { backend: 'nc1' })).toBe(1);
      expect((await incall(0)).status).toBe(200);
      await waitFor(async () => (await value('signaling_call_sessions')) === 0, { timeout: 5_000, name: 'call over' });
      // The room's series goes with the end of its call; a new call counts a new call room.
      expect((await setup.server.registry.getSingleMetric('signaling_call_sessions')!.get()).values).toEqual([]);
      expect((await incall(1)).status).toBe(200);
      await waitFor(async () => (await value('signaling_call_rooms_total')) === 2, { timeout: 5_000, name: 'second call' });

      expect(await value('signaling_client_messages_total', { direction: 'incoming' })).toBeGreaterThanOrEqual(4); // 2 × hello + room
      expect(await value('signaling_client_messages_total', { direction: 'outgoing' })).toBeGreaterThanOrEqual(6); // welcome, hello, room
      expect(await value('signaling_client_bytes_total', { direction: 'incoming' })).toBeGreaterThan(200);
      // The first ping goes out on accept; the clients' pongs give round trips.
      await waitFor(async () => (await setup.server.registry.getSingleMetric('signaling_client_rtt')!.get()).values.some((v) => (v as { metricName?: string }).metricName === 'signaling_client_rtt_count' && v.value >= 2), {
        timeout: 5_000,
        name: 'rtt observed',
      });
      for (const c of clients) await c.bye();
    } finally {
      await setup.stop();
    }
  });
});
