import { startNatsServer, TestClient, type ManagedProcess } from '@talk-signaling/testing';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(30_000);

/** `[nats] url` pointing at a real nats-server: two servers reach each other's sessions through it. */
describe('[nats] url with a real nats-server', () => {
  let nats: ManagedProcess;
  let nextcloud: FakeNextcloud;
  let one: TestSetup;
  let two: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nextcloud = await startFakeNextcloud({ secret: 'test-backend-secret' });
    [one, two] = await Promise.all([startTestSetup({ nextcloud, natsUrl: nats.url }), startTestSetup({ nextcloud, natsUrl: nats.url })]);
  });
  afterAll(async () => {
    while (clients.length) clients.pop()!.close();
    await Promise.all([one?.stop(), two?.stop()]);
    await nextcloud?.close();
    await nats?.stop();
  });

  async function user(setup: TestSetup, userid: string) {
    const client = await TestClient.connect(setup.wsUrl);
    clients.push(client);
    const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(userid) });
    await client.next('welcome');
    // The session's subscriptions must have reached nats-server before another node addresses it.
    await setup.server.bus.flush();
    return { client, sessionid: reply.hello.sessionid as string };
  }

  it('reports the NATS connection in the server info', async () => {
    const info = (await (await fetch(`${one.baseUrl}api/v1/serverinfo`)).json()) as { nats: unknown };
    expect(info.nats).toEqual({ urls: [nats.url], connected: true, serverurl: expect.stringContaining('127.0.0.1:'), serverid: expect.any(String), version: expect.any(String) });
    expect(one.server.bus.kind).toBe('nats');
  });

  it('delivers session and user messages to a client on the other server', async () => {
    const a = await user(one, 'alice');
    const b = await user(two, 'bob');
    a.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: b.sessionid }, data: { hi: 'bob' } } });
    // As upstream: a message that went through NATS tells the receiver whom it was addressed to.
    expect(await b.client.next('message')).toEqual({
      type: 'message',
      message: {
        sender: { type: 'session', sessionid: a.sessionid, userid: 'alice' },
        recipient: { type: 'session', sessionid: b.sessionid },
        data: { hi: 'bob' },
      },
    });
    b.client.send({ type: 'control', control: { recipient: { type: 'user', userid: 'alice' }, data: { back: 'at you' } } });
    expect(await a.client.next('control')).toEqual({
      type: 'control',
      control: { sender: { type: 'user', sessionid: b.sessionid, userid: 'bob' }, data: { back: 'at you' } },
    });
  });
});
