import { TestClient } from '@talk-signaling/testing';
import { nodeOf, onDifferentNodes, startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(20_000);

describe('permissions, control and receiver-side filtering (1.10, 1.13)', () => {
  let setup: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5 });
    setup.nextcloud.setRoom('open', {});
    setup.nextcloud.setRoom('hidden', { permissions: ['hide-displaynames'] });
    setup.nextcloud.setRoom('nocontrol', { permissions: ['publish-media'] });
  });
  afterAll(async () => {
    await setup.stop();
  });
  afterEach(() => {
    while (clients.length) clients.pop()!.close();
  });

  async function member(userid: string, roomid: string) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid, { user: { displayname: `${userid} name`, extra: 1 } }) });
    await client.next('welcome');
    expect((await client.joinRoom(roomid, `nc-${userid}`)).type).toBe('room');
    return { client, sessionid: reply.hello.sessionid as string };
  }

  it('delivers control only from sessions with the control permission (old-style sessions have it)', async () => {
    const a = await member('ctl-a', 'open');
    const b = await member('ctl-b', 'open');
    await a.client.waitForMessage((m) => m.event?.join?.some((e: { sessionid: string }) => e.sessionid === b.sessionid));
    await b.client.waitForMessage((m) => m.event?.join?.some((e: { sessionid: string }) => e.sessionid === a.sessionid));
    a.client.send({ type: 'control', control: { recipient: { type: 'session', sessionid: b.sessionid }, data: { type: 'mute', audio: 1 } } });
    // Through the bus (b on another node) it also names its recipient, as upstream.
    const recipient = onDifferentNodes(setup, a.sessionid, b.sessionid) ? { recipient: { type: 'session', sessionid: b.sessionid } } : {};
    expect(await b.client.next('control')).toEqual({
      type: 'control',
      control: { sender: { type: 'session', sessionid: a.sessionid, userid: 'ctl-a' }, ...recipient, data: { type: 'mute', audio: 1 } },
    });
    // Once Nextcloud sends an explicit list without `control`, control messages are ignored (the sender's node checks).
    nodeOf(setup, a.sessionid).server.sessions.byPublicId(a.sessionid)!.permissions = new Set(['publish-media']);
    a.client.send({ type: 'control', control: { recipient: { type: 'session', sessionid: b.sessionid }, data: { type: 'hangup' } } });
    await b.client.expectNoMessage(150);
  });

  it('ignores control from a session whose room permissions lack control', async () => {
    const a = await member('noc-a', 'nocontrol');
    const b = await member('noc-b', 'nocontrol');
    await a.client.waitForMessage((m) => m.event?.join?.some((e: { sessionid: string }) => e.sessionid === b.sessionid));
    await b.client.waitForMessage((m) => m.event?.join?.some((e: { sessionid: string }) => e.sessionid === a.sessionid));
    a.client.send({ type: 'control', control: { recipient: { type: 'room' }, data: { type: 'hangup' } } });
    await b.client.expectNoMessage(150);
    // Plain messages still flow.
    a.client.send({ type: 'message', message: { recipient: { type: 'room' }, data: { ok: true } } });
    expect((await b.client.next('message')).message.data).toEqual({ ok: true });
  });

  it('hides display names from receivers with hide-displaynames', async () => {
    const a = await member('hid-a', 'hidden');
    const b = await member('hid-b', 'hidden');
    // a holds hide-displaynames: b's join entry reaches a without displayname; the rest of `user` stays.
    const seen = await a.client.waitForMessage((m) => m.event?.join?.some((e: { sessionid: string }) => e.sessionid === b.sessionid));
    expect(seen.event.join.find((e: { sessionid: string }) => e.sessionid === b.sessionid)).toEqual({
      sessionid: b.sessionid,
      userid: 'hid-b',
      user: { extra: 1 },
      roomsessionid: 'nc-hid-b',
    });
    // nickChanged messages are suppressed; others pass.
    await b.client.waitForMessage((m) => m.event?.join?.some((e: { sessionid: string }) => e.sessionid === a.sessionid));
    b.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: a.sessionid }, data: { type: 'nickChanged', nick: 'x' } } });
    b.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: a.sessionid }, data: { type: 'offer' } } });
    expect((await a.client.next('message')).message.data).toEqual({ type: 'offer' });
    // Chat comments lose the actor display name.
    await setup.nextcloud.backendRequest(setup.baseUrl, 'hidden', {
      type: 'message',
      message: { data: { type: 'chat', chat: { comment: { actorDisplayName: 'Someone', message: 'hi' } } } },
    });
    expect((await a.client.next('event')).event.message.data).toEqual({ type: 'chat', chat: { comment: { actorDisplayName: '', message: 'hi' } } });
  });
});
