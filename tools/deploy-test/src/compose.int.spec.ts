// deploy/compose/compose.yaml started with Debian's podman-compose 1.0.3 (host network, everything on
// 127.0.0.1 and free ports): the signaling image with NATS, Janus and coturn from Debian's
// packages. A client authenticates through the stack, the server reports NATS and Janus
// connected, and coturn answers a STUN request with the TURN settings the server hands out.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, TestClient, waitFor } from '@talk-signaling/testing';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { buildAppImage, buildComposeDebianImage, ensureBaseImage, PODMAN_SH, REPO_ROOT, run, type RunResult } from './podman';

/** podman.sh for podman-compose 1.0.3, which adds a bridge network even to network_mode: host services (see the script). */
const COMPOSE_PODMAN = path.join(REPO_ROOT, 'tools/deploy-test/podman-compose-shim.sh');
import { statusOf } from './processes';
import { signalingServerConf } from './server-conf';

const TURN_SECRET = 'compose-test-turn-secret';
const TURN_APIKEY = 'compose-test-turn-apikey';

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
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let project: string;
  let baseUrl: string;
  let turnPort: number;

  const compose = (args: string[], timeoutMs = 120_000): Promise<RunResult> =>
    run('podman-compose', ['--podman-path', COMPOSE_PODMAN, '-p', project, '-f', 'deploy/compose/compose.yaml', ...args], { timeoutMs, env });

  beforeAll(async () => {
    const base = await ensureBaseImage();
    const signalingImage = await buildAppImage('signaling', base);
    const debianImage = await buildComposeDebianImage(base);
    nextcloud = await startFakeNextcloud({ secret: 'deploy-test-backend-secret', open: true });
    const [signalingPort, natsPort, janusPort] = [await freePort(), await freePort(), await freePort()];
    turnPort = await freePort();
    baseUrl = `http://127.0.0.1:${signalingPort}/`;

    // The shipped Janus config with this run's WebSocket port; a server.conf for this run.
    dir = mkdtempSync(path.join(tmpdir(), 'deploy-test-compose-'));
    cpSync(path.join(REPO_ROOT, 'deploy/compose/config.example/janus'), path.join(dir, 'janus'), { recursive: true });
    const websockets = path.join(dir, 'janus', 'janus.transport.websockets.jcfg');
    writeFileSync(websockets, readFileSync(websockets, 'utf8').replace(/ws_port = \d+/, `ws_port = ${janusPort}`));
    writeFileSync(
      path.join(dir, 'server.conf'),
      signalingServerConf(
        signalingPort,
        { url: nextcloud.url, secret: nextcloud.secret },
        [
          '[mcu]', 'type = janus', `url = ws://127.0.0.1:${janusPort}/`,
          '[turn]', `apikey = ${TURN_APIKEY}`, 'secret = $(TURN_SECRET)', `servers = turn:127.0.0.1:${turnPort}?transport=udp`,
        ].join('\n'),
        `nats://127.0.0.1:${natsPort}`,
      ),
      { mode: 0o644 },
    );

    project = `talktest${randomBytes(3).toString('hex')}`;
    env = {
      ...process.env,
      SIGNALING_IMAGE: signalingImage,
      NATS_IMAGE: debianImage,
      JANUS_IMAGE: debianImage,
      COTURN_IMAGE: debianImage,
      TALK_CONFIG_DIR: dir,
      SIGNALING_PORT: String(signalingPort),
      NATS_PORT: String(natsPort),
      TURN_PORT: String(turnPort),
      TURN_LISTEN_IP: '127.0.0.1',
      TURN_SECRET,
    };
    const up = await compose(['up', '-d', '--no-build']);
    if (up.code !== 0) throw new Error(`podman-compose up exited ${up.code}\n${(up.stdout + up.stderr).slice(-4000)}`);
    await waitFor(async () => (await statusOf(`${baseUrl}ready`)) === 200, { timeout: 60_000, name: 'signaling /ready in the compose stack' }).catch(async (error: Error) => {
      const logs = await compose(['logs']);
      throw new Error(`${error.message}\n${(logs.stdout + logs.stderr).slice(-6000)}`);
    });
  }, 15 * 60_000);

  afterAll(async () => {
    if (project) {
      await compose(['down'], 120_000);
      // podman-compose 1.0.3 creates the project's default network even though no service uses it.
      await run(PODMAN_SH, ['network', 'rm', '--force', `${project}_default`], { timeoutMs: 30_000 });
    }
    await nextcloud?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
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
