import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { startTestSetup, type TestSetup } from './test-server';

/**
 * Fills one room with ROOM_SIZE sessions over real sockets and checks that every member ends
 * up knowing every other member (its own entry included). The clients run in a worker thread
 * (the other core), so the elapsed time reflects the server; it is printed and recorded in
 * docs/benchmarks.md, never asserted — performance is measured, not unit-tested.
 */
const ROOM_SIZE = Number(process.env['ROOM_FILL_SIZE'] ?? 2_000);
const CONCURRENCY = Number(process.env['ROOM_FILL_CONCURRENCY'] ?? 200);

jest.setTimeout(180_000);

describe(`one room with ${ROOM_SIZE} sessions`, () => {
  let setup: TestSetup;

  beforeAll(async () => {
    setup = await startTestSetup();
    setup.nextcloud.setRoom('big', {});
  });
  afterAll(async () => {
    await setup.stop();
  });

  it('ends with every member knowing every other member', async () => {
    const params = Array.from({ length: ROOM_SIZE }, (_, i) => setup.nextcloud.addUser(`u${i}`));
    const worker = new Worker(path.join(__dirname, 'room-fill-clients.worker.cjs'), {
      workerData: { wsUrl: setup.wsUrl, backendUrl: setup.nextcloud.backendUrl, params, roomId: 'big', concurrency: CONCURRENCY },
    });
    const result = await new Promise<{ ok: boolean; joinedMs?: number; completeMs?: number; error?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(setup.server.rooms.get('nc1', 'big')?.size).toBe(ROOM_SIZE);
    console.log(`room fill: ${ROOM_SIZE} sessions joined after ${result.joinedMs} ms, full member lists everywhere after ${result.completeMs} ms`);
  });
});
