import { DEFAULT_FEATURES, startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { FaultProxy, TestClient, waitFor } from '@talk-signaling/testing';
import type { FederationBudget } from '../src/federation/federation-budget';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(60_000);

/* eslint-disable @typescript-eslint/no-explicit-any -- protocol messages are free-form JSON in tests */

const BUDGET: FederationBudget = { maxPendingMessages: 1024, maxPendingBytes: 64 * 1024, maxBufferedBytes: 256 * 1024 };

/**
 * Federation relays are bounded in bytes (issue 10, item 2): a remote server that stops reading
 * is cut off (and the connection resumed when it reads again), and what waits while the remote
 * is unreachable is bounded, the oldest going first. Two real servers, a FaultProxy between.
 */
describe('federation budgets', () => {
  let ncA: FakeNextcloud;
  let ncB: FakeNextcloud;
  let a: TestSetup;
  let b: TestSetup;
  let proxy: FaultProxy;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    ncA = await startFakeNextcloud({ secret: 'secret-of-a' });
    ncB = await startFakeNextcloud({ secret: 'secret-of-b' });
    await ncB.useHelloV2Keys('ES256');
    ncB.setCapabilities({ features: [...DEFAULT_FEATURES, 'federation-v2'] });
    ncB.setRoom('room-b', {});
  });
  beforeEach(async () => {
    const common = { roomEventBatchMs: 5, serverOptions: { federationReconnect: { initialMs: 50, maxMs: 200 }, federationBudget: BUDGET } };
    b = await startTestSetup({ nextcloud: ncB, ...common });
    a = await startTestSetup({ nextcloud: ncA, ...common });
    proxy = await FaultProxy.start({ port: Number(new URL(b.baseUrl).port) });
  });
  afterEach(async () => {
    while (clients.length) clients.pop()!.close();
    await proxy.close();
    await a.stop();
    await b.stop();
  });
  afterAll(async () => {
    await ncA.close();
    await ncB.close();
  });

  async function user(setup: TestSetup, nextcloud: FakeNextcloud, userid: string) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(userid) });
    expect(reply.type).toBe('hello');
    return { client, sessionid: reply.hello.sessionid as string };
  }

  /** Bob on B in room-b; alice of A joined to it through the proxy. Queues drained. */
  async function federated() {
    const bob = await user(b, ncB, 'bob');
    expect((await bob.client.joinRoom('room-b', 'nc-b-bob')).type).toBe('room');
    const alice = await user(a, ncA, 'alice');
    const token = await ncB.issueHelloV2Token('alice', { userdata: { displayname: 'Alice' } });
    alice.client.send({
      id: 'fj',
      type: 'room',
      room: { roomid: 'local-room', sessionid: 'nc-a-alice', federation: { signaling: `http://127.0.0.1:${proxy.port}/`, url: ncB.url, roomid: 'room-b', token } },
    });
    await alice.client.waitForMessage((m) => m.type === 'room' && m.id === 'fj');
    await bob.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'join' && m.event.join.some((e: any) => e.userid === 'alice'));
    return { alice, bob };
  }

  const toBob = (bob: string, data: unknown) => ({ type: 'message', message: { recipient: { type: 'session', sessionid: bob }, data } });
  const metric = async (setup: TestSetup, name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await setup.server.registry.metrics())?.[1] ?? 'NaN');

  it('cuts off a remote server that stops reading, then resumes the remote session', async () => {
    const { alice, bob } = await federated();
    proxy.stall('to');
    // ~12 MiB towards B: far beyond the socket buffers and the 256 KiB budget.
    const payload = 'x'.repeat(60 * 1024);
    // Batches of ten; reading the metric between batches lets the server work.
    for (let i = 0; i < 400 && (await metric(a, 'signaling_federation_slow_connections_total')) === 0; ) {
      for (let k = 0; k < 10; k++) alice.client.send(toBob(bob.sessionid, { i: i++, payload }));
    }
    await waitFor(async () => (await metric(a, 'signaling_federation_slow_connections_total')) === 1, { timeout: 10_000, name: 'cut off' });
    expect(await alice.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'federation_interrupted', 10_000)).toBeDefined();

    proxy.unstall('to');
    const resumed = await alice.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'federation_resumed', 10_000);
    expect(resumed.event.resumed).toBe(true);
    alice.client.send(toBob(bob.sessionid, 'after'));
    await bob.client.waitForMessage((m) => m.type === 'message' && m.message.data === 'after', 10_000);
  });

  it('keeps at most the pending budget while the remote is unreachable, newest messages first', async () => {
    const { alice, bob } = await federated();
    proxy.suspend();
    await alice.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'federation_interrupted');
    // Twenty messages of 8 KiB: about 160 KiB against a 64 KiB budget.
    for (let i = 0; i < 20; i++) alice.client.send(toBob(bob.sessionid, { i, payload: 'y'.repeat(8 * 1024) }));
    // At most eight of them fit into 64 KiB.
    await waitFor(async () => (await metric(a, 'signaling_federation_pending_dropped_messages_total')) >= 12, { timeout: 10_000, name: 'oldest dropped' });

    proxy.unsuspend();
    await alice.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'federation_resumed', 10_000);
    const received: number[] = [];
    while (received.at(-1) !== 19) received.push((await bob.client.waitForMessage((m) => m.type === 'message')).message.data.i);
    // The newest survived, in order; exactly the oldest went, and the metrics counted them.
    const dropped = received[0]!;
    expect(received).toEqual(Array.from({ length: 20 - dropped }, (_, k) => dropped + k));
    expect(await metric(a, 'signaling_federation_pending_dropped_messages_total')).toBe(dropped);
    expect(await metric(a, 'signaling_federation_pending_dropped_bytes_total')).toBeGreaterThan(dropped * 8 * 1024);
  });
});
