// The Dockerfiles' default path, APP_FROM=source, as users build it: `npm ci` from the npm
// registry, the bundle and the staging all inside the build (deploy/image-build.mjs), on a
// base with npm where node:20-bookworm-slim has it. The other suites build APP_FROM=staged.
// The three images share one install layer (built first); then each runs: signaling serves
// welcome and a hello, the proxy its /welcome, the bench client a short load against the
// signaling one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '@talk-signaling/testing';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { buildAppImageFromSource, buildWorkspaceDepsImage, ensureNpmBaseImage, podmanOk, startContainer, type Container } from './podman';
import { statusOf } from './processes';
import { makeProxyTokenKey, mcuProxyConf } from './proxy-conf';
import { expectBenchLoad, expectHello, expectWelcome } from './container-checks';
import { startSignalingContainer, type SignalingContainer } from './signaling-container';

describe('images built from source (APP_FROM=source)', () => {
  let npmBase: string;
  let nextcloud: FakeNextcloud;
  let signalingImage: string;
  let signaling: SignalingContainer;

  beforeAll(async () => {
    npmBase = await ensureNpmBaseImage();
    await buildWorkspaceDepsImage(npmBase);
    signalingImage = await buildAppImageFromSource('signaling', npmBase);
    nextcloud = await startFakeNextcloud({ secret: 'deploy-test-source-secret', open: true });
    signaling = await startSignalingContainer(signalingImage, { url: nextcloud.url, secret: nextcloud.secret });
  }, 15 * 60_000);

  afterAll(async () => {
    await signaling?.remove();
    await nextcloud?.close();
  }, 60_000);

  describe('signaling', () => {
    it('was built on a base with npm, and its runtime has the bundle and production packages but no package manager', async () => {
      // The base's npm is what the build stages ran `npm ci` with.
      expect((await podmanOk(['run', '--rm', '--entrypoint=npm', npmBase, '--version'])).trim()).toMatch(/^\d+\.\d+\.\d+$/);
      const listing = await podmanOk(['run', '--rm', '--entrypoint=/bin/sh', signalingImage, '-c',
        'id -u; ls /app; ls /app/node_modules; for t in npm npx; do command -v $t || echo no-$t; done; ls /usr/local/lib/node_modules 2>/dev/null || echo no-global-modules']);
      const lines = listing.trim().split('\n');
      expect(lines[0]).toBe('1000');
      expect(lines).toEqual(expect.arrayContaining(['main.js', 'main.js.map', 'node_modules', 'package.json', 'ws', 'pino', 'prom-client', 'no-npm', 'no-npx', 'no-global-modules']));
      for (const devOnly of ['typescript', 'esbuild', 'jest', 'nx', 'src', 'apps', 'libs']) expect(lines).not.toContain(devOnly);
    });

    it('answers /api/v1/welcome', async () => {
      await expectWelcome(signaling.baseUrl);
    });

    it('authenticates a hello through the Nextcloud on the host', async () => {
      await expectHello(signaling.wsUrl, nextcloud, 'source-user');
    });
  });

  describe('mcu-proxy', () => {
    let dir: string;
    let container: Container;

    afterAll(async () => {
      await container?.remove();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('answers /welcome (no Janus behind it: /ready stays 503)', async () => {
      const image = await buildAppImageFromSource('mcu-proxy', npmBase);
      dir = mkdtempSync(path.join(tmpdir(), 'deploy-test-source-proxy-'));
      const key = makeProxyTokenKey(dir, 'server1');
      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}/`;
      // A Janus URL where nothing listens: the proxy keeps retrying and stays up.
      writeFileSync(path.join(dir, 'proxy.conf'), mcuProxyConf(port, `ws://127.0.0.1:${await freePort()}`, { server1: '/etc/signaling/tokens/server1.pub' }), { mode: 0o644 });
      container = await startContainer(image, {
        mounts: { [path.join(dir, 'proxy.conf')]: '/etc/signaling/proxy.conf', [key.publicKeyFile]: '/etc/signaling/tokens/server1.pub' },
        env: { HEALTHCHECK_URL: `${baseUrl}health`, LOG_LEVEL: 'warn' },
      });
      await waitFor(async () => (await statusOf(`${baseUrl}welcome`)) === 200, { timeout: 30_000, name: 'proxy container /welcome' }).catch(async (error: Error) => {
        throw new Error(`${error.message}\ncontainer output:\n${(await container.logs()).slice(-4000)}`);
      });
      expect(await (await fetch(`${baseUrl}welcome`)).json()).toEqual({ 'nextcloud-spreed-signaling-proxy': 'Welcome', version: expect.any(String) });
      expect(await statusOf(`${baseUrl}ready`)).toBe(503);
    }, 10 * 60_000);
  });

  describe('bench-client', () => {
    it('runs a short load against the signaling container built from source', async () => {
      const image = await buildAppImageFromSource('bench-client', npmBase);
      await expectBenchLoad(image, signaling.port, nextcloud, 10);
    }, 10 * 60_000);
  });
});
