import { OCS_THROTTLED_MESSAGE, OCS_THROTTLED_REASON, SignalingError } from '@talk-signaling/protocol';
import { silentLogger } from '@talk-signaling/runtime';
import { BackendRequestError } from '../backend/backend-client';
import type { Backend } from '../backend/backend';
import { pingEntry, RoomPing, type PingRequest, type PingRoom, type PingSession } from './room-ping';

const URL_A = 'https://a.example/ocs/v2.php/apps/spreed/api/v1/signaling/backend';
const URL_B = 'https://b.example/ocs/v2.php/apps/spreed/api/v1/signaling/backend';
const BACKEND_A = { id: 'a' } as unknown as Backend;
const BACKEND_B = { id: 'b' } as unknown as Backend;
const INTERVAL = 10_000;

function session(over: Partial<PingSession> & { publicId: string }): PingSession {
  return { clientType: 'client', roomSessionId: undefined, userId: '', backendUrl: URL_A, backend: BACKEND_A, ...over };
}

function room(id: string, members: PingSession[]): PingRoom {
  return { id, members: () => members };
}

function throttledError(): BackendRequestError {
  const cause = new SignalingError('internal_error', OCS_THROTTLED_MESSAGE);
  cause.reason = OCS_THROTTLED_REASON;
  return new BackendRequestError(OCS_THROTTLED_MESSAGE, 'ocs', { cause });
}

/** A RoomPing over scripted rooms, limits and answers, recording every request. */
function setup(rooms: PingRoom[], limits: Record<string, number | undefined> = {}) {
  const sent: { url: string; backend: Backend; body: PingRequest }[] = [];
  let answer: (body: PingRequest) => Promise<unknown> = async () => ({ type: 'room', room: { version: '1.0' } });
  const ping = new RoomPing({
    rooms: { all: () => rooms },
    client: {
      postJson: async (url, backend, body) => {
        sent.push({ url, backend, body: body as PingRequest });
        return answer(body as PingRequest);
      },
    },
    capabilities: { sessionPingLimit: async (url) => limits[url] },
    log: silentLogger(),
    intervalMs: INTERVAL,
  });
  return {
    ping,
    sent,
    answerWith: (fn: (body: PingRequest) => Promise<unknown>) => (answer = fn),
  };
}

describe('pingEntry', () => {
  it('uses the Nextcloud room session id and auth user id of client sessions', () => {
    expect(pingEntry(session({ publicId: 'p1', roomSessionId: 'nc-1', userId: 'ann' }))).toEqual({ userid: 'ann', sessionid: 'nc-1' });
  });

  it('omits an empty user id', () => {
    const entry = pingEntry(session({ publicId: 'p1', roomSessionId: 'nc-1' }));
    expect(entry).toEqual({ sessionid: 'nc-1' });
    expect(Object.keys(entry!)).toEqual(['sessionid']);
  });

  it('uses the public id and user id of virtual sessions', () => {
    expect(pingEntry(session({ publicId: 'virt-1', clientType: 'virtual', userId: 'phone' }))).toEqual({ userid: 'phone', sessionid: 'virt-1' });
    expect(pingEntry(session({ publicId: 'virt-2', clientType: 'virtual', roomSessionId: 'ignored' }))).toEqual({ sessionid: 'virt-2' });
  });

  it('skips client sessions without room session id and internal sessions', () => {
    expect(pingEntry(session({ publicId: 'p1' }))).toBeUndefined();
    expect(pingEntry(session({ publicId: 'p1', roomSessionId: '' }))).toBeUndefined();
    expect(pingEntry(session({ publicId: 'i1', clientType: 'internal', roomSessionId: 'x', userId: 'u' }))).toBeUndefined();
  });
});

