import WebSocket from 'ws';
import { waitFor } from '@talk-signaling/testing';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(20_000);

/** A raw client whose pongs we control (`autoPong: false` means it never answers pings). */
async function rawClient(url: string, autoPong: boolean) {
  const ws = new WebSocket(url, { autoPong });
  const state = { pings: 0, closeCode: undefined as number | undefined, frames: [] as string[] };
  ws.on('ping', () => state.pings++);
  ws.on('message', (data) => state.frames.push(data.toString()));
  ws.on('close', (code) => (state.closeCode = code));
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, state };
}

/**
 * Liveness as upstream (issue 10, item 3): each connection has its own ping timer (first ping
 * on accept) and its own read deadline, so a fresh connection is never dropped by a timer that
 * started before it; silence for a whole pong wait drops it; pongs and frames keep it.
 */
describe('heartbeat', () => {
  let setup: TestSetup | undefined;
  const sockets: WebSocket[] = [];

  afterEach(async () => {
    for (const ws of sockets.splice(0)) ws.terminate();
    await setup?.stop();
    setup = undefined;
  });

  async function client(autoPong: boolean) {
    const c = await rawClient(setup!.wsUrl, autoPong);
    sockets.push(c.ws);
    return c;
  }

  it('gives a fresh connection the whole pong wait, however many pings it has not answered', async () => {
    // Pings every 40 ms, deadline 60 s: a shared "no pong since the last tick" check would have
    // cut this client at the second tick.
    setup = await startTestSetup({ timeouts: { pingIntervalMs: 40, pongWaitMs: 60_000 } });
    const { ws, state } = await client(false);
    await waitFor(() => state.pings >= 5, { timeout: 10_000, name: 'five pings' });
    expect(state.closeCode).toBeUndefined();
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(JSON.parse(state.frames[0]!).type).toBe('welcome');
  });

  it('pings a new connection at once', async () => {
    setup = await startTestSetup({ timeouts: { pingIntervalMs: 60_000, pongWaitMs: 60_000 } });
    const { state } = await client(true);
    await waitFor(() => state.pings === 1, { timeout: 5_000, name: 'the first ping' });
  });

  it('drops a connection that reads nothing (no pong, no frame) for a whole pong wait', async () => {
    setup = await startTestSetup({ timeouts: { pingIntervalMs: 100, pongWaitMs: 300, helloMs: 60_000 } });
    const { state } = await client(false);
    await waitFor(() => state.closeCode !== undefined, { timeout: 10_000, name: 'server drops the silent connection' });
    // Terminated without a close frame, as upstream's read deadline does.
    expect(state.closeCode).toBe(1006);
  });

  it('keeps a connection that answers pings, across many pong waits', async () => {
    setup = await startTestSetup({ timeouts: { pingIntervalMs: 50, pongWaitMs: 500, helloMs: 60_000 } });
    const { ws, state } = await client(true);
    // 30 pings are at least 1.45 s: three pong waits.
    await waitFor(() => state.pings >= 30, { timeout: 15_000, name: 'thirty pings' });
    expect(state.closeCode).toBeUndefined();
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('keeps a connection that sends frames but no pongs', async () => {
    setup = await startTestSetup({ timeouts: { pingIntervalMs: 50, pongWaitMs: 500, helloMs: 60_000 } });
    const { ws, state } = await client(false);
    ws.on('ping', () => ws.send(JSON.stringify({ type: 'foo' })));
    await waitFor(() => state.pings >= 30, { timeout: 15_000, name: 'thirty pings' });
    expect(state.closeCode).toBeUndefined();
    // Every frame was answered (hello_expected: not authenticated), so the server read them all.
    await waitFor(() => state.frames.filter((f) => f.includes('hello_expected')).length >= 30, { timeout: 5_000, name: 'thirty answers' });
  });
});
