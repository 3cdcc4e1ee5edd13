import { TestClient } from '@talk-signaling/testing';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(30_000);

/**
 * Joins and leaves are gathered for a while before they go out (room/room.ts); a room message
 * a member sends meanwhile must not overtake them: upstream announces a join on the room's
 * subject at once, so receivers always learn of a sender before its room messages. The window
 * here is a minute, far longer than the test, so any overtaking would be certain.
 */
describe('gathered joins and later room messages', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 60_000 });
    setup.nextcloud.setRoom('batched', {});
  });
  afterAll(async () => {
    while (clients.length) clients.pop()!.close();
    await setup.stop();
  });

  async function member(userid: string) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const hello = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
    expect((await client.joinRoom('batched', `nc-${userid}`)).type).toBe('room');
    return { client, sessionid: hello.hello.sessionid as string };
  }

  it('a member receives the join of a sender before the sender’s room message', async () => {
    const a = await member('batch-a');
    const b = await member('batch-b');
    b.client.send({ type: 'message', message: { recipient: { type: 'room' }, data: { text: 'hi' } } });
    await a.client.waitForMessage((m) => m.type === 'message');
    const seen = a.client.messages.filter((m) => m.type === 'message' || (m.type === 'event' && m.event.type === 'join'));
    expect(seen.map((m) => m.type)).toEqual(['event', 'message']);
    expect(seen[0].event.join.map((e: { sessionid: string }) => e.sessionid)).toEqual([a.sessionid, b.sessionid]);
    expect(seen[1].message).toMatchObject({ sender: { sessionid: b.sessionid }, data: { text: 'hi' } });
  });

  it('a member receives the join of a sender before the sender’s direct message (e.g. a WebRTC offer)', async () => {
    const c = await member('batch-c');
    const d = await member('batch-d');
    d.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: c.sessionid }, data: { offer: 1 } } });
    await c.client.waitForMessage((m) => m.type === 'message');
    const joinOfD = c.client.messages.findIndex((m) => m.type === 'event' && m.event.type === 'join' && m.event.join.some((e: { sessionid: string }) => e.sessionid === d.sessionid));
    const offer = c.client.messages.findIndex((m) => m.type === 'message');
    expect(joinOfD).toBeGreaterThanOrEqual(0);
    expect(joinOfD).toBeLessThan(offer);
    expect(c.client.messages[offer].message).toMatchObject({ sender: { sessionid: d.sessionid }, data: { offer: 1 } });
  });
});
