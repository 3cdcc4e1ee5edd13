import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { freePort, TestClient, waitFor } from '@talk-signaling/testing';
import { INTERNAL_SECRET } from './test-server';

jest.setTimeout(30_000);

const root = path.resolve(__dirname, '../../..');

/** The built server (`dist/apps/signaling/main.js`) as a child process with its output collected. */
class ServerProcess {
  output = '';
  readonly exited: Promise<number | null>;
  readonly child: ChildProcess;

  constructor(configFile: string) {
    this.child = spawn(process.execPath, [path.join(root, 'dist/apps/signaling/main.js'), '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  async started(): Promise<void> {
    await waitFor(() => this.output.includes('signaling server started'), { timeout: 10_000, name: 'server start' });
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * A WebSocket client that completes the upgrade and then never answers anything — not even the
 * server's close frame — so the server's shutdown has to wait for it.
 */
class MuteWebSocket {
  readonly socket: net.Socket;
  #data = Buffer.alloc(0);
  readonly closeCodes: number[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#data = Buffer.concat([this.#data, d]);
      this.#parse();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<MuteWebSocket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(
          ['GET /spreed HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', '', ''].join('\r\n'),
        );
      });
      const client = new MuteWebSocket(socket);
      socket.once('error', reject);
      const check = () => {
        if (client.upgraded) resolve(client);
        else socket.once('data', check);
      };
      socket.once('data', check);
    });
  }

  upgraded = false;

  #parse(): void {
    if (!this.upgraded) {
      const end = this.#data.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.upgraded = this.#data.subarray(0, end).toString().startsWith('HTTP/1.1 101');
      this.#data = this.#data.subarray(end + 4);
    }
    // Server frames are unmasked: opcode, 7-bit / 16-bit length, payload.
    while (this.#data.length >= 2) {
      let length = this.#data[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.#data.length < 4) return;
        length = this.#data.readUInt16BE(2);
        offset = 4;
      }
      if (this.#data.length < offset + length) return;
      if ((this.#data[0]! & 0x0f) === 0x8) this.closeCodes.push(this.#data.readUInt16BE(offset));
      this.#data = this.#data.subarray(offset + length);
    }
  }
}

describe('signals on the built server', () => {
  let nc: FakeNextcloud;
  let server: ServerProcess | undefined;
  let dir: string;

  beforeAll(async () => {
    nc = await startFakeNextcloud({ secret: 'signals-backend-secret' });
    dir = mkdtempSync(path.join(tmpdir(), 'talk-signals-'));
  });
  afterEach(() => server?.kill());
  afterAll(() => nc.close());

  const writeConfig = (port: number, extra: string[] = [], backendSecret = nc.secret) => {
    const file = path.join(dir, `server-${port}.conf`);
    writeFileSync(
      file,
      [
        '[http]',
        `listen = 127.0.0.1:${port}`,
        '[sessions]',
        'hashkey = signals-test-hashkey-0123456789ab',
        '[clients]',
        `internalsecret = ${INTERNAL_SECRET}`,
        '[nats]',
        'url = nats://loopback',
        '[backend]',
        'backends = one',
        '[one]',
        `url = ${nc.url}`,
        `secret = ${backendSecret}`,
        ...extra,
      ].join('\n'),
    );
    return file;
  };

  const start = async (extra: string[] = []) => {
    const port = await freePort();
    server = new ServerProcess(writeConfig(port, extra));
    await server.started();
    return port;
  };

  it('SIGTERM: readiness 503 and no new clients while clients are told 1001, then exit 0 before the deadline', async () => {
    const port = await start();
    const client = await TestClient.connect(`ws://127.0.0.1:${port}/spreed`);
    expect((await client.hello({ url: nc.backendUrl, params: nc.addUser('alice') })).type).toBe('hello');
    const mute = await MuteWebSocket.connect(port);
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);

    server!.child.kill('SIGTERM');
    expect((await client.closed()).code).toBe(1001);
    await waitFor(() => mute.closeCodes.length > 0, { timeout: 5_000, name: 'close frame to the mute client' });
    expect(mute.closeCodes).toEqual([1001]);
    // The mute client holds the shutdown open: the listener is still there, and says so.
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining' });
    await expect(TestClient.connect(`ws://127.0.0.1:${port}/spreed`)).rejects.toThrow('HTTP 503');

    mute.socket.destroy();
    // 0, not the 1 of the forced exit at the 10 s deadline.
    expect(await server!.exited).toBe(0);
    expect(server!.output).not.toContain('shutdown deadline passed');
  });

  it('SIGUSR1: stops taking clients, keeps serving the connected ones, exits when the last client session is gone', async () => {
    const port = await start();
    const url = `ws://127.0.0.1:${port}/spreed`;
    const alice = await TestClient.connect(url);
    const aliceHello = await alice.hello({ url: nc.backendUrl, params: nc.addUser('alice') });
    const bob = await TestClient.connect(url);
    const bobHello = await bob.hello({ url: nc.backendUrl, params: nc.addUser('bob') });
    const internal = await TestClient.connect(url);
    expect((await internal.helloInternal({ backend: nc.url, secret: INTERNAL_SECRET })).type).toBe('hello');

    server!.child.kill('SIGUSR1');
    await waitFor(() => server!.output.includes('SIGUSR1'), { timeout: 5_000, name: 'SIGUSR1 logged' });
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(503);
    await expect(TestClient.connect(url)).rejects.toThrow('HTTP 503');
    // Connected clients are still served: a message from alice reaches bob.
    alice.send({ type: 'message', message: { recipient: { type: 'session', sessionid: bobHello.hello.sessionid }, data: { ping: 1 } } });
    expect(await bob.waitForMessage((m) => m.type === 'message')).toMatchObject({
      message: { sender: { sessionid: aliceHello.hello.sessionid }, data: { ping: 1 } },
    });
    await alice.bye();
    // bob is still connected, so the process must still be running.
    expect(server!.child.exitCode).toBeNull();

    // Internal sessions do not hold the process; the last client session's bye ends it.
    await bob.bye();
    expect(await server!.exited).toBe(0);
    internal.close();
  });

  it('refuses to start with a placeholder secret from the sample configuration', async () => {
    const port = await freePort();
    server = new ServerProcess(writeConfig(port, [], 'the-shared-secret'));
    expect(await server.exited).toBe(1);
    expect(server.output).toContain('[one] secret still has the sample value');
  });

  it('SIGHUP: a placeholder secret brought in by an edit is refused; the running backends stay', async () => {
    const port = await freePort();
    const file = writeConfig(port);
    server = new ServerProcess(file);
    await server.started();
    const hello = async () => {
      const client = await TestClient.connect(`ws://127.0.0.1:${port}/spreed`);
      const reply = await client.hello({ url: nc.backendUrl, params: nc.addUser('bob') });
      client.close();
      return reply;
    };
    expect((await hello()).type).toBe('hello');

    writeFileSync(file, writeConfigText(file, nc.secret, 'CHANGE-ME-backend-secret'));
    server.child.kill('SIGHUP');
    await waitFor(() => server!.output.includes('not reloaded (placeholder secrets)'), { timeout: 5_000, name: 'refused reload logged' });
    expect(server.output).toContain('[one] secret still has the sample value');
    expect(server.output).not.toContain('backends reloaded');
    // Still the old secret: Nextcloud's requests and hellos keep working.
    expect((await hello()).type).toBe('hello');
  });
});

/** The same file with the backend secret replaced. */
function writeConfigText(file: string, from: string, to: string): string {
  const text = readFileSync(file, 'utf8');
  return text.replace(`secret = ${from}`, `secret = ${to}`);
}
