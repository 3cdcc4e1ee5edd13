import { connect, type NatsConnection } from 'nats';
import { backendRoomSubject, roomSubject, sessionSubject } from '@talk-signaling/nats-bus';
import { TestClient } from '@talk-signaling/testing';
import { startTestCluster, type TestCluster } from './test-cluster';
import type { TestSetup } from './test-server';

jest.setTimeout(30_000);

/**
 * Whatever another NATS client publishes on a node's subjects — garbage, the wrong shapes,
 * oversize payloads, requests with broken fields — the node drops it, counts it and keeps
 * serving its clients.
 */
describe('hostile messages on the NATS subjects of a live node', () => {
  let cluster: TestCluster;
  let node: TestSetup;
  let raw: NatsConnection;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster({ nodes: 1, roomEventBatchMs: 5 });
    node = cluster.nodes[0]!;
    raw = await connect({ servers: cluster.nats.url });
  });
  afterAll(async () => {
    while (clients.length) clients.pop()!.close();
    await raw?.close();
    await cluster?.stop();
  });

  it('drops what is not a message for its subject, and the session and room keep working', async () => {
    cluster.nextcloud.setRoom('h', {});
    const client = await TestClient.connect(node.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: cluster.nextcloud.backendUrl, params: cluster.nextcloud.addUser('hal') });
    await client.next('welcome');
    expect((await client.joinRoom('h', 'nc-hal')).type).toBe('room');
    await client.waitForMessage((m) => m.type === 'event' && m.event.type === 'join');
    await node.server.bus.flush();
    const backendId = node.server.backends.all()[0]!.id;
    const send = (subject: string, payload: string | Buffer) => raw.publish(subject, Buffer.from(payload));

    const session = sessionSubject(reply.hello.sessionid);
    send(session, 'garbage');
    send(session, '{"type":"message","message":{"type":"event","event":null}}');
    send(session, '{"type":"message","message":[]}');
    // Well-formed but nested 200 deep (the bus accepts 128).
    send(session, '['.repeat(200) + ']'.repeat(200));
    send(session, `{"type":"message","message":{"type":"x","pad":"${'x'.repeat(1_100_000)}"}}`.slice(0, 900_000));
    const room = roomSubject('h', backendId);
    send(room, '{"type":"room"}');
    send(room, '{"type":"message","message":{"type":"message","message":null}}');
    const backendRoom = backendRoomSubject('h', backendId);
    send(backendRoom, '{"type":"room","room":{"type":"transient","transient":{"action":"set","key":5}}}');
    send(backendRoom, '{"type":"room","room":{"type":"transient","transient":null}}');
    send(backendRoom, '{"type":"room","room":{"type":"update","update":"nope"}}');
    send(backendRoom, '{"type":"room","room":{"type":"incall","incall":{"all":true,"incall":"x"}}}');
    send(backendRoom, '{"type":"asyncroom","asyncroom":{"type":"sessionjoined","sessionid":7}}');
    send(backendRoom, '{"type":"asyncroom","asyncroom":{"type":"sessionjoined","sessionid":"not-a-session"}}');
    send(backendRoom, '{"type":"room","room":{"type":"message","received":"later"}}');
    await raw.flush();

    // Still served: a message from a peer of the cluster arrives.
    send(session, JSON.stringify({ type: 'message', sendtime: new Date().toISOString(), message: { type: 'message', message: { sender: { type: 'session', sessionid: 'peer' }, data: 'ok' } } }));
    await raw.flush();
    const got = await client.waitForMessage((m) => m.type === 'message');
    expect(got).toEqual({ type: 'message', message: { sender: { type: 'session', sessionid: 'peer' }, data: 'ok' } });
    // Nothing of the hostile ones reached the client (a server message with a null payload included).
    expect(client.messages.filter((m: { type: string; event?: unknown; message?: unknown }) => m.event === null || m.message === null)).toEqual([]);
    const metrics = await node.server.registry.getSingleMetricAsString('signaling_nats_messages_dropped_total');
    for (const reason of ['malformed', 'invalid', 'too_deep']) expect(metrics).toContain(`reason="${reason}"`);
    client.send({ type: 'transient', transient: { type: 'set', key: 'k', value: 1 } });
    expect((await client.waitForMessage((m) => m.type === 'transient')).transient).toEqual({ type: 'set', key: 'k', value: 1 });
    expect(node.server.rooms.get(backendId, 'h')!.transient.size).toBe(1);
  });
});
