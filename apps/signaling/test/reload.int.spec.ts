import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { freePort, TestClient, waitFor } from '@talk-signaling/testing';

jest.setTimeout(30_000);

const root = path.resolve(__dirname, '../../..');

/** SIGHUP re-reads server.conf and applies the backend sections (upstream 7.3), on the built server. */
describe('configuration reload on SIGHUP', () => {
  let nc1: FakeNextcloud;
  let nc2: FakeNextcloud;
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    nc1 = await startFakeNextcloud({ secret: 'secret-one' });
    nc2 = await startFakeNextcloud({ secret: 'secret-two' });
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await nc1.close();
    await nc2.close();
  });

  const config = (port: number, backends: string[]) =>
    [
      '[http]',
      `listen = 127.0.0.1:${port}`,
      '[sessions]',
      'hashkey = reload-test-hashkey-0123456789abc',
      '[nats]',
      'url = nats://loopback',
      '[backend]',
      `backends = ${backends.join(', ')}`,
      '[one]',
      `url = ${nc1.url}`,
      `secret = ${nc1.secret}`,
      '[two]',
      `url = ${nc2.url}`,
      `secret = ${nc2.secret}`,
    ].join('\n');

  it('adds and removes backends; a broken file keeps the running configuration', async () => {
    const port = await freePort();
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'talk-reload-')), 'server.conf');
    writeFileSync(file, config(port, ['one']));
    child = spawn(process.execPath, [path.join(root, 'dist/apps/signaling/main.js'), '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(() => output.includes('signaling server started'), { timeout: 10_000, name: 'server start' });
    const url = `ws://127.0.0.1:${port}/spreed`;
    const hello = async (nc: FakeNextcloud) => {
      const client = await TestClient.connect(url);
      const reply = await client.hello({ url: nc.backendUrl, params: nc.addUser('someone') });
      client.close();
      return reply;
    };
    expect((await hello(nc1)).type).toBe('hello');
    expect((await hello(nc2)).error.code).toBe('invalid_backend');

    writeFileSync(file, config(port, ['two']));
    child.kill('SIGHUP');
    await waitFor(() => output.includes('backends reloaded'), { timeout: 5_000, name: 'reload logged' });
    expect((await hello(nc2)).type).toBe('hello');
    expect((await hello(nc1)).error.code).toBe('invalid_backend');

    writeFileSync(file, `${config(port, ['one'])}\n[http]\nreadtimeout = never`);
    child.kill('SIGHUP');
    await waitFor(() => output.includes('configuration not reloaded'), { timeout: 5_000, name: 'broken reload logged' });
    expect((await hello(nc2)).type).toBe('hello');

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
