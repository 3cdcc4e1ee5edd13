// deploy/compose/compose.yaml started with Debian's podman-compose 1.0.3 (host network, everything on
// 127.0.0.1 and free ports): the signaling image with NATS, Janus and coturn from Debian's
// packages. A client authenticates through the stack, the server reports NATS and Janus
// connected, and coturn answers a STUN request with the TURN settings the server hands out.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { TestClient, waitFor } from '@talk-signaling/testing';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { PODMAN_SH, run } from './podman';
import { startComposeStack, TURN_APIKEY, type ComposeStack } from './compose-stack';

/** A STUN Binding request (RFC 5389) to 127.0.0.1:port over UDP; resolves with the response's message type. */
function stunBinding(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const transaction = randomBytes(12);
    const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), transaction]);
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no STUN response within 2 s'));
    }, 2_000);
    socket.on('message', (message) => {
      if (message.length < 20 || !message.subarray(8, 20).equals(transaction)) return;
      clearTimeout(timer);
      socket.close();
      resolve(message.readUInt16BE(0));
    });
    socket.send(request, port, '127.0.0.1');
  });
}

describe('compose stack (podman-compose)', () => {
  let nextcloud: FakeNextcloud;
  let stack: ComposeStack;
  let baseUrl: string;
  let project: string;
  let turnPort: number;

  beforeAll(async () => {
    nextcloud = await startFakeNextcloud({ secret: 'deploy-test-backend-secret', open: true });
    stack = await startComposeStack(nextcloud);
    ({ baseUrl, project, turnPort } = stack);
  }, 15 * 60_000);

  afterAll(async () => {
    await stack?.down();
    await nextcloud?.close();
  }, 150_000);

  it('runs the four services', async () => {
    const ps = await run(PODMAN_SH, ['ps', '--filter', `label=io.podman.compose.project=${project}`, '--format', '{{.Names}} {{.Status}}'], { timeoutMs: 30_000 });
    const lines = ps.stdout.trim().split('\n').sort();
    expect(lines).toEqual(['signaling', 'nats', 'janus', 'coturn'].sort().map((service) => expect.stringMatching(new RegExp(`^${project}_${service}_1 Up `))));
  });

  it('authenticates a client through the stack', async () => {
    const client = await TestClient.connect(`ws://127.0.0.1:${new URL(baseUrl).port}/spreed`);
    try {
      await client.next('welcome');
      const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser('compose-user') });
      expect(reply).toMatchObject({ type: 'hello', hello: { userid: 'compose-user', server: { features: expect.arrayContaining(['mcu']) } } });
    } finally {
      client.close();
    }
  });

  it('is connected to NATS and Janus', async () => {
    await waitFor(
      async () => {
        const metrics = await (await fetch(`${baseUrl}metrics`)).text();
        expect(metrics).toMatch(/^signaling_nats_connected 1$/m);
        return true;
      },
      { timeout: 30_000, name: 'signaling_nats_connected 1' },
    );
    const stats = await waitFor(
      async () => {
        const body = (await (await fetch(`${baseUrl}api/v1/stats`)).json()) as { mcu?: { connected?: boolean } };
        expect(body.mcu).toMatchObject({ connected: true });
        return body;
      },
      { timeout: 30_000, name: 'mcu connected in /api/v1/stats' },
    );
    expect(stats.mcu).toMatchObject({ connected: true, url: expect.stringContaining('ws://127.0.0.1:') });
  });

  it('hands out TURN credentials for the coturn service, which answers STUN', async () => {
    const res = await fetch(`${baseUrl}turn/credentials?service=turn&api=${TURN_APIKEY}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ uris: [`turn:127.0.0.1:${turnPort}?transport=udp`], username: expect.any(String), password: expect.any(String) });
    // 0x0101: Binding success response.
    expect(await waitFor(() => stunBinding(turnPort), { timeout: 30_000, name: 'coturn STUN response' })).toBe(0x0101);
  });
});
