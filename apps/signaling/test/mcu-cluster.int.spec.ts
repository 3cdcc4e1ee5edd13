/* eslint-disable @typescript-eslint/no-explicit-any -- protocol messages are free-form JSON in tests */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import type { WebSocket } from 'ws';
import { sessionSubject } from '@talk-signaling/nats-bus';
import { publisherOffer, TestClient, waitFor } from '@talk-signaling/testing';
import { MCU_MAX_PENDING_OFFERS } from '../src/mcu/mcu-session-state';
import { joinMember, mcuMessage, metrics, nextError, nextMcu, setInCall, type Member } from './mcu-helpers';
import { ScriptedProxy } from './scripted-proxy';
import { startTestCluster, type TestCluster } from './test-cluster';
import { INTERNAL_SECRET, type TestSetup } from './test-server';

jest.setTimeout(30_000);

/**
 * The MCU between two signaling nodes (real nats-server, gRPC between the nodes), each with
 * its own scripted proxy, without `[app] allowsubscribeany`: `requestoffer` to a publisher on
 * the other node asks that node whether the publisher is in the caller's call
 * (`IsSessionInCall`); `sendoffer` to a receiver on the other node travels as a NATS
 * `sendoffer` message, the receiver's node subscribes it (publisher found with
 * `GetPublisherId`) and errors come back to the publisher with its request id.
 */
