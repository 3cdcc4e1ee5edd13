 
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startJanus, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { JanusInspector } from './janus-inspector';
import { proxyConfText } from './proxy-harness';
import { makeTokenIdentity, proxyToken, ProxyTestClient } from './proxy-test-client';

jest.setTimeout(40_000);

const MAIN = path.resolve(__dirname, '../../../dist/apps/mcu-proxy/main.js');

/** The built proxy as a process: signals. */
describe('mcu-proxy process (signals)', () => {
  const server1 = makeTokenIdentity('server1');
  const server2 = makeTokenIdentity('server2');
  let janus: ManagedProcess;
  let inspector: JanusInspector;
  let child: ChildProcess | undefined;
  let exited: Promise<number | null>;
  let base: string;
  let output = '';
  const configFile = path.join(mkdtempSync(path.join(tmpdir(), 'proxy-conf-')), 'proxy.conf');

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: run "npx nx build mcu-proxy" (the test target depends on it)`);
    janus = await startJanus();
    inspector = await JanusInspector.connect(janus.url);
    const port = await freePort();
    base = `127.0.0.1:${port}`;
    writeFileSync(configFile, proxyConfText(janus.url, [server1], '', base));
    child = spawn(process.execPath, [MAIN, '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
    child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
    child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
    exited = new Promise((resolve) => child!.once('exit', (code) => resolve(code)));
    await waitFor(async () => (await fetch(`http://${base}/ready`).catch(() => undefined))?.status === 200, { timeout: 15_000, name: `proxy ready\n${output}` });
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await inspector?.close();
    await janus?.stop();
  });

  it('SIGHUP reloads the token keys and the bandwidth targets', async () => {
    const client = await ProxyTestClient.connect(`ws://${base}/proxy`);
    expect((await client.hello(await proxyToken(server2))).error.code).toBe('auth_failed');
    const watcher = await ProxyTestClient.connect(`ws://${base}/proxy`);
    expect((await watcher.hello(await proxyToken(server1))).type).toBe('hello');
    expect((await watcher.next('event')).event).toEqual({ type: 'update-load', load: 0 });
    writeFileSync(configFile, proxyConfText(janus.url, [server1, server2], '[bandwidth]\nincoming = 100', base));
    child!.kill('SIGHUP');
    await waitFor(
      async () => {
        const c = await ProxyTestClient.connect(`ws://${base}/proxy`);
        const reply = await c.hello(await proxyToken(server2));
        c.close();
        return reply.type === 'hello';
      },
      { timeout: 10_000, name: 'server2 accepted after SIGHUP' },
    );
    expect((await watcher.event('update-load')).event).toEqual({ type: 'update-load', load: 0, bandwidth: { incoming: 0 } });
    watcher.close();
    client.close();
  });

  it('SIGUSR1: shutdown-scheduled, then exit once the last publisher is deleted, leaving no room behind', async () => {
    const client = await ProxyTestClient.connect(`ws://${base}/proxy`);
    expect((await client.hello(await proxyToken(server1))).type).toBe('hello');
    const pub = (await client.command({ type: 'create-publisher', sid: '1', streamType: 'video' })).command.id as string;
    expect((await inspector.publisherRooms()).some((r) => r.description === `${pub}|video`)).toBe(true);
    child!.kill('SIGUSR1');
    expect((await client.event('shutdown-scheduled')).event).toEqual({ type: 'shutdown-scheduled' });
    expect((await client.command({ type: 'create-publisher', sid: '2', streamType: 'video' })).error.code).toBe('shutdown_scheduled');
    expect(child!.exitCode).toBeNull();
    expect((await client.command({ type: 'delete-publisher', clientId: pub })).type).toBe('command');
    expect(await exited).toBe(0);
    expect(await inspector.publisherRooms()).toEqual([]);
  });
});
