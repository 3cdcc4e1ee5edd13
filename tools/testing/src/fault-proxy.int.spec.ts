import { createServer, connect, type Server, type Socket } from 'node:net';
import { FaultProxy } from './fault-proxy';
import { startNatsServer } from './nats-server';
import { sleep, waitFor } from './wait-for';

/** An echo server that records what it received. */
async function startEcho(): Promise<{ server: Server; port: number; received: string[]; sockets: Set<Socket> }> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (d) => {
      received.push(d.toString());
      socket.write(d);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : 0, received, sockets };
}

/**
 * A client socket that collects echoed data. Resolves once connected or closed: a suspended
 * proxy resets the connection, which may surface as a connect error.
 */
function client(port: number): Promise<{ socket: Socket; data: () => string; closed: () => boolean }> {
  return new Promise((resolve) => {
    let data = '';
    let closed = false;
    const socket = connect({ host: '127.0.0.1', port });
    const handle = { socket, data: () => data, closed: () => closed };
    socket.on('connect', () => resolve(handle));
    socket.on('data', (d) => (data += d.toString()));
    socket.on('close', () => {
      closed = true;
      resolve(handle);
    });
    socket.on('error', () => undefined);
  });
}

describe('FaultProxy', () => {
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let proxy: FaultProxy;

  beforeEach(async () => {
    echo = await startEcho();
    proxy = await FaultProxy.start({ host: '127.0.0.1', port: echo.port });
  });
  afterEach(async () => {
    await proxy.close();
    for (const s of echo.sockets) s.destroy();
    await new Promise((resolve) => echo.server.close(resolve));
  });

  it('forwards both ways', async () => {
    expect(proxy.url).toBe(`tcp://127.0.0.1:${proxy.port}`);
    const c = await client(proxy.port);
    c.socket.write('hello');
    await waitFor(() => c.data() === 'hello', { timeout: 2_000, name: 'echo' });
    c.socket.destroy();
  }, 5_000);

  it('suspend() resets connections and refuses new ones until unsuspend()', async () => {
    const c = await client(proxy.port);
    proxy.suspend();
    await waitFor(() => c.closed(), { timeout: 2_000, name: 'client to be reset' });
    const refused = await client(proxy.port);
    await waitFor(() => refused.closed(), { timeout: 2_000, name: 'new connection to be reset' });
    proxy.unsuspend();
    const again = await client(proxy.port);
    again.socket.write('back');
    await waitFor(() => again.data() === 'back', { timeout: 2_000, name: 'echo after unsuspend' });
    again.socket.destroy();
  }, 5_000);

  it('retarget() sends new connections to another port and leaves open ones where they are', async () => {
    const other = await startEcho();
    try {
      const before = await client(proxy.port);
      proxy.retarget(other.port);
      const after = await client(proxy.port);
      before.socket.write('old');
      after.socket.write('new');
      await waitFor(() => before.data() === 'old' && after.data() === 'new', { timeout: 2_000, name: 'both echoed' });
      expect([echo.received, other.received]).toEqual([['old'], ['new']]);
      before.socket.destroy();
      after.socket.destroy();
    } finally {
      for (const s of other.sockets) s.destroy();
      await new Promise((resolve) => other.server.close(resolve));
    }
  }, 5_000);

  it('pause() holds data in one direction and resume() delivers it in order', async () => {
    const c = await client(proxy.port);
    proxy.pause('to');
    c.socket.write('a');
    c.socket.write('b');
    await sleep(100);
    expect(echo.received.join('')).toBe('');
    proxy.resume('to');
    await waitFor(() => c.data() === 'ab', { timeout: 2_000, name: 'held data' });

    proxy.pause('from');
    c.socket.write('c');
    await waitFor(() => echo.received.join('') === 'abc', { timeout: 2_000, name: 'server to get c' });
    await sleep(100);
    expect(c.data()).toBe('ab');
    proxy.resume('from');
    await waitFor(() => c.data() === 'abc', { timeout: 2_000, name: 'reply after resume' });
    c.socket.destroy();
  }, 5_000);

  it('takes the scheme from a ManagedProcess target', async () => {
    await using nats = await startNatsServer();
    const natsProxy = await FaultProxy.start(nats);
    try {
      expect(natsProxy.url).toBe(`nats://127.0.0.1:${natsProxy.port}`);
      const c = await client(natsProxy.port);
      await waitFor(() => c.data().startsWith('INFO '), { timeout: 2_000, name: 'NATS INFO through the proxy' });
      c.socket.destroy();
    } finally {
      await natsProxy.close();
    }
  }, 10_000);
});
