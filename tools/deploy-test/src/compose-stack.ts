import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '@talk-signaling/testing';
import type { FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { buildAppImage, buildComposeDebianImage, ensureBaseImage, PODMAN_SH, REPO_ROOT, run, type RunResult } from './podman';
import { statusOf } from './processes';
import { makeProxyTokenKey, mcuProxyConf } from './proxy-conf';
import { signalingServerConf } from './server-conf';

/** podman.sh for podman-compose 1.0.3, which adds a bridge network even to network_mode: host services (see the script). */
const COMPOSE_PODMAN = path.join(REPO_ROOT, 'tools/deploy-test/podman-compose-shim.sh');

export const TURN_SECRET = 'compose-test-turn-secret';
export const TURN_APIKEY = 'compose-test-turn-apikey';

export interface ComposeStack {
  project: string;
  /** `http://127.0.0.1:<signaling port>/` */
  baseUrl: string;
  turnPort: number;
  /** The proxy's `http://127.0.0.1:<port>/` with `withProxy`. */
  proxyUrl?: string;
  compose(args: string[], timeoutMs?: number): Promise<RunResult>;
  /** `podman-compose down`, the project network and the config folder. */
  down(): Promise<void>;
}

/**
 * Starts deploy/compose/compose.yaml (plus compose.proxy.yaml with `withProxy`) with
 * podman-compose on free loopback ports: images built first (signaling, mcu-proxy, one Debian
 * image for nats-server, janus and coturn), the shipped Janus config with this run's port,
 * and a generated server.conf (and proxy.conf) in a temporary TALK_CONFIG_DIR. Resolves once
 * the signaling server is ready.
 */
export async function startComposeStack(nextcloud: FakeNextcloud, opts: { withProxy?: boolean } = {}): Promise<ComposeStack> {
  const base = await ensureBaseImage();
  const signalingImage = await buildAppImage('signaling', base);
  const proxyImage = opts.withProxy ? await buildAppImage('mcu-proxy', base) : undefined;
  const debianImage = await buildComposeDebianImage(base);
  const [signalingPort, natsPort, janusPort, turnPort, proxyPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const baseUrl = `http://127.0.0.1:${signalingPort}/`;

  const dir = mkdtempSync(path.join(tmpdir(), 'deploy-test-compose-'));
  // Mounted at /etc/signaling: the containers' uid 1000 must be able to enter it.
  chmodSync(dir, 0o755);
  cpSync(path.join(REPO_ROOT, 'deploy/compose/config.example/janus'), path.join(dir, 'janus'), { recursive: true });
  const websockets = path.join(dir, 'janus', 'janus.transport.websockets.jcfg');
  writeFileSync(websockets, readFileSync(websockets, 'utf8').replace(/ws_port = \d+/, `ws_port = ${janusPort}`));
  const janusUrl = `ws://127.0.0.1:${janusPort}/`;
  let mcu = ['[mcu]', 'type = janus', `url = ${janusUrl}`];
  if (opts.withProxy) {
    // The config folder is mounted at /etc/signaling in both containers (compose.yaml).
    const key = makeProxyTokenKey(dir, 'server1');
    // A test key: readable by the signaling container's uid 1000 without a matching group.
    chmodSync(key.privateKeyFile, 0o644);
    writeFileSync(path.join(dir, 'proxy.conf'), mcuProxyConf(proxyPort, janusUrl, { server1: '/etc/signaling/server1.pub' }), { mode: 0o644 });
    mcu = ['[mcu]', 'type = proxy', `url = http://127.0.0.1:${proxyPort}/`, 'token_id = server1', 'token_key = /etc/signaling/server1.key'];
  }
  writeFileSync(
    path.join(dir, 'server.conf'),
    signalingServerConf(
      signalingPort,
      { url: nextcloud.url, secret: nextcloud.secret },
      [...mcu, '[turn]', `apikey = ${TURN_APIKEY}`, 'secret = $(TURN_SECRET)', `servers = turn:127.0.0.1:${turnPort}?transport=udp`].join('\n'),
      `nats://127.0.0.1:${natsPort}`,
    ),
    { mode: 0o644 },
  );

  const project = `talktest${randomBytes(3).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SIGNALING_IMAGE: signalingImage,
    MCU_PROXY_IMAGE: proxyImage ?? '',
    NATS_IMAGE: debianImage,
    JANUS_IMAGE: debianImage,
    COTURN_IMAGE: debianImage,
    TALK_CONFIG_DIR: dir,
    SIGNALING_PORT: String(signalingPort),
    PROXY_PORT: String(proxyPort),
    NATS_PORT: String(natsPort),
    TURN_PORT: String(turnPort),
    TURN_LISTEN_IP: '127.0.0.1',
    TURN_SECRET,
  };
  const files = ['-f', 'deploy/compose/compose.yaml', ...(opts.withProxy ? ['-f', 'deploy/compose/compose.proxy.yaml'] : [])];
  const compose = (args: string[], timeoutMs = 120_000): Promise<RunResult> =>
    run('podman-compose', ['--podman-path', COMPOSE_PODMAN, '-p', project, ...files, ...args], { timeoutMs, env });
  const down = async (): Promise<void> => {
    await compose(['down'], 120_000);
    // podman-compose 1.0.3's down stops and then removes each container; one that its restart
    // policy brought back in between survives it. Nothing of the project may outlive the test.
    const left = await run(PODMAN_SH, ['ps', '--all', '--quiet', '--filter', `label=io.podman.compose.project=${project}`], { timeoutMs: 30_000 });
    const ids = left.stdout.split('\n').filter((id) => id !== '');
    if (ids.length > 0) await run(PODMAN_SH, ['rm', '--force', '--time=0', ...ids], { timeoutMs: 60_000 });
    // podman-compose 1.0.3 creates the project's default network even though no service uses it
    // (host networking); unused networks in the tests' own storage are only such leftovers.
    await run(PODMAN_SH, ['network', 'rm', '--force', `${project}_default`], { timeoutMs: 30_000 });
    await run(PODMAN_SH, ['network', 'prune', '--force'], { timeoutMs: 30_000 });
    rmSync(dir, { recursive: true, force: true });
  };

  const up = await compose(['up', '-d', '--no-build']);
  try {
    if (up.code !== 0) throw new Error(`podman-compose up exited ${up.code}\n${(up.stdout + up.stderr).slice(-4000)}`);
    await waitFor(async () => (await statusOf(`${baseUrl}ready`)) === 200, { timeout: 60_000, name: 'signaling /ready in the compose stack' });
  } catch (error) {
    const logs = await compose(['logs']);
    await down();
    throw new Error(`${(error as Error).message}\n${(logs.stdout + logs.stderr).slice(-6000)}`);
  }
  return { project, baseUrl, turnPort, proxyUrl: opts.withProxy ? `http://127.0.0.1:${proxyPort}/` : undefined, compose, down };
}
