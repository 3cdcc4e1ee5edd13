/* eslint-disable @typescript-eslint/no-explicit-any -- protocol messages are free-form JSON in tests */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { freePort, publisherOffer, startJanus, startNatsServer, TestClient, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { JanusInspector } from './janus-inspector';
import { startTestProxy, type TestProxy } from './proxy-harness';
import { makeTokenIdentity } from './proxy-test-client';

jest.setTimeout(60_000);

/** The Debian package's Go signaling server (0.4.1). */
const GO_SIGNALING = '/usr/bin/nextcloud-spreed-signaling-server';

/**
 * Interop: the Go signaling server 0.4.1 with `[mcu] type = proxy` uses our proxy — hello with
 * its token, then a client's screen offer becomes `create-publisher` + `offer` here, and the
 * answer from our Janus reaches the client. (Screen: the Debian build refuses camera offers.)
 */
describe('Go signaling server 0.4.1 → our mcu-proxy', () => {
  const signaling = makeTokenIdentity('gosignaling');
  let janus: ManagedProcess;
  let nats: ManagedProcess;
  let proxy: TestProxy;
  let nextcloud: FakeNextcloud;
  let inspector: JanusInspector;
  let go: ChildProcess | undefined;
  let goUrl: string;
  let output = '';

  beforeAll(async () => {
    if (!existsSync(GO_SIGNALING)) throw new Error(`${GO_SIGNALING} missing: install the Debian package nextcloud-spreed-signaling`);
    // 0.4.1 has no in-process NATS (`nats://loopback`): a real nats-server.
    [janus, nats] = await Promise.all([startJanus(), startNatsServer()]);
    proxy = await startTestProxy({ janusUrl: janus.url, signaling: [signaling] });
    await waitFor(() => proxy.app.backend.connected, { timeout: 10_000, name: 'proxy connected to janus' });
    inspector = await JanusInspector.connect(janus.url);
    nextcloud = await startFakeNextcloud({ secret: 'interop-backend-secret', open: true });
    const port = await freePort();
    goUrl = `127.0.0.1:${port}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'go-signaling-'));
    const config = path.join(dir, 'server.conf');
    writeFileSync(
      config,
      [
        '[http]',
        `listen = ${goUrl}`,
        '[app]',
        'debug = false',
        '[sessions]',
        'hashkey = 0123456789abcdef0123456789abcdef',
        'blockkey = 0123456789abcdef0123456789abcdef',
        '[clients]',
        'internalsecret = interop-internal-secret',
        '[backend]',
        'allowall = true',
        `secret = ${nextcloud.secret}`,
        'timeout = 10',
        '[nats]',
        `url = ${nats.url}`,
        '[mcu]',
        'type = proxy',
        `url = ${proxy.httpUrl}/`,
        'urltype = static',
        `token_id = ${signaling.id}`,
        `token_key = ${signaling.privateKeyFile}`,
        '',
      ].join('\n'),
    );
    go = spawn(GO_SIGNALING, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => {
      output = (output + d.toString()).slice(-20_000);
    };
    go.stdout!.on('data', keep);
    go.stderr!.on('data', keep);
    await waitFor(async () => (await fetch(`http://${goUrl}/api/v1/welcome`).catch(() => undefined))?.ok === true, {
      timeout: 15_000,
      name: 'go signaling server up',
    }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${output}`);
    });
  });
  afterAll(async () => {
    if (go && go.exitCode === null) {
      go.kill('SIGKILL');
      await new Promise((resolve) => go!.once('exit', resolve));
    }
    await inspector?.close();
    await proxy?.stop();
    await nextcloud?.close();
    await Promise.all([janus?.stop(), nats?.stop()]);
  });

  it('connects with its token (a proxy session exists)', async () => {
    await waitFor(() => proxy.app.proxy.sessions.size === 1, { timeout: 15_000, name: `go server session on our proxy\n${output}` });
  });

  it('a client screen offer through the Go server becomes a publisher on our proxy and gets Janus\'s answer', async () => {
    const client = await TestClient.connect(`ws://${goUrl}/spreed`);
    try {
      const hello = await client.hello({ url: nextcloud.backendUrl, params: { userid: 'alice', ticket: 'any' } });
      expect(hello.type).toBe('hello');
      const sessionid = hello.hello.sessionid as string;
      const joined = await client.joinRoom('interop-room');
      expect(joined.type).toBe('room');
      client.send({
        id: 'offer-1',
        type: 'message',
        message: {
          recipient: { type: 'session', sessionid },
          data: { to: sessionid, type: 'offer', roomType: 'screen', sid: 'interop-sid', payload: { type: 'offer', sdp: publisherOffer({ audio: false }) } },
        },
      });
      const answer = await client.waitForMessage((m: any) => m.type === 'message' && m.message?.data?.type === 'answer', 15_000);
      expect(answer.message.data.roomType).toBe('screen');
      expect(answer.message.data.payload.sdp).toContain('m=video');
      // Our proxy created the publisher; its room is in our Janus.
      const publisher = [...proxy.app.proxy.clients.values()].find((c) => c.kind === 'publisher');
      expect(publisher?.streamType).toBe('screen');
      expect(await inspector.publisherRooms()).toContainEqual(expect.objectContaining({ description: `${publisher!.id}|screen` }));
      const metrics = await (await fetch(`${proxy.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(/signaling_proxy_command_messages_total\{type="create-publisher"\} 1/);
      expect(metrics).toMatch(/signaling_proxy_payload_messages_total\{type="offer"\} 1/);
      // The client says bye: the Go server deletes the publisher and our proxy destroys the room.
      await client.bye();
    } finally {
      client.close();
    }
    await waitFor(async () => (await inspector.publisherRooms()).length === 0, { timeout: 15_000, name: `room destroyed after bye\n${output}` });
  });
});
