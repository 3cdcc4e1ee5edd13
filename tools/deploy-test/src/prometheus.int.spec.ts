// Prometheus (Debian's binary) scrapes a running chain: signaling server -> mcu-proxy -> Janus
// (the server's [mcu] type = proxy), the server also on a real NATS and with its gRPC server on. Metric names and values are read back through Prometheus'
// HTTP API, so the exposition format, the content type and the [stats] access rule are checked
// by the real consumer. The Grafana dashboard's queries run against the same data.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startJanus, startNatsServer, TestClient, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { startMcuProxyProcess, startSignalingProcess, type HostProcess } from './processes';
import { makeProxyTokenKey } from './proxy-conf';
import { allPanels, dashboardExprs, exposedFamilies, metricNamesOf, pendingMetrics, readDashboard, runnableExpr } from './grafana-dashboard';
import { startPrometheus, type PrometheusServer } from './prometheus';

describe('Prometheus scrapes the signaling server and the mcu-proxy', () => {
  let nextcloud: FakeNextcloud;
  let signaling: HostProcess;
  let janus: ManagedProcess;
  let nats: ManagedProcess;
  let keyDir: string;
  let proxy: HostProcess;
  let prometheus: PrometheusServer;
  let client: TestClient;

  beforeAll(async () => {
    nextcloud = await startFakeNextcloud({ secret: 'deploy-test-backend-secret', open: true });
    janus = await startJanus();
    keyDir = mkdtempSync(path.join(tmpdir(), 'deploy-test-keys-'));
    const key = makeProxyTokenKey(keyDir, 'server1');
    proxy = await startMcuProxyProcess(janus.url, { server1: key.publicKeyFile });
    nats = await startNatsServer();
    signaling = await startSignalingProcess(
      { url: nextcloud.url, secret: nextcloud.secret },
      [
        '[mcu]', 'type = proxy', `url = ${proxy.baseUrl}`, 'token_id = server1', `token_key = ${key.privateKeyFile}`,
        '[grpc]', `listen = 127.0.0.1:${await freePort()}`,
      ].join('\n'),
      nats.url,
    );
    prometheus = await startPrometheus({ signaling: [`127.0.0.1:${signaling.port}`], 'mcu-proxy': [`127.0.0.1:${proxy.port}`] });
    // One user session in one room, so the per-backend and per-room series have samples.
    client = await TestClient.connect(`ws://127.0.0.1:${signaling.port}/spreed`);
    await client.next('welcome');
    await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser('scraped-user') });
    await client.joinRoom('scraped-room');
  });

  afterAll(async () => {
    client?.close();
    await prometheus?.stop();
    await signaling?.stop();
    await proxy?.stop();
    await janus?.stop();
    await nats?.stop();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    await nextcloud?.close();
  });

  it('finds both targets up', async () => {
    const up = await waitFor(
      async () => {
        const samples = await prometheus.query('up == 1');
        return samples.length === 2 ? samples : undefined;
      },
      { timeout: 20_000, name: 'up == 1 for both jobs' },
    );
    expect(up.map((sample) => sample.metric).sort((a, b) => a['job']!.localeCompare(b['job']!))).toEqual([
      expect.objectContaining({ job: 'mcu-proxy', instance: `127.0.0.1:${proxy.port}` }),
      expect.objectContaining({ job: 'signaling', instance: `127.0.0.1:${signaling.port}` }),
    ]);
  });

  it('lists the server, hub, room and process metrics by name', async () => {
    const expected = [
      'signaling_backend_current',
      'signaling_hub_rooms',
      'signaling_hub_sessions',
      'signaling_hub_sessions_total',
      'signaling_room_sessions',
      'signaling_server_messages_total',
      'signaling_nats_connected',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ];
    const names = await waitFor(
      async () => {
        const current = await prometheus.metricNames();
        return expected.every((name) => current.includes(name)) ? current : undefined;
      },
      { timeout: 20_000, name: `Prometheus to hold ${expected.join(', ')}` },
    );
    expect(names).toEqual(expect.arrayContaining(expected));
  });

  it('lists the proxy metrics and the proxy process metrics', async () => {
    const proxyNames = await waitFor(
      async () => {
        const result = await prometheus.query('count by (__name__) ({job="mcu-proxy", __name__=~"signaling_proxy_.*"})');
        const names = result.map((sample) => sample.metric['__name__']!);
        return names.includes('signaling_proxy_sessions') ? names : undefined;
      },
      { timeout: 20_000, name: 'signaling_proxy_* series of job mcu-proxy' },
    );
    expect(proxyNames.every((name) => name.startsWith('signaling_proxy_'))).toBe(true);
    const [cpu] = await prometheus.query('process_cpu_seconds_total{job="mcu-proxy"}');
    expect(Number(cpu?.value[1])).toBeGreaterThan(0);
  });

  it('shows the signaling server connected to the proxy', async () => {
    const [connections] = await waitFor(
      async () => {
        const result = await prometheus.query('signaling_mcu_backend_connections{job="signaling"}');
        return result[0]?.value[1] === '1' ? result : undefined;
      },
      { timeout: 20_000, name: 'signaling_mcu_backend_connections == 1' },
    );
    expect(connections!.metric).toMatchObject({ job: 'signaling' });
    const [load] = await prometheus.query('signaling_mcu_backend_load{job="signaling"}');
    expect(load?.metric['url']).toContain(`127.0.0.1:${proxy.port}`);
  });

  it('holds the values with their labels', async () => {
    const sessions = await waitFor(
      async () => {
        const result = await prometheus.query('signaling_hub_sessions_total');
        return result.length > 0 ? result : undefined;
      },
      { timeout: 20_000, name: 'signaling_hub_sessions_total' },
    );
    expect(sessions).toEqual([
      { metric: expect.objectContaining({ backend: expect.any(String), clienttype: 'client' }), value: [expect.any(Number), '1'] },
    ]);
    const [backends] = await prometheus.query('signaling_backend_current');
    expect(backends?.value[1]).toBe('1');
  });

  describe('Grafana dashboard (deploy/grafana/talk-signaling.json)', () => {
    const dashboard = readDashboard();

    it('has unique panel ids and takes every query from the data source variable', () => {
      const panels = allPanels(dashboard);
      expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
      expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(['datasource', 'instance']);
      for (const panel of panels.filter((p) => p.type !== 'row')) {
        expect({ title: panel.title, uid: panel.datasource?.uid, queries: panel.targets?.length ?? 0 }).toEqual({ title: panel.title, uid: '${datasource}', queries: expect.any(Number) });
        expect(panel.targets!.length).toBeGreaterThan(0);
      }
    });

    it('runs every query in Prometheus', async () => {
      const exprs = dashboardExprs(dashboard);
      expect(exprs.length).toBeGreaterThan(20);
      for (const expr of exprs) {
        await expect(prometheus.query(runnableExpr(expr))).resolves.toEqual(expect.any(Array));
      }
    });

    it('names only metrics the signaling server or the proxy expose, or that are listed as not exposed yet', async () => {
      const exposed = new Set<string>();
      for (const base of [signaling.baseUrl, proxy.baseUrl]) {
        const res = await fetch(`${base}metrics`);
        expect(res.status).toBe(200);
        for (const family of exposedFamilies(await res.text())) exposed.add(family);
      }
      const pending = pendingMetrics();
      const referenced = new Set(dashboardExprs(dashboard).flatMap(metricNamesOf));
      const unknown = [...referenced].filter((name) => !exposed.has(name) && !pending.has(name));
      expect(unknown).toEqual([]);
      // The README's list stays about this dashboard.
      expect([...pending.keys()].filter((name) => !referenced.has(name))).toEqual([]);
    });
  });
});
