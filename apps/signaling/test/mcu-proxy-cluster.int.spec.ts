import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, publisherOffer, waitFor, type TestClient } from '@talk-signaling/testing';
import type { ProxySfu } from '../src/mcu/proxy/proxy-sfu';
import { joinMember, mcuMessage, nextMcu, type Member } from './mcu-helpers';
import { ScriptedProxy } from './scripted-proxy';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(30_000);

/**
 * Two signaling nodes (gRPC between them), each with its own proxy: a subscriber on node B to a
 * publisher on node A finds it through `GetPublisherId`, connects to A's proxy with the token A
 * gave (a temporary connection) and subscribes there; the connection closes once unused.
 */
describe('MCU proxy across signaling nodes (GetPublisherId)', () => {
  let keyDir: string;
  let keyPath: string;
  let proxyA: ScriptedProxy;
  let proxyB: ScriptedProxy;
  let nodeA: TestSetup;
  let nodeB: TestSetup;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    keyDir = await mkdtemp(path.join(tmpdir(), 'talk-proxy-key-'));
    keyPath = path.join(keyDir, 'key.pem');
    await writeFile(keyPath, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    proxyA = await ScriptedProxy.start();
    proxyB = await ScriptedProxy.start();
    const [portA, portB] = [await freePort(), await freePort()];
    const config = (proxy: ScriptedProxy, tokenId: string, listen: number, target: number) =>
      [
        '[app]',
        'allowsubscribeany = true',
        '[mcu]',
        'type = proxy',
        `url = ${proxy.url}`,
        `token_id = ${tokenId}`,
        `token_key = ${keyPath}`,
        '[grpc]',
        `listen = 127.0.0.1:${listen}`,
        `targets = 127.0.0.1:${target}`,
      ].join('\n');
    nodeA = await startTestSetup({ roomEventBatchMs: 5, extraConfig: config(proxyA, 'node-a', portA, portB) });
    nodeB = await startTestSetup({ roomEventBatchMs: 5, extraConfig: config(proxyB, 'node-b', portB, portA), nextcloud: nodeA.nextcloud });
    nodeA.nextcloud.setRoom('x', {});
    for (const node of [nodeA, nodeB]) await waitFor(() => node.server.sfu?.connected, { timeout: 5_000, name: 'proxy connected' });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await nodeB?.stop();
    await nodeA?.stop();
    await proxyA?.stop();
    await proxyB?.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  async function member(node: TestSetup, userid: string): Promise<Member> {
    const m = await joinMember(node, userid, 'x');
    clients.push(m.client);
    return m;
  }

  it('subscribes on node B to a publisher on node A’s proxy, through a temporary connection with A’s token', async () => {
    const pub = await member(nodeA, 'pub');
    mcuMessage(pub, { type: 'offer', sid: 's1', roomType: 'video', payload: { type: 'offer', sdp: publisherOffer() } });
    await nextMcu(pub, 'answer');
    const info = await (nodeA.server.sfu as ProxySfu).publisherInfo(pub.sessionid, 'video', AbortSignal.timeout(1_000));
    expect(info).toEqual({ publisherId: expect.stringMatching(/^pub-/), proxyUrl: proxyA.url, ip: '', connectToken: expect.any(String), publisherToken: expect.any(String) });

    const sub = await member(nodeB, 'sub');
    mcuMessage(sub, { type: 'requestoffer', roomType: 'video' }, pub.sessionid);
    const offer = await nextMcu(sub, 'offer');
    expect(offer.message.data).toMatchObject({ type: 'offer', roomType: 'video', from: pub.sessionid, payload: { type: 'offer', sdp: 'v=0 offer' } });

    // Node B said hello to A's proxy with the connect token node A signed (iss node-a).
    const hellos = proxyA.hellos();
    expect(hellos).toHaveLength(2);
    const claims = JSON.parse(Buffer.from(hellos[1].token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ iss: 'node-a', sub: '' });
    // A subscriber of the publisher's proxy client id, on the publisher's proxy (no remote stream).
    expect(proxyA.commands('create-subscriber')).toEqual([{ type: 'create-subscriber', streamType: 'video', publisherId: info!.publisherId }]);
    expect(proxyB.commands('create-subscriber')).toEqual([]);
    const sfuB = nodeB.server.sfu as ProxySfu;
    expect(sfuB.connections.find((c) => c.url === proxyA.url)?.temporary).toBe(true);

    // The subscriber leaves: the temporary connection closes.
    await sub.client.bye();
    await waitFor(() => sfuB.connections.length === 1, { timeout: 5_000, name: 'temporary connection closed' });
    expect(proxyA.commands('delete-subscriber')).toEqual([{ type: 'delete-subscriber', clientId: expect.stringMatching(/^sub-/) }]);
  });
});
