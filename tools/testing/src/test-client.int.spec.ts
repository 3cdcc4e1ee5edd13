import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { TestClient } from './test-client';

/* eslint-disable @typescript-eslint/no-explicit-any -- free-form protocol JSON */

/**
 * A tiny stand-in for /spreed: welcome on connect, answers hello/room/bye with the request id,
 * and a few scripted commands to produce unsolicited messages.
 */
function startServer(): Promise<{ wss: WebSocketServer; url: string; sockets: WebSocket[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws, req) => {
    sockets.push(ws);
    ws.send(JSON.stringify({ type: 'welcome', welcome: { version: 'test', features: [], ua: req.headers['user-agent'] } }));
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        ws.send(JSON.stringify({ type: 'error', error: { code: 'invalid_format', message: 'Invalid data format.' } }));
        return;
      }
      const m = JSON.parse(data.toString()) as any;
      switch (m.type) {
        case 'hello':
          if (m.hello.resumeid === 'bad') {
            ws.send(JSON.stringify({ id: m.id, type: 'error', error: { code: 'no_such_session', message: 'x' } }));
          } else {
            // An unsolicited event before the reply: must stay queued for next().
            ws.send(JSON.stringify({ type: 'event', event: { target: 'room', type: 'before-hello-reply' } }));
            ws.send(JSON.stringify({ id: m.id, type: 'hello', hello: { sessionid: 's', resumeid: 'r', userid: '', echo: m.hello } }));
          }
          break;
        case 'room':
          ws.send(JSON.stringify({ id: m.id, type: 'room', room: { roomid: m.room.roomid, echo: m.room } }));
          break;
        case 'bye':
          ws.send(JSON.stringify({ id: m.id, type: 'bye' }));
          ws.close(1000);
          break;
        case 'emit':
          for (const out of m.emit.messages) ws.send(JSON.stringify(out));
          break;
        case 'close':
          ws.close(m.close.code, m.close.reason);
          break;
      }
    });
  });
  return new Promise((resolve) =>
    wss.on('listening', () => resolve({ wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/spreed`, sockets })),
  );
}

describe('TestClient', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let client: TestClient;

  beforeEach(async () => {
    server = await startServer();
    client = await TestClient.connect(server.url, { headers: { 'User-Agent': 'test-agent' } });
  });

  afterEach(async () => {
    client.close();
    await new Promise((resolve) => server.wss.close(resolve));
    for (const ws of server.sockets) ws.terminate();
  });

  it('queues the welcome message first and passes headers', async () => {
    const welcome = await client.next('welcome');
    expect(welcome.welcome.ua).toBe('test-agent');
  }, 5_000);

  it('hello takes its reply by id and keeps other messages queued in order', async () => {
    const reply = await client.hello({ url: 'http://nc/', params: { userid: 'a', ticket: 't' }, features: ['x'] });
    expect(reply).toMatchObject({ id: '1', type: 'hello', hello: { echo: { version: '1.0', features: ['x'], auth: { url: 'http://nc/', params: { userid: 'a', ticket: 't' } } } } });
    expect((await client.next()).type).toBe('welcome');
    expect((await client.next('event')).event.type).toBe('before-hello-reply');
  }, 5_000);

  it('uses auto-increment ids unless given', async () => {
    await client.hello({ url: 'u', params: {}, version: '2.0' });
    const room = await client.joinRoom('r1', 'nc-session');
    expect(room).toMatchObject({ id: '2', room: { roomid: 'r1', echo: { roomid: 'r1', sessionid: 'nc-session' } } });
    const explicit = await client.joinRoom('r2', undefined, { id: 'mine' });
    expect(explicit.id).toBe('mine');
    expect(explicit.room.echo).toEqual({ roomid: 'r2' });
  }, 5_000);

  it('helloInternal computes the token as hex HMAC-SHA256(secret, random)', async () => {
    const reply = await client.helloInternal({ backend: 'http://nc/', secret: 'internal', random: 'r'.repeat(32), features: ['internal-incall'] });
    const params = reply.hello.echo.auth.params;
    expect(reply.hello.echo.auth.type).toBe('internal');
    expect(params).toEqual({ random: 'r'.repeat(32), backend: 'http://nc/', token: createHmac('sha256', 'internal').update('r'.repeat(32)).digest('hex') });
    const generated = await client.helloInternal({ backend: 'b', secret: 's' });
    expect(generated.hello.echo.auth.params.random).toMatch(/^[0-9a-f]{64}$/);
  }, 5_000);

  it('resume returns the error reply', async () => {
    const reply = await client.resume('bad');
    expect(reply).toMatchObject({ type: 'error', error: { code: 'no_such_session' } });
  }, 5_000);

  it('next(type) rejects on another type and shows the message', async () => {
    await expect(client.next('hello')).rejects.toThrow(/expected next message of type 'hello', got .*welcome/);
  }, 5_000);

  it('next() times out with a named error', async () => {
    await client.next('welcome');
    await expect(client.next('event', 100)).rejects.toThrow(/timed out after 100 ms waiting for next message of type 'event'/);
  }, 5_000);

  it('waitForMessage skips non-matching messages', async () => {
    client.send({ type: 'emit', emit: { messages: [{ type: 'event', n: 1 }, { type: 'event', n: 2 }, { type: 'event', n: 3 }] } });
    const m = await client.waitForMessage((x) => x.n === 2);
    expect(m.n).toBe(2);
    expect((await client.next()).n).toBe(3);
  }, 5_000);

  it('expectError checks the code', async () => {
    await client.next('welcome');
    client.sendRaw(Buffer.from('x'), { binary: true });
    await expect(client.expectError('invalid_format')).resolves.toMatchObject({ error: { code: 'invalid_format' } });
    client.sendRaw(Buffer.from('x'), { binary: true });
    await expect(client.expectError('other')).rejects.toThrow(/expected error 'other'/);
  }, 5_000);

  it('expectNoMessage fails only on messages arriving in the window', async () => {
    await client.expectNoMessage(100); // the queued welcome does not count
    client.send({ type: 'emit', emit: { messages: [{ type: 'event' }] } });
    await expect(client.expectNoMessage(200)).rejects.toThrow(/expected no message/);
  }, 5_000);

  it('bye returns the reply and closed() reports the close', async () => {
    expect(await client.bye()).toEqual({ id: '1', type: 'bye' });
    expect(await client.closed()).toEqual({ code: 1000, reason: '' });
  }, 5_000);

  it('pending waits fail with the close code when the server closes', async () => {
    await client.next('welcome');
    const pending = client.next();
    client.send({ type: 'close', close: { code: 4001, reason: 'gone' } });
    await expect(pending).rejects.toThrow(/connection closed \(code 4001, reason 'gone'\)/);
    expect(await client.closed()).toEqual({ code: 4001, reason: 'gone' });
    await expect(client.next()).rejects.toThrow(/connection closed/);
  }, 5_000);

  it('records everything in messages', async () => {
    await client.hello({ url: 'u', params: {} });
    expect(client.messages.map((m) => m.type)).toEqual(['welcome', 'event', 'hello']);
  }, 5_000);

  it('connect fails clearly for a non-websocket endpoint', async () => {
    await expect(TestClient.connect('ws://127.0.0.1:1/spreed', { timeout: 1_000 })).rejects.toThrow(/TestClient.connect/);
  }, 5_000);
});
