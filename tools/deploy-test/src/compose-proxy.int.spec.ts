// deploy/compose/compose.yaml plus compose.proxy.yaml with podman-compose: the signaling server
// reaches Janus through the MCU proxy container ([mcu] type = proxy, token key from the shared
// config folder), and a client still authenticates through the stack.
import { TestClient, waitFor } from '@talk-signaling/testing';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { statusOf } from './processes';
import { startComposeStack, type ComposeStack } from './compose-stack';

describe('compose stack with the MCU proxy (podman-compose)', () => {
  let nextcloud: FakeNextcloud;
  let stack: ComposeStack;

  beforeAll(async () => {
    nextcloud = await startFakeNextcloud({ secret: 'deploy-test-backend-secret', open: true });
    stack = await startComposeStack(nextcloud, { withProxy: true });
  }, 15 * 60_000);

  afterAll(async () => {
    await stack?.down();
    await nextcloud?.close();
  }, 150_000);

  it('runs the proxy, connected to Janus', async () => {
    await waitFor(async () => (await statusOf(`${stack.proxyUrl}ready`)) === 200, { timeout: 30_000, name: 'mcu-proxy /ready (Janus connected)' });
    expect(await (await fetch(`${stack.proxyUrl}welcome`)).json()).toEqual({ 'nextcloud-spreed-signaling-proxy': 'Welcome', version: expect.any(String) });
  });

  it('connects the signaling server to the proxy with its token', async () => {
    await waitFor(
      async () => {
        const metrics = await (await fetch(`${stack.baseUrl}metrics`)).text();
        expect(metrics).toMatch(/^signaling_mcu_backend_connections(\{[^}]*\})? 1$/m);
        return true;
      },
      { timeout: 30_000, name: 'signaling_mcu_backend_connections 1' },
    );
  });

  it('authenticates a client through the stack and offers the MCU', async () => {
    const client = await TestClient.connect(`ws://${new URL(stack.baseUrl).host}/spreed`);
    try {
      await client.next('welcome');
      const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser('proxy-user') });
      expect(reply).toMatchObject({ type: 'hello', hello: { userid: 'proxy-user', server: { features: expect.arrayContaining(['mcu']) } } });
    } finally {
      client.close();
    }
  });
});
