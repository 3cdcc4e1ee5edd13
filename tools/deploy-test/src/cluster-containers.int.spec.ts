// Two signaling containers clustered through a NATS container (Debian's nats-server), all on
// the host network: a client on one messages a client on the other, both see each other join
// a room, and a backend room message posted to either container reaches the members on both.
// What a two-replica Deployment with a shared NATS does, with the images CI builds.
import { freePort, waitFor, type TestClient } from '@talk-signaling/testing';
import { expectMessageAcross, expectRoomMessage, helloUser, joinBoth, type DeployUser } from './cluster-checks';
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

  const user = (node: SignalingContainer, userid: string): Promise<DeployUser> => helloUser(nextcloud, node.wsUrl, userid, clients);

  it('delivers a session message from a client on one container to a client on the other', async () => {
    await expectMessageAcross(await user(nodes[0]!, 'alice'), await user(nodes[1]!, 'bob'), { hi: 'bob' });
  });

  it('shows joins across containers and applies a backend room message posted to either to the members on both', async () => {
    const dan = await user(nodes[0]!, 'dan');
    const eve = await user(nodes[1]!, 'eve');
    await joinBoth(nextcloud, 'deploy-room', dan, eve);
    for (const node of nodes) {
      const res = await nextcloud.backendRequest(node.baseUrl, 'deploy-room', { type: 'message', message: { data: { via: node.port } } });
      expect(res.status).toBe(200);
      await expectRoomMessage([dan, eve], 'deploy-room', { via: node.port });
    }
  });
});
