import { TestClient } from '@talk-signaling/testing';
import type { RecordedRequest } from '@talk-signaling/fake-nextcloud';
import { INTERNAL_SECRET, startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(20_000);

/** Short ping rounds so a test sees several of them. */
const INTERVAL_MS = 100;

describe('room pings to Nextcloud', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeEach(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5, roomPingIntervalMs: INTERVAL_MS });
    for (const room of ['room-1', 'room-2', 'room-3']) setup.nextcloud.setRoom(room, {});
  });
  afterEach(async () => {
    while (clients.length) clients.pop()!.close();
    await setup.stop();
  });

  /** A session (anonymous for userid "") joined to `roomid`, with `roomSessionId` if given. */
  async function join(userid: string, roomid: string, roomSessionId?: string): Promise<void> {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const params = userid === '' ? setup.nextcloud.anonymousParams() : setup.nextcloud.addUser(userid);
    const hello = await client.hello({ url: setup.nextcloud.backendUrl, params });
    expect(hello.type).toBe('hello');
    expect((await client.joinRoom(roomid, roomSessionId)).type).toBe('room');
  }

  const pings = (): RecordedRequest[] => setup.nextcloud.requests.filter((r) => r.type === 'ping');

  /** Waits for `rounds` more rounds after all clients joined, then returns the pings seen meanwhile. */
  async function pingsOverRounds(rounds: number): Promise<RecordedRequest[]> {
    setup.nextcloud.clearRequests();
    await new Promise((resolve) => setTimeout(resolve, rounds * INTERVAL_MS + INTERVAL_MS / 2));
    return pings();
  }

  it('sends one request per room with exact body and valid checksum', async () => {
    await join('ann', 'room-1', 'nc-a');
    await join('ben', 'room-1', 'nc-b');
    await join('', 'room-2', 'nc-guest'); // anonymous: no userid in the entry
    await join('cid', 'room-2'); // no room session id: not pinged
    await join('dan', 'room-3'); // room without pingable members: no request at all
    const internal = await TestClient.connect(setup.wsUrl);
    clients.push(internal);
    expect((await internal.helloInternal({ secret: INTERNAL_SECRET, backend: setup.nextcloud.url })).type).toBe('hello');
    expect((await internal.joinRoom('room-1', 'nc-internal')).type).toBe('room'); // internal: not pinged

    const seen = await pingsOverRounds(3);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const request of seen) {
      expect(request.checksumValid).toBe(true);
      expect(request.path).toBe(new URL(setup.nextcloud.backendUrl).pathname);
    }
    const bodies = new Set(seen.map((r) => JSON.stringify(r.body)));
    expect([...bodies].map((b) => JSON.parse(b))).toEqual(
      expect.arrayContaining([
        {
          type: 'ping',
          ping: { version: '1.0', roomid: 'room-1', entries: [{ userid: 'ann', sessionid: 'nc-a' }, { userid: 'ben', sessionid: 'nc-b' }] },
        },
        { type: 'ping', ping: { version: '1.0', roomid: 'room-2', entries: [{ sessionid: 'nc-guest' }] } },
      ]),
    );
    expect(bodies.size).toBe(2);
    // One request per room and round.
    const perRoom = (roomid: string) => seen.filter((r) => r.body.ping.roomid === roomid).length;
    expect(Math.abs(perRoom('room-1') - perRoom('room-2'))).toBeLessThanOrEqual(1);
  });

  it('combines rooms with roomid "" and chunks them when Nextcloud advertises session-ping-limit', async () => {
    setup.nextcloud.setCapabilities({ signaling: { 'session-ping-limit': 2 } });
    await join('ann', 'room-1', 'nc-a');
    await join('ben', 'room-1', 'nc-b');
    await join('cid', 'room-2', 'nc-c');
    await join('dan', 'room-2'); // skipped

    await pingsOverRounds(3);
    // A round is [ann, ben] then [cid]; find a complete one.
    const seen = pings();
    const start = seen.findIndex((r, i) => r.body.ping.entries[0]?.sessionid === 'nc-a' && i + 1 < seen.length);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(seen[start]!.body).toEqual({
      type: 'ping',
      ping: { version: '1.0', roomid: '', entries: [{ userid: 'ann', sessionid: 'nc-a' }, { userid: 'ben', sessionid: 'nc-b' }] },
    });
    expect(seen[start + 1]!.body).toEqual({ type: 'ping', ping: { version: '1.0', roomid: '', entries: [{ userid: 'cid', sessionid: 'nc-c' }] } });
    expect(seen.every((r) => r.body.ping.roomid === '' && r.checksumValid)).toBe(true);
  });

  it('pauses pings after Nextcloud answers 429, doubling the pause, and resumes after a success', async () => {
    await join('ann', 'room-1', 'nc-a');
    setup.nextcloud.clearRequests();
    setup.nextcloud.failNext('ping', 'ocs-429');
    setup.nextcloud.failNext('ping', 'ocs-429');
    await setup.nextcloud.waitForRequest(() => pings().length >= 4, 5_000);
    const at = pings().map((r) => r.at);
    // 429 → pause 2 rounds → 429 → pause 4 rounds → ok → every round again.
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(2 * INTERVAL_MS - 20);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(4 * INTERVAL_MS - 20);
    expect(at[3]! - at[2]!).toBeLessThan(3 * INTERVAL_MS);
  });
});
