import pino from 'pino';
import type { Logger } from '@talk-signaling/runtime';
import type { TestClient} from '@talk-signaling/testing';
import { waitFor } from '@talk-signaling/testing';
import { startTestCluster, type TestCluster } from './test-cluster';
import type { TestSetup } from './test-server';

jest.setTimeout(60_000);

const WAIT = { timeout: 20_000 };

/** Every log line of every node, parsed (real pino, written to an array). */
const lines: { msg?: string; component?: string; level: string }[] = [];
const log = pino({ level: 'info', formatters: { level: (label) => ({ level: label }) } }, { write: (line: string) => void lines.push(JSON.parse(line)) }) as unknown as Logger;

async function metric(node: TestSetup, name: string): Promise<number> {
  const m = node.server.registry.getSingleMetric(name);
  return m ? ((await m.get()).values[0]?.value ?? 0) : NaN;
}

/**
 * nats-server killed and restarted under two nodes with clients on both (issue 11 item 5):
 * clients stay connected to their node, cross-node delivery comes back by itself, the logs and
 * metrics say what happened, and nothing arrives twice.
 */
describe('nats-server killed and restarted under a cluster', () => {
  let cluster: TestCluster;
  let one: TestSetup;
  let two: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster({ nodes: 2, roomEventBatchMs: 5, serverOptions: { log } });
    [one, two] = cluster.nodes as [TestSetup, TestSetup];
  });
  afterAll(async () => {
    while (clients.length) clients.pop()!.close();
    await cluster?.stop();
  });

  const user = (node: TestSetup, userid: string) => cluster.user(node, userid, clients);

  const toSession = (sessionid: string, data: unknown) => ({ type: 'message', message: { recipient: { type: 'session', sessionid }, data } });
  const joinOf = (sessionid: string) => (m: { type: string; event?: { join?: { sessionid: string }[] } }) =>
    m.type === 'event' && m.event?.join?.some((e) => e.sessionid === sessionid) === true;

  it('keeps clients connected, resumes cross-node delivery by itself, and delivers nothing twice', async () => {
    cluster.nextcloud.setRoom('r', {});
    const alice = await user(one, 'alice');
    const carl = await user(one, 'carl');
    const bob = await user(two, 'bob');
    expect((await alice.client.joinRoom('r', 'nc-a')).type).toBe('room');
    await alice.client.waitForMessage(joinOf(alice.sessionid));
    await one.server.bus.flush();
    expect((await bob.client.joinRoom('r', 'nc-b')).type).toBe('room');
    await bob.client.waitForMessage(joinOf(alice.sessionid));
    await alice.client.waitForMessage(joinOf(bob.sessionid));
    alice.client.send(toSession(bob.sessionid, 'before'));
    expect((await bob.client.next('message')).message.data).toBe('before');

    cluster.nats.kill();
    await waitFor(async () => (await metric(one, 'signaling_nats_connected')) === 0 && (await metric(two, 'signaling_nats_connected')) === 0, {
      ...WAIT,
      name: 'both nodes to notice',
    });
    expect(lines.filter((l) => l.level === 'warn' && l.msg?.startsWith('lost the NATS connection'))).toHaveLength(2);
    expect(await metric(one, 'signaling_nats_disconnects_total')).toBe(1);

    // During the outage: sessions on one node still reach each other; the other node is cut off.
    alice.client.send(toSession(carl.sessionid, 'same node'));
    expect((await carl.client.next('message')).message.data).toBe('same node');
    alice.client.send(toSession(bob.sessionid, 'lost'));
    await waitFor(async () => (await one.server.registry.getSingleMetricAsString('signaling_nats_messages_dropped_total')).includes('reason="disconnected"'), {
      ...WAIT,
      name: 'the dropped message counted',
    });

    await cluster.nats.restart();
    await waitFor(async () => (await metric(one, 'signaling_nats_reconnects_total')) === 1 && (await metric(two, 'signaling_nats_reconnects_total')) === 1, {
      ...WAIT,
      name: 'both nodes reconnected',
    });
    expect(await metric(two, 'signaling_nats_connected')).toBe(1);
    expect(lines.filter((l) => l.msg === 'reconnected to NATS, subscriptions renewed')).toHaveLength(2);

    // Nobody was disconnected, and cross-node traffic flows again — sessions, rooms, new joins.
    alice.client.send(toSession(bob.sessionid, 'after'));
    expect((await bob.client.next('message')).message.data).toBe('after');
    bob.client.send({ type: 'message', message: { recipient: { type: 'room' }, data: 'room after' } });
    expect((await alice.client.next('message')).message.data).toBe('room after');
    expect((await carl.client.joinRoom('r', 'nc-c')).type).toBe('room');
    await bob.client.waitForMessage(joinOf(carl.sessionid));
    await carl.client.waitForMessage(joinOf(bob.sessionid));

    // Nothing arrives twice and nothing from the outage is replayed: a last marker from each
    // side must be the very next thing the other one gets.
    alice.client.send(toSession(bob.sessionid, 'marker'));
    expect((await bob.client.next('message')).message.data).toBe('marker');
    bob.client.send(toSession(alice.sessionid, 'marker'));
    expect(await alice.client.waitForMessage((m) => m.type === 'message')).toMatchObject({ message: { data: 'marker' } });
    await bob.client.expectNoMessage(200);
  });
});
