import { TestClient, waitFor } from '@talk-signaling/testing';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(30_000);

describe('a client that stops reading', () => {
  let setup: TestSetup;

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5, maxBufferedBytes: 256 * 1024 });
    setup.nextcloud.setRoom('busy', {});
  });
  afterAll(async () => {
    await setup.stop();
  });

  it('is cut off (1013, session resumable) while everyone else keeps receiving', async () => {
    const join = async (userid: string) => {
      const client = await TestClient.connect(setup.wsUrl);
      const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
      expect((await client.joinRoom('busy', `nc-${userid}`)).type).toBe('room');
      return { client, hello: reply.hello };
    };
    const sender = await join('sender');
    const reader = await join('reader');
    const slow = await join('slow');
    await waitFor(() => setup.server.rooms.get('nc1', 'busy')?.size === 3, { timeout: 2_000, name: 'all in the room' });
    slow.client.pauseReading();

    const payload = 'x'.repeat(32 * 1024);
    const total = 600; // ~19 MiB: far beyond the socket buffers and the 256 KiB bound
    let received = 0;
    const done = (async () => {
      while (received < total) {
        const m = await reader.client.waitForMessage((msg) => msg.type === 'message', 10_000);
        if (m.message.data.payload.length === payload.length) received++;
      }
    })();
    // Paced in windows of 4 frames (128 KiB, half the bound), so the reader is never close to the
    // bound however busy the machine is, while the paused client falls further behind each window.
    const WINDOW = 4;
    for (let i = 0; i < total; i += WINDOW) {
      for (let j = i; j < i + WINDOW; j++) sender.client.send({ type: 'message', message: { recipient: { type: 'room' }, data: { i: j, payload } } });
      await waitFor(() => received >= i + WINDOW, { timeout: 10_000, name: `reader got ${i + WINDOW}` });
    }
    await done;
    expect(received).toBe(total);

    slow.client.resumeReading();
    expect((await slow.client.closed(10_000)).code).toBe(1013);
    const metrics = await setup.server.registry.metrics();
    expect(metrics).toContain('signaling_client_slow_consumers_total 1');
    // Cut off by bytes: just past the 256 KiB bound (plus at most one frame), not megabytes later.
    const cut = Number(/signaling_client_slow_consumer_dropped_bytes_total (\d+)/.exec(metrics)![1]);
    expect(cut).toBeGreaterThan(256 * 1024);
    expect(cut).toBeLessThan(256 * 1024 + 64 * 1024);
    // The session survives the cut and can be resumed.
    const again = await TestClient.connect(setup.wsUrl);
    expect((await again.resume(slow.hello.resumeid)).type).toBe('hello');
    for (const c of [sender.client, reader.client, again]) c.close();
  });
});
