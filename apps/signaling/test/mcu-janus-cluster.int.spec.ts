import pino from 'pino';
import type { Logger } from '@talk-signaling/runtime';
import { publisherOffer, startJanus, waitFor, type ManagedProcess, type TestClient } from '@talk-signaling/testing';
import { joinMember, mcuMessage, nextError, nextMcu, setInCall, type Member } from './mcu-helpers';
import { startTestCluster, type TestCluster } from './test-cluster';
import type { TestSetup } from './test-server';

jest.setTimeout(60_000);

/** Every log line of both nodes, parsed. */
const lines: { msg?: string; level: string; session?: string; publisher?: string }[] = [];
const log = pino({ level: 'info', formatters: { level: (label) => ({ level: label }) } }, { write: (line: string) => void lines.push(JSON.parse(line)) }) as unknown as Logger;

/** Far longer than the waits below: an error that arrives did not come from waiting it out. */
const MCU_TIMEOUT_S = 30;
/** Generous for a loaded machine, still half the MCU timeout. */
const PROMPT_MS = 15_000;

/**
 * `[mcu] type = janus` on two nodes (real Janus, shared by both; real nats-server; gRPC): a
 * node's Janus subscribers reach only the publishers of its own sessions, so a publisher and a
 * subscriber on different nodes never meet. Upstream waits the whole MCU timeout and then
 * answers `client_not_found`; here the same error comes at once, and the subscriber's node logs
 * that media across nodes needs `[mcu] type = proxy`.
 */
describe('MCU with [mcu] type = janus, publisher and subscriber on different nodes', () => {
  let janus: ManagedProcess;
  let cluster: TestCluster;
  let one: TestSetup;
  let two: TestSetup;
  let a: Member;
  let b: Member;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    janus = await startJanus();
    cluster = await startTestCluster({
      grpc: true,
      roomEventBatchMs: 5,
      extraConfig: ['[mcu]', 'type = janus', `url = ${janus.url}`, `timeout = ${MCU_TIMEOUT_S}`].join('\n'),
      serverOptions: { log },
    });
    [one, two] = cluster.nodes as [TestSetup, TestSetup];
    for (const node of cluster.nodes) await waitFor(() => node.server.sfu?.connected, { timeout: 20_000, name: 'janus connected' });
    cluster.nextcloud.setRoom('call', {});
    a = await joinMember(one, 'janus-a', 'call');
    b = await joinMember(two, 'janus-b', 'call');
    clients.push(a.client, b.client);
    await setInCall(one, 'call', [a, b], 7);
    for (const [m, node] of [[a, one], [b, two]] as const) {
      await waitFor(() => node.server.sessions.byPublicId(m.sessionid)?.inCall === 7, { timeout: 10_000, name: `${m.userid} in the call` });
    }
    mcuMessage(a, { type: 'offer', sid: 's1', roomType: 'video', payload: { type: 'offer', sdp: publisherOffer() } });
    await nextMcu(a, 'answer');
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
    await janus?.stop();
  });

  /** The warning the subscriber's node wrote about the publisher on the other node. */
  const crossNodeWarnings = (subscriber: string) =>
    lines.filter((l) => l.level === 'warn' && l.session === subscriber && l.publisher === a.sessionid && /type = proxy/.test(l.msg ?? ''));

  it('requestoffer to a publisher on the other node: client_not_found at once, a log line says why, no Janus subscriber', async () => {
    mcuMessage(b, { type: 'requestoffer', roomType: 'video' }, a.sessionid, 'j1');
    expect(await nextError(b, PROMPT_MS)).toEqual({ id: 'j1', type: 'error', error: { code: 'client_not_found', message: 'No MCU client found to send message to.' } });
    expect(crossNodeWarnings(b.sessionid)).toHaveLength(1);
    expect(crossNodeWarnings(b.sessionid)[0]!.msg).toMatch(/different signaling nodes needs \[mcu\] type = proxy/);
    // The in-call check passed (IsSessionInCall said yes); nothing was asked of Janus.
    expect(two.server.sfu?.stats()).toMatchObject({ connected: true, publishers: 0, clients: 0 });
  });

  it('sendoffer to a receiver on the other node: client_not_found back to the publisher with its request id, logged by the receiver’s node', async () => {
    mcuMessage(a, { type: 'sendoffer', roomType: 'video' }, b.sessionid, 'j2');
    expect(await nextError(a, PROMPT_MS)).toEqual({ id: 'j2', type: 'error', error: { code: 'client_not_found', message: 'No MCU client found to send message to.' } });
    expect(crossNodeWarnings(b.sessionid)).toHaveLength(2);
    expect(two.server.sfu?.stats()).toMatchObject({ publishers: 0, clients: 0 });
  });
});
