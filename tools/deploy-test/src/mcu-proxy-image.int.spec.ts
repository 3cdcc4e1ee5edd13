// The mcu-proxy image (deploy/mcu-proxy/Dockerfile) on the local base image, run on the host
// network in front of a real Janus on the host: /welcome, /ready once Janus is connected, a
// token hello over /proxy, the HEALTHCHECK and a clean SIGTERM stop.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { freePort, startJanus, waitFor, waitForEvent, type ManagedProcess } from '@talk-signaling/testing';
import { buildAppImage, ensureBaseImage, podman, podmanOk, startContainer, type Container } from './podman';
import { statusOf } from './processes';
import { makeProxyTokenKey, mcuProxyConf, type ProxyTokenKey } from './proxy-conf';

describe('mcu-proxy image', () => {
  let janus: ManagedProcess;
  let dir: string;
  let key: ProxyTokenKey;
  let image: string;
  let container: Container;
  let baseUrl: string;

  beforeAll(async () => {
    image = await buildAppImage('mcu-proxy', await ensureBaseImage());
    janus = await startJanus();
    dir = mkdtempSync(path.join(tmpdir(), 'deploy-test-proxy-'));
    key = makeProxyTokenKey(dir, 'server1');
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}/`;
    writeFileSync(path.join(dir, 'proxy.conf'), mcuProxyConf(port, janus.url, { server1: '/etc/signaling/tokens/server1.pub' }), { mode: 0o644 });
    container = await startContainer(image, {
      mounts: { [path.join(dir, 'proxy.conf')]: '/etc/signaling/proxy.conf', [key.publicKeyFile]: '/etc/signaling/tokens/server1.pub' },
      env: { HEALTHCHECK_URL: `${baseUrl}health`, LOG_LEVEL: 'warn' },
    });
  }, 12 * 60_000);

  afterAll(async () => {
    await container?.remove();
    await janus?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('answers /welcome and turns ready once connected to Janus on the host', async () => {
    await waitFor(async () => (await statusOf(`${baseUrl}ready`)) === 200, { timeout: 30_000, name: 'proxy container /ready' }).catch(async (error: Error) => {
      throw new Error(`${error.message}\ncontainer output:\n${(await container.logs()).slice(-4000)}`);
    });
    const res = await fetch(`${baseUrl}welcome`);
    expect(await res.json()).toEqual({ 'nextcloud-spreed-signaling-proxy': 'Welcome', version: expect.any(String) });
  });

  it('accepts a signaling server hello with a token signed by a configured key', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuer(key.id).setSubject('').setIssuedAt().sign(key.privateKey);
    const ws = new WebSocket(`ws://${new URL(baseUrl).host}/proxy`);
    try {
      await waitForEvent(ws, 'open', { timeout: 10_000 });
      const reply = waitForEvent(ws, 'message', { timeout: 10_000 });
      ws.send(JSON.stringify({ id: '1', type: 'hello', hello: { version: '1.0', token } }));
      const [data] = await reply;
      expect(JSON.parse(String(data))).toMatchObject({ id: '1', type: 'hello', hello: { version: '1.0', sessionid: expect.any(String) } });
    } finally {
      ws.close();
    }
  });

  it('passes its HEALTHCHECK and runs as uid 1000', async () => {
    expect(await podman(['healthcheck', 'run', container.name])).toMatchObject({ code: 0 });
    expect((await podmanOk(['exec', container.name, 'id', '-u'])).trim()).toBe('1000');
  });

  it('stops on SIGTERM by itself (exit code 0)', async () => {
    expect(await container.stop(15)).toBe(0);
  });
});
