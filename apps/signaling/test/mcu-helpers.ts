/* eslint-disable @typescript-eslint/no-explicit-any -- protocol messages are free-form JSON in tests */
import { JanusConnection, VIDEOROOM_PLUGIN, type JanusHandle } from '@talk-signaling/janus';
import { TestClient, waitFor } from '@talk-signaling/testing';
import type { TestSetup } from './test-server';

/** A test-side look into Janus: lists the VideoRoom rooms. */
export class JanusProbe {
  private constructor(
    readonly conn: JanusConnection,
    readonly control: JanusHandle,
  ) {}

  static async connect(url: string): Promise<JanusProbe> {
    const conn = await JanusConnection.connect({ url, reconnect: { initialMs: 50, maxMs: 200 } });
    const session = await conn.createSession();
    return new JanusProbe(conn, await session.attach(VIDEOROOM_PLUGIN));
  }

  async rooms(): Promise<{ room: number; description: string; bitrate: number; audiocodec?: string; videocodec?: string }[]> {
    return (await this.control.request({ request: 'list' }))['list'] as never;
  }

  async roomOf(publisherId: string, streamType: string): Promise<any> {
    return (await this.rooms()).find((r) => r.description === `${publisherId}|${streamType}`);
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}

export interface Member {
  client: TestClient;
  sessionid: string;
  userid: string;
  ncSession: string;
}

/** A user session in `roomid` (Nextcloud room session id `nc-<userid>`), welcome consumed. */
export async function joinMember(setup: TestSetup, userid: string, roomid: string): Promise<Member> {
  const client = await TestClient.connect(setup.wsUrl);
  const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
  if (reply.type !== 'hello') throw new Error(`hello failed: ${JSON.stringify(reply)}`);
  await client.next('welcome');
  const ncSession = `nc-${userid}`;
  const join = await client.joinRoom(roomid, ncSession);
  if (join.type !== 'room') throw new Error(`join failed: ${JSON.stringify(join)}`);
  return { client, sessionid: reply.hello.sessionid as string, userid, ncSession };
}

/** Nextcloud tells the server who is in the call (2.3.6). */
export async function setInCall(setup: TestSetup, roomid: string, members: Member[], inCall: number): Promise<void> {
  const changed = members.map((m) => ({ sessionId: m.ncSession, inCall, participantType: 3 }));
  const res = await setup.nextcloud.backendRequest(setup.baseUrl, roomid, { type: 'incall', incall: { incall: inCall, changed, users: changed } });
  if (res.status !== 200) throw new Error(`incall: ${res.status} ${res.body}`);
}

/** MCU data message to `to` (default: oneself). */
export function mcuMessage(member: Member, data: Record<string, unknown>, to = member.sessionid, id?: string): void {
  member.client.send({ ...(id ? { id } : {}), type: 'message', message: { recipient: { type: 'session', sessionid: to }, data } });
}

/** The next `message` whose data has `type` (other messages, e.g. events, are skipped). */
export function nextMcu(member: Member, type: string, timeoutMs?: number): Promise<any> {
  return member.client.waitForMessage((m) => m.type === 'message' && m.message?.data?.type === type, timeoutMs);
}

/** The next error (other messages are skipped). */
export function nextError(member: Member, timeoutMs?: number): Promise<any> {
  return member.client.waitForMessage((m) => m.type === 'error', timeoutMs);
}

export async function welcomeFeatures(setup: TestSetup): Promise<string[]> {
  const client = await TestClient.connect(setup.wsUrl);
  try {
    return (await client.next('welcome')).welcome.features as string[];
  } finally {
    client.close();
  }
}

export async function waitForFeature(setup: TestSetup, feature: string, present: boolean, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => (await welcomeFeatures(setup)).includes(feature) === present, {
    timeout: timeoutMs,
    interval: 50,
    name: `feature ${feature} ${present ? 'announced' : 'withdrawn'}`,
  });
}

export async function stats(setup: TestSetup): Promise<any> {
  return (await fetch(`${setup.baseUrl}api/v1/stats`)).json();
}

export async function metrics(setup: TestSetup): Promise<string> {
  return (await fetch(`${setup.baseUrl}metrics`)).text();
}
