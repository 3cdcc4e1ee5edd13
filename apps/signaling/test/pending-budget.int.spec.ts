import { TestClient, waitFor } from '@talk-signaling/testing';
import type { PendingBudget } from '../src/session/client-session';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(30_000);

/**
 * A detached session's queue is bounded in bytes and messages (issue 10, item 2): past either
 * bound the session expires at once (its client then resumes into `no_such_session` and starts
 * afresh, as after a missed resume window); below, every message is replayed in order.
 */
describe('pending queue budget of a detached session', () => {
  let setup: TestSetup | undefined;
  const clients: TestClient[] = [];

  afterEach(async () => {
    while (clients.length) clients.pop()!.close();
    await setup?.stop();
    setup = undefined;
  });

  async function start(budget: PendingBudget): Promise<TestSetup> {
    setup = await startTestSetup({ roomEventBatchMs: 5, timeouts: { resumeWindowMs: 60_000 }, serverOptions: { pendingBudget: budget } });
    setup.nextcloud.setRoom('queue', {});
    return setup;
  }

  async function joined(s: TestSetup, userid: string) {
    const client = await TestClient.connect(s.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: s.nextcloud.backendUrl, params: s.nextcloud.addUser(userid) });
    expect((await client.joinRoom('queue', `nc-${userid}`)).type).toBe('room');
    return { client, sessionid: reply.hello.sessionid as string, resumeid: reply.hello.resumeid as string };
  }

  /** Both in the room; `b` then loses its socket without a bye and waits for a resume. */
  async function detachedPair(s: TestSetup) {
    const a = await joined(s, 'a');
    const b = await joined(s, 'b');
    await waitFor(() => s.server.rooms.get('nc1', 'queue')?.size === 2, { timeout: 5_000, name: 'both in the room' });
    // Both have seen b's (batched) join before b goes, so no room event of the join lands in
    // b's queue: the queue then holds exactly what a test sends.
    const joinOfB = (m: { type: string; event?: { type: string; join?: { sessionid: string }[] } }) =>
      m.type === 'event' && m.event?.type === 'join' && (m.event.join ?? []).some((e) => e.sessionid === b.sessionid);
    await a.client.waitForMessage(joinOfB);
    await b.client.waitForMessage(joinOfB);
    b.client.close();
    await waitFor(() => s.server.sessions.byPublicId(b.sessionid)?.connection === undefined, { timeout: 5_000, name: 'b detached' });
    return { a, b };
  }

  const roomMessage = (i: number, payload: string) => ({ type: 'message', message: { recipient: { type: 'room' }, data: { i, payload } } });

  it('replays everything below the budget, in order', async () => {
    const s = await start({ maxMessages: 1024, maxBytes: 64 * 1024 });
    const { a, b } = await detachedPair(s);
    for (let i = 0; i < 5; i++) a.client.send(roomMessage(i, 'x'.repeat(1024)));
    // The five messages (and whatever room events b was sent meanwhile) wait for b.
    const queued = () => s.server.sessions.byPublicId(b.sessionid)!.pendingCount;
    await waitFor(() => queued() >= 5, { timeout: 5_000, name: 'five queued' });
    const again = await TestClient.connect(s.wsUrl);
    clients.push(again);
    expect((await again.resume(b.resumeid)).type).toBe('hello');
    await again.next('welcome');
    const replayed = [];
    for (let i = 0; i < 5; i++) replayed.push((await again.waitForMessage((m) => m.type === 'message')).message.data.i);
    expect(replayed).toEqual([0, 1, 2, 3, 4]);
  });

  it('expires the session when its queue passes the byte budget; the room and the metrics say so', async () => {
    const s = await start({ maxMessages: 1024, maxBytes: 64 * 1024 });
    const { a, b } = await detachedPair(s);
    const payload = 'x'.repeat(8 * 1024);
    // Eight frames of a bit over 8 KiB pass 64 KiB.
    for (let i = 0; i < 8; i++) a.client.send(roomMessage(i, payload));
    const leave = await a.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'leave');
    expect(leave.event.leave).toEqual([b.sessionid]);
    expect(s.server.sessions.byPublicId(b.sessionid)).toBeUndefined();

    const metrics = await s.server.registry.metrics();
    expect(metrics).toContain('signaling_client_pending_overflows_total 1');
    // The eight messages, plus whatever else b was sent meanwhile (room events).
    expect(Number(/signaling_client_pending_dropped_messages_total (\d+)/.exec(metrics)![1])).toBeGreaterThanOrEqual(8);
    const bytes = Number(/signaling_client_pending_dropped_bytes_total (\d+)/.exec(metrics)![1]);
    expect(bytes).toBeGreaterThan(64 * 1024);
    expect(bytes).toBeLessThan(64 * 1024 + 9 * 1024);
    expect(metrics).toMatch(/signaling_hub_sessions_expired_total\{[^}]*\} 1/);

    // The client's resume fails the way an expired window does; a fresh hello works.
    const again = await TestClient.connect(s.wsUrl);
    clients.push(again);
    expect(await again.resume(b.resumeid)).toMatchObject({ type: 'error', error: { code: 'no_such_session' } });
    expect((await again.hello({ url: s.nextcloud.backendUrl, params: s.nextcloud.addUser('b') })).type).toBe('hello');

    // A is still served.
    const c = await joined(s, 'c');
    c.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: a.sessionid }, data: { hi: 1 } } });
    expect((await a.client.waitForMessage((m) => m.type === 'message')).message.data).toEqual({ hi: 1 });
  });

  it('expires the session when its queue passes the message budget', async () => {
    const s = await start({ maxMessages: 5, maxBytes: 1024 * 1024 });
    const { a, b } = await detachedPair(s);
    for (let i = 0; i < 6; i++) a.client.send(roomMessage(i, 'small'));
    await waitFor(() => s.server.sessions.byPublicId(b.sessionid) === undefined, { timeout: 5_000, name: 'b expired' });
    const metrics = await s.server.registry.metrics();
    expect(metrics).toContain('signaling_client_pending_overflows_total 1');
    // Five queued and the sixth that did not fit.
    expect(metrics).toContain('signaling_client_pending_dropped_messages_total 6');
  });
});
