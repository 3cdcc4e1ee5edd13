import { TestClient } from '@talk-signaling/testing';
import { INTERNAL_SECRET, busesFlushed, startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(20_000);

/** Issue 7 item 2: join-features, recipient-call, chat-relay, transient-sessiondata, serverinfo. */
describe('newer protocol features', () => {
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

  async function member(userid: string, roomid: string, features?: string[]) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid), features });
    await client.next('welcome');
    setup.nextcloud.setRoom(roomid, {});
    expect((await client.joinRoom(roomid, `nc-${userid}`)).type).toBe('room');
    const sessionid = reply.hello.sessionid as string;
    // Its own join comes first; once it is there, the announcement to the other nodes is on its way.
    const ownJoin = await client.waitForMessage((m) => m.type === 'event' && m.event.type === 'join');
    expect(ownJoin.event.join.map((e: { sessionid: string }) => e.sessionid)).toEqual([sessionid]);
    await busesFlushed(setup);
    return { client, sessionid, ownJoin };
  }

  /** Waits until every client has seen every other one join (its own join was seen by `member`). */
  async function allJoined(...members: { client: TestClient; sessionid: string }[]) {
    for (const m of members) {
      const pending = new Set(members.filter((o) => o !== m).map((o) => o.sessionid));
      while (pending.size > 0) {
        const ev = await m.client.waitForMessage((msg) => msg.type === 'event' && msg.event.type === 'join');
        for (const e of ev.event.join) pending.delete(e.sessionid);
      }
    }
  }

  it('announces the features in welcome, hello and the backend header', async () => {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const welcome = await client.next('welcome');
    const expected = ['audio-video-permissions', 'chat-relay', 'join-features', 'recipient-call', 'serverinfo', 'transient-sessiondata'];
    expect(welcome.welcome.features).toEqual(expect.arrayContaining(expected));
    const hello = await client.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET });
    expect(hello.hello.server.features).toEqual(expect.arrayContaining(expected.filter((f) => f !== 'audio-video-permissions')));
    expect(hello.hello.server.features).not.toContain('audio-video-permissions');
    const res = await setup.nextcloud.backendRequest(setup.baseUrl, 'x', { type: 'message', message: { data: 1 } });
    expect(res.headers.get('x-spreed-signaling-features')!.split(', ')).toEqual(expect.arrayContaining(expected));
  });

  it("lists every feature Nextcloud Talk 20+ requires in the backend response header", async () => {
    // lib/Signaling/BackendNotifier.php refuses to notify without these (plus dialout/join-features for the admin check).
    const required = ['audio-video-permissions', 'federation', 'incall-all', 'hello-v2', 'switchto', 'dialout', 'join-features'];
    const res = await setup.nextcloud.backendRequest(setup.baseUrl, 'any-room', { type: 'message', message: { data: { x: 1 } } });
    expect(res.status).toBe(200);
    const header = res.headers.get('x-spreed-signaling-features')!.split(', ');
    for (const feature of required) expect(header).toContain(feature);
    expect([...header].sort()).toEqual(header);
  });

  it('join-features: join entries carry the joiner\'s hello features', async () => {
    const a = await member('jf-a', 'jf', ['chat-relay', 'something-else']);
    expect(a.ownJoin.event.join).toEqual([
      { sessionid: a.sessionid, userid: 'jf-a', user: { displayname: 'jf-a' }, roomsessionid: 'nc-jf-a', features: ['chat-relay', 'something-else'] },
    ]);
    const b = await member('jf-b', 'jf');
    const seen = await a.client.waitForMessage((m) => m.type === 'event' && m.event.type === 'join');
    expect(seen.event.join[0]).toEqual({ sessionid: b.sessionid, userid: 'jf-b', user: { displayname: 'jf-b' }, roomsessionid: 'nc-jf-b' });
  });

  it('recipient-call: only sessions in the call receive it', async () => {
    const a = await member('call-a', 'callroom');
    const b = await member('call-b', 'callroom');
    const c = await member('call-c', 'callroom');
    await allJoined(a, b, c);
    await setup.nextcloud.backendRequest(setup.baseUrl, 'callroom', {
      type: 'incall',
      incall: { incall: 7, changed: [{ sessionId: 'nc-call-b', inCall: 7 }], users: [{ sessionId: 'nc-call-b', inCall: 7 }] },
    });
    await b.client.waitForMessage((m) => m.event?.target === 'participants');
    a.client.send({ type: 'message', message: { recipient: { type: 'call' }, data: { to: 'call' } } });
    expect(await b.client.next('message')).toEqual({
      type: 'message',
      message: { sender: { type: 'call', sessionid: a.sessionid, userid: 'call-a' }, data: { to: 'call' } },
    });
    await c.client.waitForMessage((m) => m.event?.target === 'participants');
    await c.client.expectNoMessage(150);
  });

  it('chat-relay: comments to clients that asked for them, refresh to the others', async () => {
    const relay = await member('cr-a', 'chat', ['chat-relay']);
    const plain = await member('cr-b', 'chat');
    await allJoined(relay, plain);
    const comments = [
      { id: 1, message: 'one', actorDisplayName: 'A' },
      { id: 2, message: 'two', actorDisplayName: 'B' },
    ];
    await setup.nextcloud.backendRequest(setup.baseUrl, 'chat', {
      type: 'message',
      message: { data: { type: 'chat', chat: { refresh: true, comment: comments[0], comments: [comments[1]] } } },
    });
    const event = (data: unknown) => ({ type: 'event', event: { target: 'room', type: 'message', message: { roomid: 'chat', data } } });
    expect(await relay.client.next('event')).toEqual(event({ type: 'chat', chat: { comment: comments[0] } }));
    expect(await relay.client.next('event')).toEqual(event({ type: 'chat', chat: { comment: comments[1] } }));
    expect(await plain.client.next('event')).toEqual(event({ type: 'chat', chat: { refresh: true } }));
    await plain.client.expectNoMessage(100);
  });

  it('transient-sessiondata: a session owns sd:<its id>, removed when it leaves', async () => {
    const a = await member('sd-a', 'sd');
    const b = await member('sd-b', 'sd');
    await allJoined(a, b);
    a.client.send({ type: 'transient', transient: { type: 'set', key: `sd:${a.sessionid}`, value: { name: 'Guest' } } });
    expect(await b.client.next('transient')).toEqual({ type: 'transient', transient: { type: 'set', key: `sd:${a.sessionid}`, value: { name: 'Guest' } } });
    await a.client.next('transient');
    a.client.send({ id: 'other', type: 'transient', transient: { type: 'set', key: `sd:${b.sessionid}`, value: 1 } });
    expect(await a.client.expectError('not_allowed')).toEqual({
      id: 'other',
      type: 'error',
      error: { code: 'not_allowed', message: 'Not allowed to update this transient data entry.' },
    });
    await a.client.joinRoom('');
    expect(await b.client.waitForMessage((m) => m.type === 'transient')).toEqual({
      type: 'transient',
      transient: { type: 'remove', key: `sd:${a.sessionid}`, oldvalue: { name: 'Guest' } },
    });
  });

  it('serverinfo: version, features and dialout clients, for stats addresses only', async () => {
    const bridge = await TestClient.connect(setup.wsUrl);
    clients.push(bridge);
    const hello = await bridge.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET, features: ['start-dialout'] });
    const res = await fetch(`${setup.baseUrl}api/v1/serverinfo`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('\n  "version"'); // pretty-printed like upstream
    const info = JSON.parse(text);
    expect(info.version).toEqual(expect.any(String));
    expect(info.features).toContain('serverinfo');
    if (process.env['TALK_TEST_NODES']) {
      // Run on two nodes (newer-features.clustered): a real nats-server, described as upstream does.
      expect(info.nats).toEqual({
        urls: [expect.stringMatching(/^nats:\/\/127\.0\.0\.1:\d+$/)],
        connected: true,
        serverurl: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        serverid: expect.any(String),
        version: expect.any(String),
      });
    } else {
      expect(info.nats).toEqual({ urls: ['nats://loopback'], connected: true, serverurl: 'nats://loopback' });
    }
    expect(info.dialout).toEqual([
      { sessionid: hello.hello.sessionid, connected: true, address: '127.0.0.1', useragent: expect.any(String), features: ['start-dialout'] },
    ]);
    const refused = await fetch(`${setup.baseUrl}api/v1/serverinfo`, { headers: { 'X-Real-IP': '203.0.113.4' } });
    expect(refused.status).toBe(403);
  });
});
