// The container images of deploy/<app>/Dockerfile, built with podman/buildah on the local base
// image (no registry) and run on the host network: the signaling image serves a real client,
// the bench-client image puts a short load on the signaling container.
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { buildAppImage, ensureBaseImage, podman, podmanOk } from './podman';
import { expectBenchLoad, expectHello, expectWelcome } from './container-checks';
import { startSignalingContainer, type SignalingContainer } from './signaling-container';

describe('container images', () => {
  let nextcloud: FakeNextcloud;
  let signalingImage: string;
  let benchImage: string;
  let signaling: SignalingContainer;

  beforeAll(async () => {
    const base = await ensureBaseImage();
    signalingImage = await buildAppImage('signaling', base);
    benchImage = await buildAppImage('bench-client', base);
    nextcloud = await startFakeNextcloud({ secret: 'deploy-test-backend-secret', open: true });
    signaling = await startSignalingContainer(signalingImage, { url: nextcloud.url, secret: nextcloud.secret });
  }, 12 * 60_000);

  afterAll(async () => {
    await signaling?.remove();
    await nextcloud?.close();
  }, 60_000);

  describe('signaling image', () => {
    it('holds the bundle and only the production packages it loads, owned by root, run as uid 1000', async () => {
      const listing = await podmanOk(['run', '--rm', '--entrypoint=/bin/sh', signalingImage, '-c',
        'id -u; ls /app; ls /app/node_modules; stat -c %u /app/main.js; command -v npm || echo no-npm']);
      const lines = listing.trim().split('\n');
      expect(lines[0]).toBe('1000');
      expect(lines).toEqual(expect.arrayContaining(['main.js', 'main.js.map', 'node_modules', 'package.json', 'ws', 'pino', 'prom-client', 'no-npm']));
      // Dev dependencies and workspace sources stay out.
      for (const devOnly of ['typescript', 'esbuild', 'jest', 'nx', 'src', 'apps', 'libs']) expect(lines).not.toContain(devOnly);
      expect(lines.at(-2)).toBe('0');
    });

    it('answers /api/v1/welcome', async () => {
      await expectWelcome(signaling.baseUrl);
    });

    it('authenticates a hello through the Nextcloud on the host', async () => {
      await expectHello(signaling.wsUrl, nextcloud, 'container-user');
    });

    it('passes its HEALTHCHECK', async () => {
      const inspect = await podmanOk(['image', 'inspect', '--format={{json .HealthCheck}}', signalingImage]);
      expect(inspect).toContain('HEALTHCHECK_URL');
      const health = await podman(['healthcheck', 'run', signaling.container.name]);
      expect(health).toMatchObject({ code: 0 });
    });
  });

  describe('bench-client image', () => {
    it('runs a short load against the signaling container and prints a consistent summary', async () => {
      await expectBenchLoad(benchImage, signaling.port, nextcloud, 20);
    });
  });

  describe('shutdown', () => {
    it('stops on SIGTERM by itself (exit code 0, no SIGKILL needed)', async () => {
      // Last: the other tests use this container.
      expect(await signaling.container.stop(15)).toBe(0);
    });
  });
});
