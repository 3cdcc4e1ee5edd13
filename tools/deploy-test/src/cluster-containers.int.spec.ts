// Two signaling containers clustered through a NATS container (Debian's nats-server), all on
// the host network: a client on one messages a client on the other, both see each other join
// a room, and a backend room message posted to either container reaches the members on both.
// What a two-replica Deployment with a shared NATS does, with the images CI builds.
import { freePort, TestClient, waitFor } from '@talk-signaling/testing';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { buildAppImage, buildComposeDebianImage, ensureBaseImage, startContainer, type Container } from './podman';
import { startSignalingContainer, type SignalingContainer } from './signaling-container';

describe('two signaling containers clustered through NATS', () => {
  let nextcloud: FakeNextcloud;
  let nats: Container;
  const nodes: SignalingContainer[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    const base = await ensureBaseImage();
    const signalingImage = await buildAppImage('signaling', base);
    const debianImage = await buildComposeDebianImage(base);
    nextcloud = await startFakeNextcloud({ secret: 'deploy-test-backend-secret' });
    const natsPort = await freePort();
    nats = await startContainer(debianImage, { args: ['nats-server', '-a', '127.0.0.1', '-p', String(natsPort)] });
    for (let i = 0; i < 2; i++) {
      nodes.push(await startSignalingContainer(signalingImage, { url: nextcloud.url, secret: nextcloud.secret }, '', `nats://127.0.0.1:${natsPort}`));
    }
    for (const node of nodes) {
      await waitFor(async () => /^signaling_nats_connected 1$/m.test(await (await fetch(`${node.baseUrl}metrics`)).text()), {
        timeout: 30_000,
        name: `${node.baseUrl} connected to NATS`,
      });
    }
  }, 12 * 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const node of nodes) await node.remove();
    await nats?.remove();
    await nextcloud?.close();
  }, 60_000);

  async function user(node: SignalingContainer, userid: string): Promise<{ client: TestClient; sessionid: string }> {
    const client = await TestClient.connect(node.wsUrl);
    clients.push(client);
    await client.next('welcome');
    const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(userid) });
    return { client, sessionid: reply.hello.sessionid as string };
  }

  it('delivers a session message from a client on one container to a client on the other', async () => {
    const alice = await user(nodes[0]!, 'alice');
    const bob = await user(nodes[1]!, 'bob');
    // Bob's subscription reaches the NATS server a moment after his hello; resend until it has.
    const received = await waitFor(
      async () => {
        alice.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: bob.sessionid }, data: { hi: 'bob' } } });
        return bob.client.waitForMessage((m) => m.type === 'message', 500).catch(() => undefined);
      },
      { timeout: 20_000, name: 'message from alice (container 1) to bob (container 2)' },
    );
    expect(received).toEqual({
      type: 'message',
      message: { sender: { type: 'session', sessionid: alice.sessionid, userid: 'alice' }, recipient: { type: 'session', sessionid: bob.sessionid }, data: { hi: 'bob' } },
    });
  });

  it('shows joins across containers and applies a backend room message posted to either to the members on both', async () => {
    nextcloud.setRoom('deploy-room', {});
    const dan = await user(nodes[0]!, 'dan');
    const eve = await user(nodes[1]!, 'eve');
    const sawJoin = (sessionid: string) => (m: { type: string; event?: { join?: Array<{ sessionid: string }> } }) =>
      m.type === 'event' && (m.event?.join ?? []).some((e) => e.sessionid === sessionid);
    expect((await dan.client.joinRoom('deploy-room', 'nc-dan')).type).toBe('room');
    await dan.client.waitForMessage(sawJoin(dan.sessionid));
    expect((await eve.client.joinRoom('deploy-room', 'nc-eve')).type).toBe('room');
    await eve.client.waitForMessage(sawJoin(dan.sessionid));
    await dan.client.waitForMessage(sawJoin(eve.sessionid));

    for (const node of nodes) {
      const res = await nextcloud.backendRequest(node.baseUrl, 'deploy-room', { type: 'message', message: { data: { via: node.port } } });
      expect(res.status).toBe(200);
      const expected = { type: 'event', event: { target: 'room', type: 'message', message: { roomid: 'deploy-room', data: { via: node.port } } } };
      const isIt = (m: { type: string; event?: { type?: string } }) => m.type === 'event' && m.event?.type === 'message';
      expect(await dan.client.waitForMessage(isIt)).toEqual(expected);
      expect(await eve.client.waitForMessage(isIt)).toEqual(expected);
    }
  });
});