describe('RoomPing', () => {
  it('groups entries per backend URL and room, leaving out rooms without entries', () => {
    const { ping } = setup([
      room('r1', [
        session({ publicId: 'p1', roomSessionId: 'nc-1', userId: 'ann' }),
        session({ publicId: 'p2', roomSessionId: 'nc-2', backendUrl: URL_B, backend: BACKEND_B }),
        session({ publicId: 'p3' }),
      ]),
      room('r2', [session({ publicId: 'i1', clientType: 'internal' })]),
      room('r3', [session({ publicId: 'v1', clientType: 'virtual', userId: 'phone' }), session({ publicId: 'p4', roomSessionId: 'nc-4', backendUrl: '' })]),
    ]);
    const groups = ping.collect();
    expect([...groups.keys()]).toEqual([URL_A, URL_B]);
    expect(groups.get(URL_A)!.backend).toBe(BACKEND_A);
    expect([...groups.get(URL_A)!.rooms]).toEqual([
      ['r1', [{ userid: 'ann', sessionid: 'nc-1' }]],
      ['r3', [{ userid: 'phone', sessionid: 'v1' }]],
    ]);
    expect(groups.get(URL_B)!.backend).toBe(BACKEND_B);
    expect([...groups.get(URL_B)!.rooms]).toEqual([['r1', [{ sessionid: 'nc-2' }]]]);
  });

  it('sends one request per room without session-ping-limit', async () => {
    const { ping, sent } = setup([
      room('r1', [session({ publicId: 'p1', roomSessionId: 'nc-1', userId: 'ann' }), session({ publicId: 'p2', roomSessionId: 'nc-2' })]),
      room('r2', [session({ publicId: 'p3', roomSessionId: 'nc-3', backendUrl: URL_B, backend: BACKEND_B })]),
      room('empty', []),
    ]);
    await ping.tick();
    expect(sent).toEqual([
      {
        url: URL_A,
        backend: BACKEND_A,
        body: { type: 'ping', ping: { version: '1.0', roomid: 'r1', entries: [{ userid: 'ann', sessionid: 'nc-1' }, { sessionid: 'nc-2' }] } },
      },
      { url: URL_B, backend: BACKEND_B, body: { type: 'ping', ping: { version: '1.0', roomid: 'r2', entries: [{ sessionid: 'nc-3' }] } } },
    ]);
  });

  it('combines rooms with roomid "" and chunks to the limit when it is advertised', async () => {
    const members = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => session({ publicId: `${prefix}${i}`, roomSessionId: `${prefix}-nc-${i}` }));
    const { ping, sent } = setup(
      [
        room('r1', members('a', 3)),
        room('r2', members('b', 2)),
        room('r3', [session({ publicId: 'c0', roomSessionId: 'c-nc', backendUrl: URL_B, backend: BACKEND_B })]),
      ],
      { [URL_A]: 2 },
    );
    await ping.tick();
    const toA = sent.filter((s) => s.url === URL_A).map((s) => s.body.ping);
    expect(toA).toEqual([
      { version: '1.0', roomid: '', entries: [{ sessionid: 'a-nc-0' }, { sessionid: 'a-nc-1' }] },
      { version: '1.0', roomid: '', entries: [{ sessionid: 'a-nc-2' }, { sessionid: 'b-nc-0' }] },
      { version: '1.0', roomid: '', entries: [{ sessionid: 'b-nc-1' }] },
    ]);
    // URL B advertises no limit: still one request per room.
    expect(sent.filter((s) => s.url === URL_B).map((s) => s.body.ping)).toEqual([
      { version: '1.0', roomid: 'r3', entries: [{ sessionid: 'c-nc' }] },
    ]);
  });

  it('sends nothing when no room has pingable members', async () => {
    const { ping, sent } = setup([room('r1', [session({ publicId: 'p1' })]), room('r2', [])]);
    await ping.tick();
    expect(sent).toEqual([]);
  });

  it('logs other failures and keeps pinging', async () => {
    const { ping, sent, answerWith } = setup([room('r1', [session({ publicId: 'p1', roomSessionId: 'nc-1' })])]);
    answerWith(async () => {
      throw new BackendRequestError('timeout after 1 ms', 'timeout');
    });
    await ping.tick();
    await ping.tick();
    expect(sent).toHaveLength(2);
    expect(ping.isThrottled(URL_A)).toBe(false);
  });

  it('backs off a URL after a 429, doubling up to the maximum, and resumes after a success', async () => {
    const { ping, sent, answerWith } = setup([
      room('r1', [session({ publicId: 'p1', roomSessionId: 'nc-1' })]),
      room('r2', [session({ publicId: 'p2', roomSessionId: 'nc-2' })]),
      room('r3', [session({ publicId: 'p3', roomSessionId: 'nc-3', backendUrl: URL_B, backend: BACKEND_B })]),
    ]);
    answerWith(async (body) => {
      if (body.ping.roomid !== 'r3') throw throttledError();
      return { type: 'room', room: { version: '1.0' } };
    });
    const countA = () => sent.filter((s) => s.url === URL_A).length;

    await ping.tick(); // both rooms of A answer 429: one back-off of 2 rounds
    expect(countA()).toBe(2);
    expect(ping.isThrottled(URL_A)).toBe(true);
    expect(ping.isThrottled(URL_B)).toBe(false);

    const delays: number[] = [];
    let lastProbe = 0;
    for (let round = 1; round <= 40 && delays.length < 4; round++) {
      const before = countA();
      await ping.tick();
      if (countA() > before) {
        delays.push(round - lastProbe);
        lastProbe = round;
      }
    }
    // Probes after 2, then 4, then 6, then 6 rounds.
    expect(delays).toEqual([2, 4, 6, 6]);
    // URL B was pinged every round meanwhile.
    expect(sent.filter((s) => s.url === URL_B).length).toBe(1 + 18);

    answerWith(async () => ({ type: 'room', room: { version: '1.0' } }));
    const before = countA();
    for (let i = 0; i < 5; i++) await ping.tick();
    expect(countA()).toBe(before);
    await ping.tick(); // the probe succeeds
    expect(countA()).toBe(before + 2);
    expect(ping.isThrottled(URL_A)).toBe(false);
    await ping.tick();
    expect(countA()).toBe(before + 4);
  });

  it('stops sending the remaining chunks at a 429', async () => {
    const { ping, sent, answerWith } = setup(
      [room('r1', Array.from({ length: 5 }, (_, i) => session({ publicId: `p${i}`, roomSessionId: `nc-${i}` })))],
      { [URL_A]: 2 },
    );
    answerWith(async () => {
      throw throttledError();
    });
    await ping.tick();
    expect(sent).toHaveLength(1);
    expect(ping.isThrottled(URL_A)).toBe(true);
  });

  it('skips a URL whose previous round is still being sent', async () => {
    const { ping, sent, answerWith } = setup([room('r1', [session({ publicId: 'p1', roomSessionId: 'nc-1' })])]);
    let release!: () => void;
    answerWith(() => new Promise((resolve) => (release = () => resolve({ type: 'room', room: { version: '1.0' } }))));
    const first = ping.tick();
    await new Promise((resolve) => setImmediate(resolve));
    await ping.tick();
    expect(sent).toHaveLength(1);
    release();
    await first;
    answerWith(async () => ({ type: 'room', room: { version: '1.0' } }));
    await ping.tick();
    expect(sent).toHaveLength(2);
  });

  it('runs rounds on its timer until stopped', async () => {
    jest.useFakeTimers();
    try {
      const { ping, sent } = setup([room('r1', [session({ publicId: 'p1', roomSessionId: 'nc-1' })])]);
      ping.start();
      await jest.advanceTimersByTimeAsync(INTERVAL - 1);
      expect(sent).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(1);
      expect(sent).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(INTERVAL);
      expect(sent).toHaveLength(2);
      ping.stop();
      await jest.advanceTimersByTimeAsync(5 * INTERVAL);
      expect(sent).toHaveLength(2);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
