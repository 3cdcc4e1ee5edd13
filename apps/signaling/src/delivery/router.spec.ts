import { SignalingError } from '@talk-signaling/protocol';
import { backendRoomSubject, LoopbackBus, roomSubject, sessionSubject } from '@talk-signaling/nats-bus';
import { silentLogger } from '@talk-signaling/runtime';
import { ClientSession } from '../session/client-session';
import type { AsyncRoomRequest, AsyncServerMessage } from './async-message';
import { Router } from './router';
import { errorFrame, serverFrame } from './server-frames';

/** Bus deliveries happen a microtask after `publish`; a macrotask later they are all done. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A session of this node without a socket: what it is sent waits in its queue (`pendingCount`). */
function detachedSession(publicId: string): ClientSession {
  return new ClientSession({
    privateId: `p-${publicId}`,
    publicId,
    idData: { sid: 1, created: 0, backendId: 'b', node: 'n' },
    backend: { id: 'b', urls: [], secret: '', sessionLimit: 0, maxStreamBitrate: 0, maxScreenBitrate: 0, allowHttp: false, compat: false },
    backendUrl: 'https://nc.example/',
    clientType: 'client',
    userId: '',
    user: undefined,
    helloVersion: '2.0',
    features: [],
    log: silentLogger(),
  });
}

/** Bus messages no handler may see: wrong shapes from another node or a broken peer. */
const HOSTILE: object[] = [
  [],
  {},
  { type: 'message' },
  { type: 'message', message: null },
  { type: 'message', message: 'x' },
  { type: 'message', message: { no: 'type' } },
  { type: 'room' },
  { type: 'room', room: 'x' },
  { type: 'room', room: [] },
  { type: 'room', room: { type: 5 } },
  { type: 'asyncroom', asyncroom: { type: 'sessionjoined' } },
];

describe('server frames', () => {
  it('put id first, then type, then the payload under the type', () => {
    expect(serverFrame('7', 'room', { roomid: 'r' })).toBe('{"id":"7","type":"room","room":{"roomid":"r"}}');
    expect(serverFrame(undefined, 'message', { data: 1 })).toBe('{"type":"message","message":{"data":1}}');
  });

  it('build the same error frame from an error or its payload; details only when set', () => {
    const error = new SignalingError('not_allowed', 'No.');
    expect(errorFrame('1', error)).toBe('{"id":"1","type":"error","error":{"code":"not_allowed","message":"No."}}');
    expect(errorFrame('1', error.toPayload())).toBe(errorFrame('1', error));
    expect(errorFrame(undefined, new SignalingError('x', 'y', null))).toBe('{"type":"error","error":{"code":"x","message":"y","details":null}}');
  });
});

describe('Router', () => {
  let bus: LoopbackBus;
  let router: Router;

  beforeEach(() => {
    bus = new LoopbackBus();
    router = new Router(bus);
  });
  afterEach(async () => {
    await bus.close();
  });

  it('hands room, backend-room and session subscribers only well-formed bus messages, in order', async () => {
    const room: AsyncServerMessage[] = [];
    const requests: AsyncRoomRequest[] = [];
    const virtual: AsyncServerMessage[] = [];
    router.subscribeRoom('r', 'b', (m) => room.push(m));
    router.subscribeBackendRoom('r', 'b', (m) => requests.push(m));
    router.subscribeSession('v1', (m) => virtual.push(m));
    for (const bad of HOSTILE) {
      bus.publish(roomSubject('r', 'b'), bad);
      bus.publish(backendRoomSubject('r', 'b'), bad);
      bus.publish(sessionSubject('v1'), bad);
    }
    router.toRoom('r', 'b', { type: 'event', event: { n: 1 } });
    router.toBackendRoom('r', 'b', { type: 'message', message: { data: 1 }, received: 5 });
    router.toSession('v1', { type: 'control', control: { data: 2 } });
    router.toRoom('r', 'b', { type: 'event', event: { n: 2 } });
    await settle();
    expect(room.map((m) => m.message)).toEqual([{ type: 'event', event: { n: 1 } }, { type: 'event', event: { n: 2 } }]);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ type: 'room', room: { type: 'message', message: { data: 1 }, received: 5 } });
    expect(typeof requests[0]!.sendtime).toBe('string');
    expect(virtual.map((m) => m.message)).toEqual([{ type: 'control', control: { data: 2 } }]);
  });

  it('delivers to an attached session what is addressed to it, never a hostile message or its own echo', async () => {
    const session = detachedSession('s1');
    router.attachSession(session);
    for (const bad of HOSTILE) bus.publish(sessionSubject('s1'), bad);
    router.toSession('s1', { type: 'message', message: { sender: { type: 'session', sessionid: 's1' }, data: 'echo' } });
    await settle();
    expect(session.pendingCount).toBe(0);
    router.toLocalSession(session, { type: 'message', message: { sender: { type: 'session', sessionid: 's2' }, data: 'hi' } });
    router.send(session, serverFrame('9', 'room', { roomid: '' }));
    router.toLocal(session, { type: 'event', event: { target: 'room', type: 'x' } });
    await settle();
    expect(session.pendingCount).toBe(3);
    router.detachSession(session);
    router.toSession('s1', { type: 'message', message: { data: 'after detach' } });
    await settle();
    expect(session.pendingCount).toBe(3);
  });

  it('encodes a message for several local sessions once, in order with what else each receives', async () => {
    const [a, b, c] = ['s1', 's2', 's3'].map(detachedSession) as [ClientSession, ClientSession, ClientSession];
    for (const s of [a, b, c]) router.attachSession(s);
    router.toLocalSession(a, { type: 'event', event: { target: 'room', type: 'first' } });
    router.toLocalSessions([a, b], { type: 'event', event: { target: 'room', type: 'join', join: [{ sessionid: 's3', userid: '' }] } });
    router.toLocalSessions([c], { type: 'event', event: { target: 'room', type: 'alone' } });
    router.toLocalSession(a, { type: 'event', event: { target: 'room', type: 'last' } });
    await settle();
    const conn = {} as Parameters<ClientSession['attach']>[0];
    const [fa, fb, fc] = [a.attach(conn), b.attach(conn), c.attach(conn)];
    expect(fa.map(String).map((f) => JSON.parse(f).event.type)).toEqual(['first', 'join', 'last']);
    expect(fb).toHaveLength(1);
    // One encoded Buffer for both (a frame encoded per receiver would be a string each).
    expect(Buffer.isBuffer(fb[0])).toBe(true);
    expect(fb[0]).toBe(fa[1]);
    expect(String(fb[0])).toBe('{"type":"event","event":{"target":"room","type":"join","join":[{"sessionid":"s3","userid":""}]}}');
    expect(fc.map(String)).toEqual(['{"type":"event","event":{"target":"room","type":"alone"}}']);
  });
});
