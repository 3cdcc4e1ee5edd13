import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { SocketSink } from '../connection/client-socket';
import { acceptUpgrade } from './handshake';
import type { ServerWebSocket } from './server-websocket';

/** What the server side saw, and the socket itself, per accepted connection. */
interface Accepted {
  ws: ServerWebSocket;
  events: unknown[][];
  closed: Promise<number>;
  firstText: Promise<string>;
}

const MAX_PAYLOAD = 1024;

describe('ServerWebSocket against real clients', () => {
  let server: http.Server;
  let port: number;
  let accepted: ((a: Accepted) => void)[] = [];
  /** Upgraded sockets are no longer the HTTP server's: destroyed by hand at the end. */
  const upgraded = new Set<Duplex>();
  /** Text starting with "echo:" is sent back; anything else is only recorded. */
  const nextAccepted = () => new Promise<Accepted>((resolve) => accepted.push(resolve));

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('plain'));
    server.on('upgrade', (req, socket, head) => {
      upgraded.add(socket);
      const ws = acceptUpgrade(req, socket, head, { maxPayload: MAX_PAYLOAD, extraHeaders: ['X-Test: yes'] });
      if (ws === undefined) return;
      const events: unknown[][] = [];
      let onClose!: (code: number) => void;
      const closed = new Promise<number>((resolve) => (onClose = resolve));
      let onText!: (text: string) => void;
      const firstText = new Promise<string>((resolve) => (onText = resolve));
      const sink: SocketSink = {
        onSocketText: (text, bytes) => {
          events.push(['text', text, bytes]);
          onText(text);
          if (text.startsWith('echo:')) ws.sendText(text.slice(5));
          if (text === 'buffer') ws.sendText(Buffer.from('a buffer'));
          // Outbound frames have no limit of their own: 64-bit length.
          if (text === 'big') ws.sendText('b'.repeat(70_000));
        },
        onSocketBinary: () => events.push(['binary']),
        onSocketPong: (payload) => events.push(['pong', payload.toString()]),
        onSocketError: (message) => events.push(['error', message]),
        onSocketClose: (code) => {
          events.push(['close', code]);
          onClose(code);
        },
      };
      ws.attach(sink);
      accepted.shift()?.({ ws, events, closed, firstText });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(() => {
    accepted = [];
  });

  afterAll(async () => {
    for (const socket of upgraded) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  function connect(protocols?: string[], opts: WebSocket.ClientOptions = {}): Promise<{ client: WebSocket; side: Accepted; upgrade: http.IncomingMessage }> {
    const side = nextAccepted();
    const client = new WebSocket(`ws://127.0.0.1:${port}/`, protocols, opts);
    const upgrade = new Promise<http.IncomingMessage>((resolve) => client.once('upgrade', resolve));
    return new Promise((resolve, reject) => {
      client.once('error', reject);
      client.once('open', async () => resolve({ client, side: await side, upgrade: await upgrade }));
    });
  }

  const closeOf = (client: WebSocket) => new Promise<[number, string]>((resolve) => client.once('close', (code, reason) => resolve([code, reason.toString()])));

  /** Raw bytes for the upgrade request (key from RFC 6455's example). */
  function rawRequest(extra: string[] = [], method = 'GET'): string {
    return [`${method} / HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', ...extra, '', ''].join('\r\n');
  }

  /** Sends `bytes` on a raw socket and collects everything until the server ends the connection. */
  function raw(bytes: Buffer | string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
      socket.on('data', (c) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks)));
    });
  }

  /** A masked client frame. */
  function clientFrame(opcode: number, payload: Buffer, masked = true): Buffer {
    const mask = Buffer.from([1, 2, 3, 4]);
    const head = Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | payload.length]);
    return masked ? Buffer.concat([head, mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]) : Buffer.concat([head, payload]);
  }

  it('answers the handshake with the accept key, the extra headers and the first subprotocol; no extension', async () => {
    const { client, upgrade } = await connect(['first', 'second'], { perMessageDeflate: true });
    expect(client.protocol).toBe('first');
    expect(client.extensions).toBe('');
    expect(upgrade.headers['x-test']).toBe('yes');
    expect(upgrade.headers['sec-websocket-extensions']).toBeUndefined();
    client.close();
    // A close frame after the request: the server echoes it and ends the connection.
    const reply = (await raw(Buffer.concat([Buffer.from(rawRequest(['Sec-WebSocket-Version: 13'])), clientFrame(8, Buffer.from([0x03, 0xe8]))]))).toString();
    expect(reply).toContain('HTTP/1.1 101 Switching Protocols\r\n');
    expect(reply).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
  });

  it.each([
    ['a POST', rawRequest(['Sec-WebSocket-Version: 13'], 'POST'), '405 Method Not Allowed', 'Invalid HTTP method'],
    ['a missing version', rawRequest(), '400 Bad Request', 'Missing or invalid Sec-WebSocket-Version header'],
    ['version 12', rawRequest(['Sec-WebSocket-Version: 12']), '400 Bad Request', 'Sec-WebSocket-Version: 13, 8'],
    ['a malformed subprotocol list', rawRequest(['Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: a,,b']), '400 Bad Request', 'Invalid Sec-WebSocket-Protocol header'],
    ['a repeated subprotocol', rawRequest(['Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: a, a']), '400 Bad Request', 'Invalid Sec-WebSocket-Protocol header'],
    [
      'a malformed key',
      rawRequest(['Sec-WebSocket-Version: 13']).replace('dGhlIHNhbXBsZSBub25jZQ==', 'short'),
      '400 Bad Request',
      'Missing or invalid Sec-WebSocket-Key header',
    ],
  ])('refuses %s with an HTTP error and closes', async (_name, request, status, text) => {
    const reply = (await raw(request)).toString();
    expect(reply.startsWith(`HTTP/1.1 ${status}\r\n`)).toBe(true);
    expect(reply).toContain(text);
  });

  it('carries text both ways, small and large frames, strings and buffers', async () => {
    const { client, side } = await connect();
    const received: string[] = [];
    client.on('message', (data) => received.push(data.toString()));
    const texts = ['€ small', 'm'.repeat(125), 'm'.repeat(126), 'l'.repeat(1000)];
    for (const t of texts) client.send(`echo:${t}`);
    client.send('buffer');
    client.send('big');
    const big = 'b'.repeat(70_000);
    await new Promise<void>((resolve) => client.on('message', () => received.length === texts.length + 2 && resolve()));
    expect(received).toEqual([...texts, 'a buffer', big]);
    expect(side.events.slice(0, 2)).toEqual([
      ['text', 'echo:€ small', 14],
      ['text', `echo:${'m'.repeat(125)}`, 130],
    ]);
    client.send(Buffer.from([1, 2]), { binary: true });
    client.close();
    await side.closed;
    expect(side.events).toContainEqual(['binary']);
  });

  it('answers pings with the same payload; our pings come back as pongs', async () => {
    const { client, side } = await connect();
    const pong = new Promise<string>((resolve) => client.once('pong', (data) => resolve(data.toString())));
    client.ping('are you there');
    expect(await pong).toBe('are you there');
    side.ws.ping('12345');
    await new Promise<void>((resolve) => client.once('ping', () => setImmediate(resolve)));
    client.close();
    await side.closed;
    expect(side.events).toContainEqual(['pong', '12345']);
  });

  it("echoes the peer's close code and reason, then reports that code", async () => {
    const { client, side } = await connect();
    const closed = closeOf(client);
    client.close(4001, 'see you');
    expect(await closed).toEqual([4001, 'see you']);
    expect(await side.closed).toBe(4001);
  });

  it('closes with our code and reason, or with an empty close frame (1005)', async () => {
    const a = await connect();
    const closedA = closeOf(a.client);
    a.side.ws.close(1001, 'going away');
    expect(await closedA).toEqual([1001, 'going away']);
    expect(await a.side.closed).toBe(1001);
    a.side.ws.sendText('too late'); // after close: ignored, no throw
    const b = await connect();
    const closedB = closeOf(b.client);
    b.side.ws.close();
    expect(await closedB).toEqual([1005, '']);
  });

  it('closes with 1009 on a message over the limit, 1002 on an unmasked frame, 1007 on bad UTF-8', async () => {
    const big = await connect();
    const closed = closeOf(big.client);
    big.client.send('x'.repeat(MAX_PAYLOAD + 1));
    expect((await closed)[0]).toBe(1009);
    expect(await big.side.closed).toBe(1006);
    expect(big.side.events).toContainEqual(['error', 'Max payload size exceeded']);

    const handshake = rawRequest(['Sec-WebSocket-Version: 13']);
    // The frame comes in the same write as the upgrade request (the upgrade's "head").
    const unmasked = await raw(Buffer.concat([Buffer.from(handshake), clientFrame(1, Buffer.from('hi'), false)]));
    expect(unmasked.subarray(unmasked.indexOf('\r\n\r\n') + 4)).toEqual(Buffer.from([0x88, 0x02, 0x03, 0xea]));
    const badUtf8 = await raw(Buffer.concat([Buffer.from(handshake), clientFrame(1, Buffer.from([0xc3, 0x28]))]));
    expect(badUtf8.subarray(badUtf8.indexOf('\r\n\r\n') + 4)).toEqual(Buffer.from([0x88, 0x02, 0x03, 0xef]));
  });

  it('delivers frames that came with the upgrade request, then closes when the peer ends its side', async () => {
    const side = nextAccepted();
    const socket = net.connect(port, '127.0.0.1');
    socket.write(Buffer.concat([Buffer.from(rawRequest(['Sec-WebSocket-Version: 13'])), clientFrame(1, Buffer.from('in the head'))]));
    const { events, closed, firstText } = await side;
    expect(await firstText).toBe('in the head');
    socket.end();
    expect(await closed).toBe(1006);
    expect(events[0]).toEqual(['text', 'in the head', 11]);
  });
});
