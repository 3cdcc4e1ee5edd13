import { MAX_JSON_DEPTH } from '@talk-signaling/protocol';
import { TestClient } from '@talk-signaling/testing';
import { DEFAULT_TRANSIENT_MAX_BYTES } from '../src/room/transient-data';
import { INTERNAL_SECRET, startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(20_000);

/** `depth` nested arrays as JSON text (JSON.stringify itself cannot produce 10,000 levels). */
const deep = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const INVALID_FORMAT = { type: 'error', error: { code: 'invalid_format', message: 'Invalid data format.' } };

/**
 * One hostile frame gets one error and is forgotten (issue 10, item 1): deeply nested JSON in
 * every place a client or Nextcloud can put it, over real sockets, with a bystander in the same
 * room who must keep being served.
 */
describe('hostile input', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5 });
  });
  afterAll(async () => {
    await setup.stop();
  });
  afterEach(() => {
    while (clients.length) clients.pop()!.close();
  });

  async function connect(): Promise<TestClient> {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    await client.next('welcome');
    return client;
  }

  async function joined(userid: string, roomid: string, others: number) {
    const client = await connect();
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
    expect(reply.type).toBe('hello');
    expect((await client.joinRoom(roomid)).type).toBe('room');
    expect((await client.next('event')).event.type).toBe('join');
    if (others > 0) expect((await client.next('event')).event.join).toHaveLength(others);
    return { client, sessionid: reply.hello.sessionid as string };
  }

  /** A and B in room `tag` (fresh per test); B's join reaches A. */
  async function pair(tag: string) {
    setup.nextcloud.setRoom(tag, {});
    const a = await joined(`${tag}-a`, tag, 0);
    const b = await joined(`${tag}-b`, tag, 1);
    expect((await a.client.next('event')).event.join[0].sessionid).toBe(b.sessionid);
    return { a, b };
  }

  /** The two still talk to each other through the server. */
  async function stillServed(a: { client: TestClient; sessionid: string }, b: { client: TestClient; sessionid: string }) {
    b.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: a.sessionid }, data: { ping: 1 } } });
    expect(await a.client.waitForMessage((m) => m.type === 'message')).toMatchObject({ message: { sender: { sessionid: b.sessionid }, data: { ping: 1 } } });
    a.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: b.sessionid }, data: { pong: 1 } } });
    expect(await b.client.waitForMessage((m) => m.type === 'message')).toMatchObject({ message: { sender: { sessionid: a.sessionid }, data: { pong: 1 } } });
  }

  it('refuses a 10,000-deep transient value with invalid_format and keeps the room working', async () => {
    const { a, b } = await pair('transient');
    a.client.sendRaw(`{"id":"t1","type":"transient","transient":{"type":"set","key":"k","value":${deep(10_000)}}}`);
    expect(await a.client.next()).toEqual(INVALID_FORMAT);
    // Nothing reached the room, and transient data still works for everybody.
    a.client.send({ type: 'transient', transient: { type: 'set', key: 'k', value: 'fine' } });
    const set = { type: 'transient', transient: { type: 'set', key: 'k', value: 'fine' } };
    expect(await a.client.next()).toEqual(set);
    expect(await b.client.next()).toEqual(set);
    await stillServed(a, b);
  });

  it('accepts values nested up to the limit', async () => {
    const { a, b } = await pair('limit');
    // Envelope (1) + transient (2) + the value: exactly MAX_JSON_DEPTH levels in all.
    const value = deep(MAX_JSON_DEPTH - 2);
    a.client.sendRaw(`{"type":"transient","transient":{"type":"set","key":"v","value":${value}}}`);
    const expected = JSON.parse(`{"type":"transient","transient":{"type":"set","key":"v","value":${value}}}`);
    expect(await a.client.next()).toEqual(expected);
    expect(await b.client.next()).toEqual(expected);
    a.client.sendRaw(`{"type":"transient","transient":{"type":"set","key":"v","value":${deep(MAX_JSON_DEPTH - 1)}}}`);
    expect(await a.client.next()).toEqual(INVALID_FORMAT);
  });

  it(`bounds a room's transient data at ${DEFAULT_TRANSIENT_MAX_BYTES / 2 ** 20} MiB: not_allowed beyond, room goes on`, async () => {
    const { a, b } = await pair('transient-full');
    const value = 'v'.repeat(60 * 1024);
    const fit = Math.floor(DEFAULT_TRANSIENT_MAX_BYTES / (value.length + 2 + 4));
    for (let i = 0; i <= fit; i++) a.client.send({ id: `t${i}`, type: 'transient', transient: { type: 'set', key: `k${i}`, value } });
    const full = await a.client.waitForMessage((m) => m.type === 'error', 20_000);
    expect(full).toEqual({ id: `t${fit}`, type: 'error', error: { code: 'not_allowed', message: 'The transient data of this room is full.' } });
    // B saw every accepted set and not the refused one.
    for (let i = 0; i < fit; i++) expect((await b.client.next('transient')).transient.key).toBe(`k${i}`);
    a.client.send({ type: 'transient', transient: { type: 'remove', key: 'k0' } });
    expect((await b.client.next('transient')).transient).toMatchObject({ type: 'remove', key: 'k0' });
    a.client.send({ type: 'transient', transient: { type: 'set', key: 'again', value: 'small' } });
    expect((await b.client.next('transient')).transient).toEqual({ type: 'set', key: 'again', value: 'small' });
    await stillServed(a, b);
  });

  it('refuses deep hello params; the same connection can say hello afterwards', async () => {
    const client = await connect();
    client.sendRaw(`{"id":"h1","type":"hello","hello":{"version":"1.0","auth":{"url":"${setup.nextcloud.backendUrl}","params":${deep(10_000)}}}}`);
    expect(await client.next()).toEqual(INVALID_FORMAT);
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser('after-deep-hello') });
    expect(reply.type).toBe('hello');
  });

  it.each(['message', 'control'])('refuses deep %s data for every recipient type', async (type) => {
    const { a, b } = await pair(`deep-${type}`);
    for (const recipient of [{ type: 'session', sessionid: b.sessionid }, { type: 'room' }, { type: 'user', userid: `deep-${type}-b` }]) {
      a.client.sendRaw(`{"id":"m1","type":"${type}","${type}":{"recipient":${JSON.stringify(recipient)},"data":${deep(10_000)}}}`);
      expect(await a.client.next()).toEqual(INVALID_FORMAT);
    }
    await stillServed(a, b);
  });

  it('refuses deep internal-client payloads', async () => {
    const internal = await connect();
    expect((await internal.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET })).type).toBe('hello');
    internal.sendRaw(`{"type":"internal","internal":{"type":"addsession","addsession":{"sessionid":"v1","roomid":"deep","options":${deep(10_000)}}}}`);
    expect(await internal.next()).toEqual(INVALID_FORMAT);
    internal.sendRaw(`{"type":"transient","transient":{"type":"set","key":"x","value":${deep(10_000)}}}`);
    expect(await internal.next()).toEqual(INVALID_FORMAT);
  });

  it('refuses deep backend API bodies with 400 and goes on serving the room', async () => {
    const { a, b } = await pair('backend');
    for (const body of [
      `{"type":"message","message":{"data":${deep(10_000)}}}`,
      `{"type":"update","update":{"userids":[],"properties":${deep(10_000)}}}`,
      `{"type":"participants","participants":{"changed":${deep(10_000)},"users":[]}}`,
      deep(100_000),
    ]) {
      const res = await setup.nextcloud.backendRequest(setup.baseUrl, 'backend', body);
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: 'Could not read body\n' });
    }
    const res = await setup.nextcloud.backendRequest(setup.baseUrl, 'backend', { type: 'message', message: { data: { ok: true } } });
    expect(res.status).toBe(200);
    const event = { type: 'event', event: { target: 'room', type: 'message', message: { roomid: 'backend', data: { ok: true } } } };
    expect(await a.client.next()).toEqual(event);
    expect(await b.client.next()).toEqual(event);
    await stillServed(a, b);
  });

  it.each([
    ['an unknown type', { id: 'x1', type: 'foo', foo: {} }],
    ['a server-only type', { id: 'x2', type: 'welcome', welcome: {} }],
    ['an event', { id: 'x3', type: 'event', event: { target: 'room' } }],
    ['an unknown internal type', { id: 'x4', type: 'internal', internal: { type: 'nonsense' } }],
    ['a room request', { id: 'x5', type: 'room', room: { roomid: 'deep' } }],
  ])('answers %s before hello with hello_expected', async (_what, message) => {
    const client = await connect();
    client.send(message);
    expect(await client.next()).toEqual({ id: message.id, type: 'error', error: { code: 'hello_expected', message: 'Expected Hello request.' } });
    expect((await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(`late-${message.id}`) })).type).toBe('hello');
  });

  it('answers a message whose handler throws with internal_error, once, and goes on', async () => {
    // A stand-in for a bug below the parser: the control handler throws on every message.
    const { a, b } = await pair('throwing');
    setup.server.hub.handle('control', () => {
      throw new RangeError('Maximum call stack size exceeded');
    });
    a.client.send({ id: 'c1', type: 'control', control: { recipient: { type: 'room' }, data: { x: 1 } } });
    expect(await a.client.next()).toEqual({ id: 'c1', type: 'error', error: { code: 'internal_error', message: 'Processing of the message failed.' } });
    a.client.send({ type: 'control', control: { recipient: { type: 'room' }, data: { x: 2 } } });
    expect(await a.client.next()).toEqual({ type: 'error', error: { code: 'internal_error', message: 'Processing of the message failed.' } });
    expect(await setup.server.registry.metrics()).toContain('signaling_client_message_failures_total 2');
    await stillServed(a, b);
  });

  it('ignores unknown types after hello, as upstream', async () => {
    const { a, b } = await pair('unknown');
    a.client.send({ id: 'u1', type: 'foo', foo: {} });
    await stillServed(a, b);
  });
});
