// TLS behind Debian's nginx, Caddy and Apache, each running the site shipped in
// deploy/reverse-proxy (what docs/deployment.md section 7 prints) with a certificate from a
// test CA, in front of the built signaling server: Talk clients over wss, Nextcloud's backend
// API, the welcome probe, nothing internal, and the client address the server sees.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createTestCa, TestClient } from '@talk-signaling/testing';
import { checksum, newRandom, startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { REPO_ROOT } from './podman';
import { startSignalingProcess, type HostProcess } from './processes';
import { httpsRequest, PROXY_SITE_FILES, startReverseProxy, type ProxyKind, type RunningProxy } from './reverse-proxies';

const INTERNAL_SECRET = 'deploy-test-internal-secret';
/** The client's own address; the proxies connect to the server from 127.0.0.1. */
const CLIENT_ADDRESS = '127.0.0.2';
/** What a client claims to be, to be ignored. */
const FORGED = { 'X-Real-IP': '203.0.113.9', 'X-Forwarded-For': '203.0.113.10' };

let ca: string;
let cert: { certPem: string; keyPem: string };
let nextcloud: FakeNextcloud;
/** Trusts the proxies (127.0.0.1). */
let trusting: HostProcess;
/** Trusts nobody on this machine. */
let distrusting: HostProcess;
const clients: TestClient[] = [];

beforeAll(async () => {
  const testCa = createTestCa();
  ca = testCa.certPem;
  const leaf = testCa.issue({ commonName: 'signaling.test', usage: ['server'] });
  cert = { certPem: leaf.certPem + testCa.certPem, keyPem: leaf.keyPem };
  nextcloud = await startFakeNextcloud({ secret: 'deploy-test-backend-secret' });
  const backend = { url: nextcloud.url, secret: nextcloud.secret };
  trusting = await startSignalingProcess(backend, '[app]\ntrustedproxies = 127.0.0.1');
  distrusting = await startSignalingProcess(backend, '[app]\ntrustedproxies = 192.0.2.1');
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await trusting?.stop();
  await distrusting?.stop();
  await nextcloud?.close();
}, 30_000);

async function connect(proxy: RunningProxy, headers: Record<string, string> = {}): Promise<TestClient> {
  const client = await TestClient.connect(`${proxy.url.replace('https:', 'wss:')}spreed`, { ca, headers, localAddress: CLIENT_ADDRESS });
  clients.push(client);
  await client.next('welcome');
  return client;
}

async function user(proxy: RunningProxy, userid: string): Promise<{ client: TestClient; sessionid: string }> {
  const client = await connect(proxy);
  const reply = await client.hello({ url: nextcloud.backendUrl, params: nextcloud.addUser(userid) });
  expect(reply.type).toBe('hello');
  return { client, sessionid: reply.hello.sessionid as string };
}

/** The address `server` recorded for a session: an internal dial-out client shows up in /api/v1/serverinfo. */
async function addressSeenBy(server: HostProcess, proxy: RunningProxy): Promise<string> {
  const client = await connect(proxy, FORGED);
  const hello = await client.helloInternal({ backend: nextcloud.url, secret: INTERNAL_SECRET, features: ['start-dialout'] });
  const res = await fetch(`${server.baseUrl}api/v1/serverinfo`);
  expect(res.status).toBe(200);
  const info = (await res.json()) as { dialout: Array<{ sessionid: string; address: string }> };
  client.close();
  return info.dialout.find((d) => d.sessionid === hello.hello.sessionid)!.address;
}

describe.each<ProxyKind>(['nginx', 'caddy', 'apache'])('TLS behind %s', (kind) => {
  let proxy: RunningProxy;
  let proxyToDistrusting: RunningProxy;

  beforeAll(async () => {
    proxy = await startReverseProxy(kind, { upstreamPort: trusting.port, ...cert, ca });
    proxyToDistrusting = await startReverseProxy(kind, { upstreamPort: distrusting.port, ...cert, ca });
  }, 60_000);

  afterAll(async () => {
    await proxy?.process.stop();
    await proxyToDistrusting?.process.stop();
  }, 30_000);

  it('carries two clients over wss to /spreed: hello through Nextcloud, a message from one to the other', async () => {
    const alice = await user(proxy, 'alice');
    const bob = await user(proxy, 'bob');
    alice.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: bob.sessionid }, data: { via: kind } } });
    expect(await bob.client.next('message')).toEqual({
      type: 'message',
      message: { sender: { type: 'session', sessionid: alice.sessionid, userid: 'alice' }, data: { via: kind } },
    });
  });

  it('passes the backend API and the welcome probe, and nothing internal', async () => {
    const roomid = `room-${kind}`;
    nextcloud.setRoom(roomid, {});
    const dan = await user(proxy, 'dan');
    expect((await dan.client.joinRoom(roomid, 'nc-dan')).type).toBe('room');

    const body = JSON.stringify({ type: 'message', message: { data: { via: kind } } });
    const random = newRandom();
    const headers = {
      'Content-Type': 'application/json',
      'OCS-APIRequest': 'true',
      'Spreed-Signaling-Random': random,
      'Spreed-Signaling-Checksum': checksum(random, body, nextcloud.secret),
      'Spreed-Signaling-Backend': nextcloud.url,
    };
    const posted = await httpsRequest(`${proxy.url}api/v1/room/${roomid}`, { method: 'POST', headers, body, ca, localAddress: CLIENT_ADDRESS });
    expect(posted.status).toBe(200);
    expect(await dan.client.waitForMessage((m) => m.type === 'event' && m.event?.type === 'message')).toEqual({
      type: 'event',
      event: { target: 'room', type: 'message', message: { roomid, data: { via: kind } } },
    });
    // A wrong checksum is refused by the server, not the proxy.
    const forged = await httpsRequest(`${proxy.url}api/v1/room/${roomid}`, { method: 'POST', headers: { ...headers, 'Spreed-Signaling-Checksum': '0'.repeat(64) }, body, ca });
    expect(forged.status).toBe(403);

    const welcome = await httpsRequest(`${proxy.url}api/v1/welcome`, { ca });
    expect(welcome.status).toBe(200);
    expect(JSON.parse(welcome.body)).toEqual({ 'nextcloud-spreed-signaling': 'Welcome', version: expect.any(String) });

    // The server would answer these to 127.0.0.1 (its stats address): the proxy must not reach them.
    for (const internal of ['metrics', 'api/v1/stats', 'api/v1/serverinfo', 'health', 'ready']) {
      const res = await httpsRequest(`${proxy.url}${internal}`, { ca });
      expect([internal, res.status]).toEqual([internal, kind === 'apache' ? 403 : 404]);
    }
  });

  it("gives the server the client's address, not what the client claims, only where trustedproxies names the proxy", async () => {
    expect(await addressSeenBy(trusting, proxy)).toBe(CLIENT_ADDRESS);
    expect(await addressSeenBy(distrusting, proxyToDistrusting)).toBe('127.0.0.1');
  });
});

describe('docs/deployment.md', () => {
  it('prints the tested reverse-proxy sites verbatim', () => {
    const docs = readFileSync(path.join(REPO_ROOT, 'docs/deployment.md'), 'utf8');
    for (const file of Object.values(PROXY_SITE_FILES)) {
      expect([file, docs.includes(`\n${readFileSync(path.join(REPO_ROOT, file), 'utf8')}\`\`\``)]).toEqual([file, true]);
    }
  });
});
