import { TestClient, waitFor } from '@talk-signaling/testing';
import type { FakeNextcloud } from '@talk-signaling/fake-nextcloud';

/**
 * What the deployment tests check on every clustered set-up (two containers, two pods, two
 * nodes behind nginx): users on different signaling instances message each other and share a
 * room, and Nextcloud's room messages reach the members on every instance.
 */
export interface DeployUser {
  client: TestClient;
  userid: string;
  sessionid: string;
  resumeid: string;
}

/** Connects to `wsUrl` (its `/spreed`), waits for the welcome and says hello as `userid` through `nextcloud`. */
export async function helloUser(nextcloud: FakeNextcloud, wsUrl: string, userid: string, clients: TestClient[], opts: { ca?: string } = {}): Promise<DeployUser> {
  const client = await TestClient.connect(wsUrl, opts.ca === undefined ? {} : { ca: opts.ca });
  clients.push(client);
  await client.next('welcome');
  const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(userid) });
  if (reply.type !== 'hello') throw new Error(`hello of ${userid} failed: ${JSON.stringify(reply)}`);
  return { client, userid, sessionid: reply.hello.sessionid as string, resumeid: reply.hello.resumeid as string };
}

/**
 * Sends a session message from `from` to `to` (on another instance) until it arrives — the
 * receiver's NATS subscription reaches the server a moment after its hello — and expects it
 * as a message that crossed instances: with its `recipient`, as upstream.
 */
export async function expectMessageAcross(from: DeployUser, to: DeployUser, data: unknown): Promise<void> {
  const received = await waitFor(
    async () => {
      from.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: to.sessionid }, data } });
      return to.client.waitForMessage((m) => m.type === 'message', 500).catch(() => undefined);
    },
    { timeout: 20_000, name: `message from ${from.userid} to ${to.userid}` },
  );
  expect(received).toEqual({
    type: 'message',
    message: { sender: { type: 'session', sessionid: from.sessionid, userid: from.userid }, recipient: { type: 'session', sessionid: to.sessionid }, data },
  });
}

/** `a` then `b` join `roomid` (Nextcloud allows it); each sees the other's join. */
export async function joinBoth(nextcloud: FakeNextcloud, roomid: string, a: DeployUser, b: DeployUser): Promise<void> {
  nextcloud.setRoom(roomid, {});
  const sawJoin = (sessionid: string) => (m: { type: string; event?: { join?: Array<{ sessionid: string }> } }) =>
    m.type === 'event' && (m.event?.join ?? []).some((e) => e.sessionid === sessionid);
  expect((await a.client.joinRoom(roomid, `nc-${a.userid}`)).type).toBe('room');
  await a.client.waitForMessage(sawJoin(a.sessionid));
  expect((await b.client.joinRoom(roomid, `nc-${b.userid}`)).type).toBe('room');
  await b.client.waitForMessage(sawJoin(a.sessionid));
  await a.client.waitForMessage(sawJoin(b.sessionid));
}

/** Each of `members` gets the room `message` event with `data` (after Nextcloud posted it). */
export async function expectRoomMessage(members: DeployUser[], roomid: string, data: unknown): Promise<void> {
  const expected = { type: 'event', event: { target: 'room', type: 'message', message: { roomid, data } } };
  const isIt = (m: { type: string; event?: { type?: string } }) => m.type === 'event' && m.event?.type === 'message';
  for (const member of members) expect(await member.client.waitForMessage(isIt)).toEqual(expected);
}
