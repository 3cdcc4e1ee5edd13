import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort, TestClient, waitFor } from '@talk-signaling/testing';


jest.setTimeout(30_000);

const root = path.resolve(__dirname, '../../..');

/**
 * The README's first command (`npm start` -> `nx serve signaling` -> tools/dev/serve.mjs) on the
 * built bundles: the dev server and dev Nextcloud come up, a newcomer can connect and say hello,
 * and SIGTERM stops both.
 */
describe('development setup (tools/dev/serve.mjs)', () => {
  let child: ChildProcess | undefined;
  let output = '';

  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('serves /api/v1/welcome and accepts a hello from the dev Nextcloud', async () => {
    const httpPort = await freePort();
    const ncPort = await freePort();
    child = spawn(process.execPath, [path.join(root, 'tools/dev/serve.mjs')], {
      cwd: root,
      env: { ...process.env, TALK_DEV_HTTP_PORT: String(httpPort), TALK_DEV_NEXTCLOUD_PORT: String(ncPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(() => output.includes('talk-signaling is up'), { timeout: 15_000, name: `dev setup start (output so far: ${output})` });
    expect(output).toContain(`ws://127.0.0.1:${httpPort}/spreed`);

    const welcome = await fetch(`http://127.0.0.1:${httpPort}/api/v1/welcome`);
    expect(await welcome.json()).toEqual({ 'nextcloud-spreed-signaling': 'Welcome', version: expect.any(String) });

    const client = await TestClient.connect(`ws://127.0.0.1:${httpPort}/spreed`);
    expect((await client.next('welcome')).type).toBe('welcome');
    const reply = await client.hello({
      url: `http://127.0.0.1:${ncPort}/ocs/v2.php/apps/spreed/api/v1/signaling/backend`,
      params: { userid: 'alice', ticket: 'any' },
    });
    expect(reply.hello).toMatchObject({ userid: 'alice', version: '1.0' });
    client.close();

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