describe('MCU across signaling nodes (IsSessionInCall, sendoffer)', () => {
  let keyDir: string;
  let proxies: ScriptedProxy[];
  let cluster: TestCluster;
  let one: TestSetup;
  let two: TestSetup;
  /** While set, the proxies refuse every subscriber's `requestoffer`. */
  let refuseRequestOffers = false;
  /** While set, the proxies hold `create-subscriber` unanswered; the answers to send later. */
  let holdSubscribers = false;
  const held: (() => void)[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    keyDir = await mkdtemp(path.join(tmpdir(), 'talk-mcu-cluster-'));
    const keyPath = path.join(keyDir, 'key.pem');
    await writeFile(keyPath, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const onPayload = (payload: any) =>
      payload.type === 'requestoffer' && refuseRequestOffers ? { type: 'error', error: { code: 'processing_failed', message: 'refused by the test' } } : undefined;
    const onCommand = (command: any, id: string, ws: WebSocket) => {
      if (command.type !== 'create-subscriber' || !holdSubscribers) return undefined;
      held.push(() => ws.send(JSON.stringify({ id, type: 'command', command: { id: `held-${id}`, sid: `sid-held-${id}` } })));
      return 'no-answer';
    };
    proxies = [await ScriptedProxy.start({ onPayload, onCommand }), await ScriptedProxy.start({ onPayload, onCommand })];
    cluster = await startTestCluster({
      grpc: true,
      roomEventBatchMs: 5,
      nodeConfig: (i) => ['[mcu]', 'type = proxy', `url = ${proxies[i]!.url}`, `token_id = node-${i}`, `token_key = ${keyPath}`].join('\n'),
    });
    [one, two] = cluster.nodes as [TestSetup, TestSetup];
    for (const room of ['call', 'half', 'elsewhere', 'send']) cluster.nextcloud.setRoom(room, {});
    cluster.nextcloud.setRoom('no-publish', { permissions: [] });
    for (const node of cluster.nodes) await waitFor(() => node.server.sfu?.connected, { timeout: 10_000, name: 'proxy connected' });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
    for (const p of proxies ?? []) await p.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  async function member(node: TestSetup, userid: string, roomid: string): Promise<Member> {
    const m = await joinMember(node, userid, roomid);
    clients.push(m.client);
    // The node's new subscriptions for the room have reached nats-server: what the other node
    // publishes for the room next (e.g. Nextcloud's incall forwarded) reaches this member.
    await node.server.bus.flush();
    return m;
  }

  /** Nextcloud puts `members` in the call (asked of node one); waits until their own nodes know. */
  async function inCall(roomid: string, members: { m: Member; node: TestSetup }[]): Promise<void> {
    await setInCall(one, roomid, members.map((x) => x.m), 7);
    for (const { m, node } of members) await waitFor(() => node.server.sessions.byPublicId(m.sessionid)?.inCall === 7, { timeout: 10_000, name: `${m.userid} in the call` });
  }

  async function publish(m: Member, roomType = 'video'): Promise<void> {
    mcuMessage(m, { type: 'offer', sid: `s-${roomType}`, roomType, payload: { type: 'offer', sdp: publisherOffer() } });
    await nextMcu(m, 'answer');
  }

  const queueRefused = async (node: TestSetup): Promise<number> =>
    Number(/^signaling_mcu_queue_refused_messages_total (\d+)/m.exec(await metrics(node))?.[1] ?? 0);

  const isSessionInCallCalls = async (node: TestSetup): Promise<number> =>
    Number(/signaling_grpc_client_calls_total\{method="IsSessionInCall"\} (\d+)/.exec(await metrics(node))?.[1] ?? 0);

  it('requestoffer to a publisher in the call on the other node: allowed after IsSessionInCall', async () => {
    const a = await member(one, 'call-a', 'call');
    const b = await member(two, 'call-b', 'call');
    await inCall('call', [{ m: a, node: one }, { m: b, node: two }]);
    await publish(a);
    const asked = await isSessionInCallCalls(two);

    mcuMessage(b, { type: 'requestoffer', roomType: 'video' }, a.sessionid, 'r1');
    const offer = await nextMcu(b, 'offer');
    expect(offer.message).toEqual({
      sender: { type: 'session', sessionid: a.sessionid },
      data: { to: b.sessionid, from: a.sessionid, type: 'offer', roomType: 'video', payload: { type: 'offer', sdp: 'v=0 offer' }, sid: expect.any(String) },
    });
    expect(await isSessionInCallCalls(two)).toBe(asked + 1);
    // Subscribed on the publisher's proxy (found through GetPublisherId), not on node two's own.
    expect(proxies[0]!.commands('create-subscriber')).toContainEqual({ type: 'create-subscriber', streamType: 'video', publisherId: expect.any(String) });
    expect(proxies[1]!.commands('create-subscriber')).toEqual([]);
  });

  it('requestoffer to a publisher on the other node that is in the room but not in the call, or in another room: not_allowed', async () => {
    const a = await member(one, 'half-a', 'half');
    const b = await member(two, 'half-b', 'half');
    await inCall('half', [{ m: b, node: two }]);
    await publish(a);
    const asked = await isSessionInCallCalls(two);
    mcuMessage(b, { type: 'requestoffer', roomType: 'video' }, a.sessionid, 'r2');
    expect(await nextError(b)).toEqual({ id: 'r2', type: 'error', error: { code: 'not_allowed', message: 'Not allowed to request offer.' } });

    const other = await member(one, 'elsewhere-a', 'elsewhere');
    await inCall('elsewhere', [{ m: other, node: one }]);
    await publish(other);
    mcuMessage(b, { type: 'requestoffer', roomType: 'video' }, other.sessionid, 'r3');
    expect(await nextError(b)).toEqual({ id: 'r3', type: 'error', error: { code: 'not_allowed', message: 'Not allowed to request offer.' } });
    // Both answers came from node one (asked once per request).
    expect(await isSessionInCallCalls(two)).toBe(asked + 2);
  });

  it('requestoffer from an internal client on the other node: always allowed, in no room and no call', async () => {
    const a = await member(one, 'internal-pub', 'call');
    await publish(a);
    const internal = await TestClient.connect(two.wsUrl);
    clients.push(internal);
    expect((await internal.helloInternal({ backend: cluster.nextcloud.url, secret: INTERNAL_SECRET })).type).toBe('hello');
    const asked = await isSessionInCallCalls(two);
    internal.send({ id: 'r4', type: 'message', message: { recipient: { type: 'session', sessionid: a.sessionid }, data: { type: 'requestoffer', roomType: 'video' } } });
    const offer = await internal.waitForMessage((m) => m.type === 'message' && m.message.data?.type === 'offer');
    expect(offer.message.data).toMatchObject({ from: a.sessionid, type: 'offer', roomType: 'video' });
    expect(await isSessionInCallCalls(two)).toBe(asked);
  });

  it('an internal client publishing on one node (e.g. the SIP bridge) is subscribed from the other node (GetPublisherId)', async () => {
    const internal = async (node: TestSetup): Promise<Member> => {
      const client = await TestClient.connect(node.wsUrl);
      clients.push(client);
      const reply = await client.helloInternal({ backend: cluster.nextcloud.url, secret: INTERNAL_SECRET });
      return { client, sessionid: reply.hello.sessionid, userid: '', ncSession: '' };
    };
    const bridge = await internal(one);
    await publish(bridge);
    const recorder = await internal(two);
    mcuMessage(recorder, { type: 'requestoffer', roomType: 'video' }, bridge.sessionid, 'i1');
    expect((await nextMcu(recorder, 'offer')).message.data).toMatchObject({ from: bridge.sessionid, to: recorder.sessionid, type: 'offer' });
  });

  it('sendoffer to a receiver on the other node: its node subscribes it and sends it the offer from the publisher', async () => {
    const a = await member(one, 'send-a', 'send');
    const b = await member(two, 'send-b', 'send');
    await publish(a);
    const created = proxies[0]!.commands('create-subscriber').length;
    mcuMessage(a, { type: 'sendoffer', roomType: 'video' }, b.sessionid, 's1');
    const offer = await nextMcu(b, 'offer');
    expect(offer.message).toEqual({
      sender: { type: 'session', sessionid: a.sessionid },
      data: { to: b.sessionid, from: a.sessionid, type: 'offer', roomType: 'video', payload: { type: 'offer', sdp: 'v=0 offer' }, sid: expect.any(String) },
    });
    // Node two made the subscriber, on the publisher's proxy; node one has no MCU object for b.
    expect(proxies[0]!.commands('create-subscriber')).toHaveLength(created + 1);
    expect(proxies[1]!.commands('create-subscriber')).toEqual([]);
    expect(two.server.mcu?.stateOf(two.server.sessions.byPublicId(b.sessionid)!)?.subscriber(a.sessionid, 'video')).toBeDefined();

    // The receiver answers its own node's subscriber.
    mcuMessage(b, { type: 'answer', sid: offer.message.data.sid, roomType: 'video', payload: { type: 'answer', sdp: publisherOffer() } }, a.sessionid, 's2');
    await waitFor(() => proxies[0]!.received.some((m) => m.type === 'payload' && m.payload.type === 'answer'), { timeout: 10_000, name: 'answer reached the proxy' });
  });

  it('sendoffer errors from the receiver’s node come back to the publisher with its request id', async () => {
    const a = await member(one, 'err-a', 'send');
    const b = await member(two, 'err-b', 'send');
    await publish(a);
    // The receiver's node cannot subscribe to an audio stream (as upstream: no MCU client).
    mcuMessage(a, { type: 'sendoffer', roomType: 'audio' }, b.sessionid, 'e1');
    expect(await nextError(a)).toEqual({ id: 'e1', type: 'error', error: { code: 'client_not_found', message: 'No MCU client found to send message to.' } });

    // The publisher's proxy refuses the receiver's requestoffer: processing_failed.
    refuseRequestOffers = true;
    try {
      mcuMessage(a, { type: 'sendoffer', roomType: 'video' }, b.sessionid, 'e2');
      expect(await nextError(a)).toEqual({ id: 'e2', type: 'error', error: { code: 'processing_failed', message: 'Processing of the message failed, please check server logs.' } });
    } finally {
      refuseRequestOffers = false;
    }

    // A receiver nobody holds: the request goes nowhere and nobody answers (as upstream); the
    // next request's answer is the next thing the publisher hears.
    mcuMessage(a, { type: 'sendoffer', roomType: 'video' }, 'no-such-session', 'e3');
    mcuMessage(a, { type: 'sendoffer', roomType: 'audio' }, b.sessionid, 'e4');
    expect(await nextError(a)).toMatchObject({ id: 'e4', error: { code: 'client_not_found' } });
  });

  it('sendoffer to a receiver on the other node from a publisher without publish permission: not_allowed, nothing sent', async () => {
    const a = await member(one, 'noperm-a', 'no-publish');
    const b = await member(two, 'noperm-b', 'send');
    mcuMessage(a, { type: 'sendoffer', roomType: 'video' }, b.sessionid, 'n1');
    expect(await nextError(a)).toEqual({ id: 'n1', type: 'error', error: { code: 'not_allowed', message: 'Not allowed to send offer' } });
  });

  it('drops malformed sendoffer requests another NATS client publishes for a receiver, and keeps serving it', async () => {
    const a = await member(one, 'hostile-a', 'send');
    const b = await member(two, 'hostile-b', 'send');
    await publish(a);
    const raw = await connect({ servers: cluster.nats.url });
    try {
      const subject = sessionSubject(b.sessionid);
      for (const sendoffer of [
        null,
        [],
        { data: { type: 'sendoffer', roomType: 'video' } },
        { sessionid: 5, data: { type: 'sendoffer', roomType: 'video' } },
        { sessionid: a.sessionid, messageid: 7, data: { type: 'sendoffer', roomType: 'video' } },
        { sessionid: a.sessionid, data: 'video' },
        { sessionid: a.sessionid, data: { type: 'sendoffer', roomType: 'bogus' } },
        { sessionid: b.sessionid, data: { type: 'sendoffer', roomType: 'video' } },
      ]) {
        raw.publish(subject, JSON.stringify({ type: 'sendoffer', sendoffer }));
      }
      await raw.flush();
    } finally {
      await raw.close();
    }
    // Published after the garbage on the same subject, so handled after it: the first MCU
    // object node two made for b is this one.
    mcuMessage(a, { type: 'sendoffer', roomType: 'video' }, b.sessionid, 'h1');
    expect((await nextMcu(b, 'offer')).message.data).toMatchObject({ from: a.sessionid, to: b.sessionid });
    expect([...(two.server.mcu?.stateOf(two.server.sessions.byPublicId(b.sessionid)!)?.subscribers ?? [])].map((s) => s.publisherId)).toEqual([a.sessionid]);
  });

  it('a session has at most MCU_MAX_PENDING_OFFERS requestoffers and sendoffers waiting; more are refused with too_many_requests, then it is served again', async () => {
    const a = await member(one, 'flood-a', 'call');
    const b = await member(two, 'flood-b', 'call');
    await inCall('call', [{ m: a, node: one }, { m: b, node: two }]);
    await publish(a);
    const refused = await queueRefused(two);
    const tooMany = { type: 'error', error: { code: 'too_many_requests', message: 'Too many requests.' } };
    holdSubscribers = true;
    try {
      // Each passes the in-call check (asked of node one), then waits for the subscriber the proxy holds.
      for (let i = 0; i <= MCU_MAX_PENDING_OFFERS; i++) mcuMessage(b, { type: 'requestoffer', roomType: 'video' }, a.sessionid, `f${i}`);
      expect(await nextError(b)).toEqual({ id: `f${MCU_MAX_PENDING_OFFERS}`, ...tooMany });
      // A sendoffer counts for its receiver: refused on b's node, the error reaches the publisher with its id.
      mcuMessage(a, { type: 'sendoffer', roomType: 'video' }, b.sessionid, 'full');
      expect(await nextError(a)).toEqual({ id: 'full', ...tooMany });
      expect(await queueRefused(two)).toBe(refused + 2);
      // One subscriber is being made for all the waiting requests.
      await waitFor(() => held.length === 1, { timeout: 10_000, name: 'subscriber creation held' });
    } finally {
      holdSubscribers = false;
    }
    // Once it is there every waiting request gets its offer (one each: were any refused or failed,
    // the offers below would not add up) ...
    held.pop()!();
    for (let i = 0; i < MCU_MAX_PENDING_OFFERS; i++) await nextMcu(b, 'offer');
    // ... and b is served again: its own requestoffer, then a sendoffer for it.
    mcuMessage(b, { type: 'requestoffer', roomType: 'video' }, a.sessionid, 'again');
    expect((await nextMcu(b, 'offer')).message.data).toMatchObject({ from: a.sessionid, to: b.sessionid });
    mcuMessage(a, { type: 'sendoffer', roomType: 'video' }, b.sessionid, 'again');
    expect((await nextMcu(b, 'offer')).message.data).toMatchObject({ from: a.sessionid, to: b.sessionid });
    // The refused requests were the only errors.
    const errorIds = (m: Member) => m.client.messages.filter((x) => x.type === 'error').map((x) => x.id);
    expect([errorIds(b), errorIds(a)]).toEqual([[`f${MCU_MAX_PENDING_OFFERS}`], ['full']]);
    expect(await queueRefused(two)).toBe(refused + 2);
  });
});
