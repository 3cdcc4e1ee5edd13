// The stack overlay deploy/stack/k8s played with `podman kube play` (Debian's podman 4.3, host
// network, 127.0.0.1 and free ports), after the transform of kube-play.ts: NATS, etcd, two
// signaling replicas clustered through NATS and gRPC (peers from etcd), one MCU proxy with its
// Janus, config from ConfigMaps and Secrets. A client on one signaling pod messages a client on
// the other, a backend room message posted to either pod reaches the room's members on both,
// and a session resumes through the other pod (found over gRPC); a stopped pod's registration
// sidecar takes it out of the other's gRPC targets.
import { TestClient, waitFor } from '@talk-signaling/testing';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { expectMessageAcross, expectRoomMessage, helloUser, joinBoth, type DeployUser } from './cluster-checks';
import { startKubeStack, type KubeStack } from './kube-stack';

const SIGNALING = ['talk-signaling-0', 'talk-signaling-1'];

describe('deploy/stack/k8s with podman kube play', () => {
  let nextcloud: FakeNextcloud;
  let stack: KubeStack;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    nextcloud = await startFakeNextcloud({ secret: 'deploy-test-backend-secret' });
    stack = await startKubeStack(nextcloud);
  }, 15 * 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await stack?.down();
    await nextcloud?.close();
  }, 150_000);

  const metrics = async (pod: string): Promise<string> => (await fetch(`${stack.url(pod, 'http')}metrics`)).text();

  const user = (pod: string, userid: string): Promise<DeployUser> =>
    helloUser(nextcloud, `${stack.url(pod, 'http').replace('http:', 'ws:')}spreed`, userid, clients);

  it('plays one pod per replica, each container running', async () => {
    expect(stack.play.pods.map((pod) => pod.metadata.name).sort()).toEqual(['talk-etcd-0', 'talk-janus-0', 'talk-mcu-proxy-0', 'talk-nats-0', 'talk-signaling-0', 'talk-signaling-1']);
    const containers = stack.play.pods.flatMap((pod) => pod.spec.containers.map((c: { name: string }) => `${pod.metadata.name}-${c.name}`));
    expect(containers).toContain('talk-signaling-1-grpc-registration');
    const states = await stack.containerStates();
    for (const name of containers) expect([name, states[name]]).toEqual([name, 'running']);
  });

  it('every probe endpoint of the manifests answers (liveness, readiness, start-up)', async () => {
    const kinds = new Set(stack.play.probes.map((p) => `${p.pod}/${p.container}/${p.kind}`));
    for (const pod of SIGNALING) for (const kind of ['startup', 'liveness', 'readiness']) expect(kinds).toContain(`${pod}/signaling/${kind}`);
    expect(kinds).toContain('talk-mcu-proxy-0/mcu-proxy/readiness');
    for (const probe of stack.play.probes) expect([probe, await stack.probeOk(probe)]).toEqual([probe, true]);
  });

  it('the MCU proxy is connected to its Janus (its readiness endpoint says so)', async () => {
    const ready = await (await fetch(`${stack.url('talk-mcu-proxy-0', 'http')}ready`)).json();
    expect(ready).toEqual({ ready: true, janus: true, shutdownScheduled: false });
  });

  it('each signaling replica is connected to NATS, to the other replica over gRPC (from etcd) and to the MCU proxy', async () => {
    for (const pod of SIGNALING) {
      // One wait for the three: a failure names what is still missing.
      await waitFor(
        async () => {
          const text = await metrics(pod);
          const state = {
            nats: /^signaling_nats_connected 1$/m.test(text),
            grpcPeers: /^signaling_grpc_clients (\d+)$/m.exec(text)?.[1],
            proxyConnections: /^signaling_mcu_backend_connections(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1],
          };
          if (state.nats && state.grpcPeers === '1' && state.proxyConnections === '1') return true;
          throw new Error(JSON.stringify(state));
        },
        { timeout: 90_000, name: `${pod} connected to NATS, one gRPC peer and the MCU proxy` },
      );
    }
  }, 200_000);

  it('delivers a session message from a client on one pod to a client on the other', async () => {
    await expectMessageAcross(await user(SIGNALING[0]!, 'alice'), await user(SIGNALING[1]!, 'bob'), { hi: 'bob' });
  });

  it('applies a backend room message posted to either pod to the members on both', async () => {
    const dan = await user(SIGNALING[0]!, 'dan');
    const eve = await user(SIGNALING[1]!, 'eve');
    await joinBoth(nextcloud, 'kube-room', dan, eve);
    for (const pod of SIGNALING) {
      const res = await nextcloud.backendRequest(stack.url(pod, 'http'), 'kube-room', { type: 'message', message: { data: { via: pod } } });
      expect(res.status).toBe(200);
      await expectRoomMessage([dan, eve], 'kube-room', { via: pod });
    }
  });

  it('resumes a session of one pod through the other (looked up over gRPC)', async () => {
    const roamer = await user(SIGNALING[0]!, 'roamer');
    roamer.client.close();
    const resumed = await waitFor(
      async () => {
        const client = await TestClient.connect(`${stack.url(SIGNALING[1]!, 'http').replace('http:', 'ws:')}spreed`);
        clients.push(client);
        await client.next('welcome');
        const reply = await client.resume(roamer.resumeid);
        return reply.type === 'hello' ? reply : undefined;
      },
      { timeout: 20_000, name: 'resume through pod 1' },
    );
    expect(resumed).toMatchObject({ type: 'hello', hello: { sessionid: roamer.sessionid, userid: 'roamer' } });
    // Pod 1 found the session by asking pod 0 over gRPC.
    expect(await metrics(SIGNALING[0]!)).toMatch(/^signaling_grpc_server_calls_total\{method="LookupResumeId"\} [1-9]/m);
  });

  it('a stopped pod leaves the gRPC targets of the other: its sidecar revokes its etcd lease on SIGTERM', async () => {
    const sidecar = `${SIGNALING[1]}-grpc-registration`;
    expect(await stack.logs(SIGNALING[1]!, 'grpc-registration')).toContain(`registered /signaling/cluster/grpc/${SIGNALING[1]} = `);
    await stack.stopPod(SIGNALING[1]!);
    expect((await stack.containerStates())[sidecar]).toBe('exited');
    expect(await stack.exitCode(SIGNALING[1]!, 'grpc-registration')).toBe(0);
    expect(await stack.logs(SIGNALING[1]!, 'grpc-registration')).toContain(`SIGTERM: lease revoked, /signaling/cluster/grpc/${SIGNALING[1]} removed`);
    await waitFor(async () => /^signaling_grpc_clients 0$/m.test(await metrics(SIGNALING[0]!)), { timeout: 30_000, name: `${SIGNALING[0]} without gRPC peers` });
  });
});
