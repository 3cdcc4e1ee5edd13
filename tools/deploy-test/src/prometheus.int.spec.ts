// Prometheus (Debian's binary) scrapes a running signaling server; the metric names and values
// are read back through Prometheus' HTTP API, so the exposition format, the content type and
// the [stats] access rule are checked by the real consumer, not by a parser of our own.
import { TestClient, waitFor } from '@talk-signaling/testing';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { startSignalingProcess, type HostProcess } from './processes';
import { startPrometheus, type PrometheusServer } from './prometheus';

describe('Prometheus scrapes the signaling server', () => {
  let nextcloud: FakeNextcloud;
  let signaling: HostProcess;
  let prometheus: PrometheusServer;
  let client: TestClient;

  beforeAll(async () => {
    nextcloud = await startFakeNextcloud({ secret: 'deploy-test-backend-secret', open: true });
    signaling = await startSignalingProcess({ url: nextcloud.url, secret: nextcloud.secret });
    prometheus = await startPrometheus({ signaling: [`127.0.0.1:${signaling.port}`] });
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
    await nextcloud?.close();
  });

  it('finds the target up', async () => {
    const up = await waitFor(
      async () => {
        const [sample] = await prometheus.query('up{job="signaling"}');
        return sample?.value[1] === '1' ? sample : undefined;
      },
      { timeout: 20_000, name: 'up{job="signaling"} == 1' },
    );
    expect(up.metric).toMatchObject({ job: 'signaling', instance: `127.0.0.1:${signaling.port}` });
  });

  it('lists the server, hub, room and process metrics by name', async () => {
    const expected = [
      'signaling_backend_current',
      'signaling_hub_rooms',
      'signaling_hub_sessions',
      'signaling_hub_sessions_total',
      'signaling_room_sessions',
      'signaling_server_messages_total',
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
});
