import { Registry } from 'prom-client';
import { LoopbackBus } from '@talk-signaling/nats-bus';
import { silentLogger } from '@talk-signaling/runtime';
import { Router } from '../delivery/router';
import { ClientSession, type Frame } from '../session/client-session';
import { batchWindowMs, Room } from './room';
import { createRoomMetrics } from './room-metrics';

describe('batchWindowMs (how long a room gathers joins and leaves)', () => {
  it('is the configured window in rooms of up to 200 members', () => {
    for (const members of [0, 1, 50, 200]) expect(batchWindowMs(20, members)).toBe(20);
    expect(batchWindowMs(5, 100)).toBe(5);
  });

  it('grows with the room beyond that, so frames per window stay about the same', () => {
    expect(batchWindowMs(20, 400)).toBe(40);
    expect(batchWindowMs(20, 2_000)).toBe(200);
    expect(batchWindowMs(20, 2_000) / 2_000).toBeCloseTo(batchWindowMs(20, 200) / 200);
  });

  it('never waits longer than 500 ms, unless configured so', () => {
    expect(batchWindowMs(20, 100_000)).toBe(500);
    expect(batchWindowMs(600, 10)).toBe(600);
    expect(batchWindowMs(600, 100_000)).toBe(600);
  });
});

/**
 * What the members of a room see, through the real router and in-process bus; each session's
 * connection only records the frames written to it. Timers are jest's (the window is the
 * behaviour under test, stepped through deterministically, not measured).
 */
describe('Room: joins and leaves gathered in a batch window', () => {
  const written = new Map<ClientSession, Frame[]>();
  let router: Router;
  let room: Room;
  let n = 0;

  const session = (): ClientSession => {
    const id = `s${++n}`;
    const s = new ClientSession({
      privateId: `p-${id}`,
      publicId: id,
      idData: { sid: n, created: 0, backendId: 'b', node: 'n' },
      backend: { id: 'b', urls: [], secret: '', sessionLimit: 0, maxStreamBitrate: 0, maxScreenBitrate: 0, allowHttp: false, compat: false },
      backendUrl: 'https://nc.example/',
      clientType: 'client',
      userId: `u-${id}`,
      user: undefined,
      helloVersion: '1.0',
      features: [],
      log: silentLogger(),
    });
    const frames: Frame[] = [];
    written.set(s, frames);
    s.attach({ closed: false, sendText: (f: Frame) => frames.push(f) } as unknown as Parameters<ClientSession['attach']>[0]);
    router.attachSession(s);
    return s;
  };
  /** The frames a session was sent since the last call, as JSON. */
  const frames = (s: ClientSession): Frame[] => written.get(s)!.splice(0);
  const received = (s: ClientSession) => frames(s).map((f) => JSON.parse(String(f)) as { type: string; event: Record<string, unknown> });
  const joinIds = (frames: ReturnType<typeof received>) =>
    frames.filter((f) => f.event?.['type'] === 'join').map((f) => (f.event['join'] as { sessionid: string }[]).map((e) => e.sessionid));

  /** A room with `size` members whose own joins went out already. */
  async function roomOf(size: number): Promise<ClientSession[]> {
    const members = Array.from({ length: size }, session);
    for (const m of members) room.addSession(m);
    await jest.advanceTimersByTimeAsync(batchWindowMs(20, size));
    for (const m of members) received(m);
    return members;
  }

  beforeEach(() => {
    jest.useFakeTimers();
    n = 0;
    written.clear();
    router = new Router(new LoopbackBus());
    room = new Room({ id: 'r', backendId: 'b', properties: {}, router, metrics: createRoomMetrics(new Registry()), log: silentLogger(), batchMs: 20, onEmpty: () => undefined });
  });
  afterEach(() => {
    room.close();
    jest.useRealTimers();
  });

  it('in a room of up to 200 members, announces joins after the configured window', async () => {
    const [first] = await roomOf(150);
    const joiner = session();
    room.addSession(joiner);
    await jest.advanceTimersByTimeAsync(19);
    expect(received(first!)).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(joinIds(received(first!))).toEqual([[joiner.publicId]]);
  });

  it('in a larger room, gathers the joins of a longer window into one event each member gets once', async () => {
    const members = await roomOf(300);
    const joiners = [session(), session(), session()];
    room.addSession(joiners[0]!);
    await jest.advanceTimersByTimeAsync(20);
    room.addSession(joiners[1]!);
    room.addSession(joiners[2]!);
    expect(received(members[0]!)).toEqual([]);
    await jest.advanceTimersByTimeAsync(batchWindowMs(20, 301) - 20);
    const ids = joiners.map((j) => j.publicId);
    for (const m of members) expect(joinIds(received(m))).toEqual([ids]);
    const existing = members.map((m) => m.publicId);
    const lists = joiners.map(frames);
    for (const list of lists) {
      expect(list.map((f) => JSON.parse(String(f)).event.join.map((e: { sessionid: string }) => e.sessionid))).toEqual([ids, existing]);
    }
    // The member list for the joiners of one batch is encoded once: the same bytes for each.
    expect(lists[1]![1]).toBe(lists[0]![1]);
    expect(lists[2]![1]).toBe(lists[0]![1]);
  });

  it('sends gathered joins and leaves before anything published to the room after them', async () => {
    const members = await roomOf(300);
    const joiner = session();
    room.addSession(joiner);
    room.removeSession(members[1]!);
    room.publish({ type: 'event', event: { target: 'room', type: 'message', message: { roomid: 'r', data: { type: 'chat', chat: { refresh: true } } } } });
    room.publishParticipantsUpdate([], [{ sessionId: joiner.publicId, inCall: 1 }]);
    await jest.advanceTimersByTimeAsync(0); // the bus deliveries, without moving the clock
    expect(received(members[0]!).map((f) => f.event['type'])).toEqual(['leave', 'join', 'message', 'update']);
    expect(received(joiner).map((f) => f.event['type'])).toEqual(['leave', 'join', 'join', 'message', 'update']);
    // Nothing is left to send when the window would have ended.
    await jest.advanceTimersByTimeAsync(500);
    expect(received(members[0]!)).toEqual([]);
  });
});
