import net from 'node:net';
import { TestClient } from '@talk-signaling/testing';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(20_000);

/** One server frame as the raw client read it. */
interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/** A client frame (masked unless `masked: false`), with a 16- or 64-bit length field when asked. */
function clientFrame(opcode: number, payload: Buffer | string, opts: { fin?: boolean; masked?: boolean; rsv?: number; mask?: number[]; claimedLength?: number; length64?: boolean } = {}): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const size = opts.claimedLength ?? body.length;
  const masked = opts.masked ?? true;
  const mask = Buffer.from(opts.mask ?? [0x5a, 0x13, 0xc7, 0x88]);
  let header: Buffer;
  if (opts.length64 === true || size > 0xffff) {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeUInt32BE(Math.floor(size / 2 ** 32), 2);
    header.writeUInt32BE(size >>> 0, 6);
  } else if (size > 125) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(size, 2);
  } else {
    header = Buffer.from([0, size]);
  }
  header[0] = ((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode;
  if (!masked) return Buffer.concat([header, body]);
  header[1] = header[1]! | 0x80;
  return Buffer.concat([header, mask, Buffer.from(body.map((b, i) => b ^ mask[i % 4]!))]);
}

const TEXT = 1;
const CONT = 0;
const CLOSE = 8;
const PING = 9;
const PONG = 10;

/**
 * A WebSocket client on a raw TCP socket: sends any bytes after the upgrade and collects the
 * server's frames until the server ends the connection.
 */
class RawClient {
  readonly frames: ServerFrame[] = [];
  readonly ended: Promise<void>;
  #buffer = Buffer.alloc(0);
  #upgraded = false;
  #waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
  }

  static async connect(setup: TestSetup): Promise<RawClient> {
    const url = new URL(setup.wsUrl);
    const socket = net.connect(Number(url.port), url.hostname);
    const client = new RawClient(socket);
    socket.write(
      [`GET ${url.pathname} HTTP/1.1`, `Host: ${url.host}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'),
    );
    // The welcome message is the first frame.
    await client.until(() => client.frames.length > 0);
    return client;
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The close frame's code once the server has ended the connection (undefined: no close frame). */
  async closeCode(): Promise<number | undefined> {
    await this.ended;
    const close = this.frames.find((f) => f.opcode === CLOSE);
    return close === undefined || close.payload.length < 2 ? undefined : close.payload.readUInt16BE(0);
  }

  texts(): unknown[] {
    return this.frames.filter((f) => f.opcode === TEXT).map((f) => JSON.parse(f.payload.toString()));
  }

  until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (done() ? resolve() : this.#waiters.push(check));
      this.#waiters.push(check);
    });
  }

  #read(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    if (!this.#upgraded) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      expect(this.#buffer.subarray(0, end).toString()).toMatch(/^HTTP\/1\.1 101 /);
      this.#upgraded = true;
      this.#buffer = this.#buffer.subarray(end + 4);
    }
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) break;
      let size = b[1]! & 0x7f;
      let offset = 2;
      if (size === 126) {
        if (b.length < 4) break;
        size = b.readUInt16BE(2);
        offset = 4;
      } else if (size === 127) {
        if (b.length < 10) break;
        size = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      if (b.length < offset + size) break;
      this.frames.push({ opcode: b[0]! & 0x0f, payload: Buffer.from(b.subarray(offset, offset + size)) });
      this.#buffer = b.subarray(offset + size);
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/**
 * Hostile WebSocket frames on `/spreed` (our own RFC 6455 server, `src/websocket/`): each one
 * ends its connection with the close code RFC 6455 asks for, while two bystanders in a room go
 * on talking through the same server.
 */
describe('hostile WebSocket frames', () => {
  let setup: TestSetup;
  let a: { client: TestClient; sessionid: string };
  let b: { client: TestClient; sessionid: string };

  async function joined(userid: string, others: number) {
    const client = await TestClient.connect(setup.wsUrl);
    await client.next('welcome');
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
    expect((await client.joinRoom('frames')).type).toBe('room');
    expect((await client.next('event')).event.type).toBe('join');
    if (others > 0) expect((await client.next('event')).event.join).toHaveLength(others);
    return { client, sessionid: reply.hello.sessionid as string };
  }

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5 });
    setup.nextcloud.setRoom('frames', {});
    a = await joined('frames-a', 0);
    b = await joined('frames-b', 1);
    expect((await a.client.next('event')).event.join[0].sessionid).toBe(b.sessionid);
  });
  afterAll(async () => {
    a?.client.close();
    b?.client.close();
    await setup.stop();
  });

  /** The bystanders still talk to each other. */
  async function stillServed(): Promise<void> {
    b.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: a.sessionid }, data: { ping: 1 } } });
    expect(await a.client.waitForMessage((m) => m.type === 'message')).toMatchObject({ message: { sender: { sessionid: b.sessionid }, data: { ping: 1 } } });
    a.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: b.sessionid }, data: { pong: 1 } } });
    expect(await b.client.waitForMessage((m) => m.type === 'message')).toMatchObject({ message: { sender: { sessionid: a.sessionid }, data: { pong: 1 } } });
  }

  const big = Buffer.alloc(70 * 1024, 0x20);
  const cases: [name: string, bytes: () => Buffer, code: number][] = [
    ['an unmasked client frame', () => clientFrame(TEXT, '{}', { masked: false }), 1002],
    ['RSV1 set (no extension was negotiated)', () => clientFrame(TEXT, '{}', { rsv: 4 }), 1002],
    ['RSV2 and RSV3 set', () => clientFrame(TEXT, '{}', { rsv: 3 }), 1002],
    ['a reserved data opcode', () => clientFrame(3, '{}'), 1002],
    ['a reserved control opcode', () => clientFrame(0xb, ''), 1002],
    ['a continuation without a message under way', () => clientFrame(CONT, '{}'), 1002],
    ['a new text frame inside a fragmented message', () => Buffer.concat([clientFrame(TEXT, '{', { fin: false }), clientFrame(TEXT, '}')]), 1002],
    ['a ping of 126 bytes', () => clientFrame(PING, Buffer.alloc(126)), 1002],
    ['a fragmented ping', () => clientFrame(PING, 'x', { fin: false }), 1002],
    ['a 64-bit length beyond 2^53', () => clientFrame(TEXT, Buffer.alloc(0), { claimedLength: 2 ** 63 }).subarray(0, 10), 1009],
    ['a 64-bit length of 4 GiB', () => clientFrame(TEXT, Buffer.alloc(0), { claimedLength: 2 ** 32 }).subarray(0, 14), 1009],
    ['a 70 KiB text frame', () => clientFrame(TEXT, big), 1009],
    ['70 KiB in fragments of 10 KiB', () => Buffer.concat(Array.from({ length: 7 }, (_, i) => clientFrame(i === 0 ? TEXT : CONT, big.subarray(0, 10 * 1024), { fin: i === 6 }))), 1009],
    ['invalid UTF-8 in a text frame', () => clientFrame(TEXT, Buffer.from([0x7b, 0xc3, 0x28, 0x7d])), 1007],
    ['a truncated UTF-8 sequence at the end of a fragmented message', () => Buffer.concat([clientFrame(TEXT, '{"a":"', { fin: false }), clientFrame(CONT, Buffer.from([0x22, 0x7d, 0xe2, 0x82]))]), 1007],
    ['a close frame with a 1-byte payload', () => clientFrame(CLOSE, Buffer.from([3])), 1002],
    ['a close frame with the reserved code 1005', () => clientFrame(CLOSE, Buffer.from([0x03, 0xed])), 1002],
    ['a close frame with code 999', () => clientFrame(CLOSE, Buffer.from([0x03, 0xe7])), 1002],
    ['a close frame with code 5000', () => clientFrame(CLOSE, Buffer.from([0x13, 0x88])), 1002],
    ['a close reason that is not UTF-8', () => clientFrame(CLOSE, Buffer.from([0x03, 0xe8, 0xff])), 1007],
  ];

  it.each(cases)('closes on %s with the right code; the bystanders keep chatting', async (_name, bytes, code) => {
    const raw = await RawClient.connect(setup);
    raw.send(bytes());
    expect(await raw.closeCode()).toBe(code);
    await stillServed();
  });

  it("echoes a valid close code and reason (4000), the peer's close handshake", async () => {
    const raw = await RawClient.connect(setup);
    raw.send(clientFrame(CLOSE, Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from('bye')])));
    expect(await raw.closeCode()).toBe(4000);
    expect(raw.frames.at(-1)!.payload.subarray(2).toString()).toBe('bye');
    await stillServed();
  });

  it('takes a message in fragments with a ping between them, any mask (zero too), one byte per write', async () => {
    const raw = await RawClient.connect(setup);
    const hello = JSON.stringify({ id: 'h1', type: 'hello', hello: { version: '1.0', auth: { url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('frames-raw') } } });
    const bytes = Buffer.concat([
      clientFrame(TEXT, hello.slice(0, 10), { fin: false, mask: [0, 0, 0, 0] }),
      clientFrame(PING, 'between'),
      clientFrame(CONT, hello.slice(10, 40), { fin: false, mask: [0xff, 0xff, 0xff, 0xff] }),
      clientFrame(CONT, hello.slice(40)),
    ]);
    for (const byte of bytes) raw.send(Buffer.from([byte]));
    await raw.until(() => raw.texts().some((m) => (m as { type: string }).type === 'hello'));
    expect(raw.frames.find((f) => f.opcode === 0xa)?.payload.toString()).toBe('between');
    expect(raw.texts().find((m) => (m as { type: string }).type === 'hello')).toMatchObject({ id: 'h1', hello: { version: '1.0' } });
    raw.send(clientFrame(CLOSE, Buffer.from([0x03, 0xe8])));
    expect(await raw.closeCode()).toBe(1000);
    await stillServed();
  });

  it('survives clients that reset an upgrade sent to another path (the 404 meets a reset socket)', async () => {
    const url = new URL(setup.wsUrl);
    const resets = Array.from({ length: 20 }, () =>
      new Promise<void>((resolve) => {
        const socket = net.connect(Number(url.port), url.hostname, () => {
          socket.write(['GET /not-spreed HTTP/1.1', `Host: ${url.host}`, 'Upgrade: websocket', 'Connection: Upgrade', '', ''].join('\r\n'));
          // Reset once the server has seen the request (its answer, or at once).
          socket.once('data', () => socket.resetAndDestroy());
          setImmediate(() => socket.resetAndDestroy());
        });
        socket.on('error', () => undefined);
        socket.once('close', () => resolve());
      }),
    );
    await Promise.all(resets);
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(url.port), url.hostname, () =>
        socket.write(['GET /not-spreed HTTP/1.1', `Host: ${url.host}`, 'Upgrade: websocket', 'Connection: Upgrade', '', ''].join('\r\n')),
      );
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.once('close', () => resolve(text));
    });
    expect(refused.split('\r\n')[0]).toBe('HTTP/1.1 404 Not Found');
    await stillServed();
  });

  it('leaves the RTT metric alone for pongs it did not ask for (any payload a client makes up)', async () => {
    const rttCount = async (): Promise<number> =>
      (await setup.server.registry.getSingleMetric('signaling_client_rtt')!.get()).values
        .filter((v) => (v as { metricName?: string }).metricName === 'signaling_client_rtt_count')
        .reduce((sum, v) => sum + v.value, 0);
    const before = await rttCount();
    const raw = await RawClient.connect(setup);
    for (const claim of ['1', '1e400', '-5', String((Date.now() + 60_000) * 1e6), 'not a time']) raw.send(clientFrame(PONG, claim));
    raw.send(clientFrame(CLOSE, Buffer.from([0x03, 0xe8])));
    expect(await raw.closeCode()).toBe(1000);
    expect(await rttCount()).toBe(before);
    await stillServed();
  });
});
