import { TestClient } from '@talk-signaling/testing';
import type { FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { podman } from './podman';

/**
 * What every signaling image must do once started, however it was built (staged on the CI
 * base, or from source as users build it): welcome, a hello through Nextcloud, a bench load.
 */

/** `/api/v1/welcome` answers 200 with the upstream shape. */
export async function expectWelcome(baseUrl: string): Promise<void> {
  const res = await fetch(`${baseUrl}api/v1/welcome`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ 'nextcloud-spreed-signaling': 'Welcome', version: expect.any(String) });
}

/** A client at `wsUrl` gets its welcome and a hello authenticated by `nextcloud` as `userid`. */
export async function expectHello(wsUrl: string, nextcloud: FakeNextcloud, userid: string): Promise<void> {
  const client = await TestClient.connect(wsUrl);
  try {
    await client.next('welcome');
    const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(userid), id: 'h1' });
    expect(reply).toMatchObject({ id: 'h1', type: 'hello', hello: { version: '1.0', userid } });
  } finally {
    client.close();
  }
}

/** The bench-client `image` runs `clients` clients for 2 s against the server on `port`: all connected, nothing lost. */
export async function expectBenchLoad(image: string, port: number, nextcloud: FakeNextcloud, clients: number): Promise<void> {
  const result = await podman(
    ['run', '--rm', '--network=host', image,
      '-addr', `127.0.0.1:${port}`, '-backend', nextcloud.backendUrl,
      '-maxClients', String(clients), '-duration', '2s', '-interval', '1s', '-quiet'],
    120_000,
  );
  expect(result.code).toBe(0);
  const summaryLine = result.stdout.split('\n').find((line) => line.startsWith('{"type":"bench-summary"'));
  expect(summaryLine).toBeDefined();
  const summary = JSON.parse(summaryLine!);
  expect(summary).toMatchObject({ scenario: 'messages', clients, connected: clients, connectFailed: 0, lost: 0 });
  expect(summary.sent).toBeGreaterThan(0);
  expect(summary.recv).toBe(summary.sent);
}
