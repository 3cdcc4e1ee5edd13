import { FaultProxy, publisherOffer, startJanus, type ManagedProcess, waitFor } from '@talk-signaling/testing';
import { MCU_QUEUE_BUDGET } from '../src/mcu/mcu-session-state';
import { joinMember, mcuMessage, type Member } from './mcu-helpers';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(60_000);

/**
 * A session's MCU messages wait for Janus in order, in a queue bounded in messages and bytes
 * (issue 10, item 2): with Janus not answering (a FaultProxy holding its traffic), messages
 * beyond the budget are refused with `too_many_requests` and counted, instead of piling up.
 */
describe('MCU queue budget', () => {
  let janus: ManagedProcess;
  let proxy: FaultProxy;
  let setup: TestSetup;
  const members: Member[] = [];

  beforeAll(async () => {
    janus = await startJanus();
    proxy = await FaultProxy.start({ port: janus.port, url: janus.url });
    const url = `ws://127.0.0.1:${proxy.port}`;
    setup = await startTestSetup({ roomEventBatchMs: 5, extraConfig: `[mcu]\ntype = janus\nurl = ${url}\ntimeout = 2\n` });
    setup.nextcloud.setRoom('mcu-budget', {});
    await waitFor(() => setup.server.sfu?.connected, { timeout: 10_000, name: 'janus connected' });
  });
  afterEach(() => {
    proxy.resume('to');
    while (members.length) members.pop()!.client.close();
  });
  afterAll(async () => {
    await setup?.stop();
    await proxy?.close();
    await janus?.stop();
  });

  /** A member whose first offer is stuck at a Janus that does not answer. */
  async function blocked(userid: string): Promise<Member> {
    const m = await joinMember(setup, userid, 'mcu-budget');
    members.push(m);
    proxy.pause('to');
    mcuMessage(m, { type: 'offer', sid: 's', roomType: 'video', payload: { type: 'offer', sdp: publisherOffer() } });
    return m;
  }

  const refused = (m: Member) => m.client.messages.filter((x) => x.type === 'error' && x.error?.code === 'too_many_requests').map((x) => x.id as string);
  const counter = async () => Number(/^signaling_mcu_queue_refused_messages_total (\d+)/m.exec(await setup.server.registry.metrics())?.[1]);

  it(`refuses candidates beyond ${MCU_QUEUE_BUDGET.maxTasks} waiting messages`, async () => {
    const m = await blocked('many-candidates');
    const extra = 5;
    // The stuck offer is the first of the budget.
    for (let i = 0; i < MCU_QUEUE_BUDGET.maxTasks - 1 + extra; i++) {
      const candidate = { candidate: `candidate:${i} 1 udp 2122260223 192.0.2.1 ${10_000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 };
      mcuMessage(m, { type: 'candidate', sid: 's', roomType: 'video', payload: { type: 'candidate', candidate } }, m.sessionid, `c${i}`);
    }
    await waitFor(() => refused(m).length === extra, { timeout: 10_000, name: 'the extra candidates refused' });
    const first = MCU_QUEUE_BUDGET.maxTasks - 1;
    expect(refused(m)).toEqual(Array.from({ length: extra }, (_, k) => `c${first + k}`));
    expect(await counter()).toBe(extra);
  });

  it(`refuses offers beyond ${MCU_QUEUE_BUDGET.maxBytes / 1024} KiB of waiting SDP`, async () => {
    const before = await counter();
    const m = await blocked('big-offers');
    // ~56 KiB offers (frames stay below 64 KiB): about 18 fit into the budget.
    const padding = Array.from({ length: 700 }, (_, i) => `a=x-padding:${i.toString().padStart(66, '0')}`).join('\r\n');
    const big = publisherOffer().replace(/\r\n$/, '') + '\r\n' + padding + '\r\n';
    for (let i = 0; i < 25; i++) mcuMessage(m, { type: 'offer', sid: `s${i}`, roomType: 'video', payload: { type: 'offer', sdp: big } }, m.sessionid, `o${i}`);
    await waitFor(() => refused(m).includes('o24'), { timeout: 10_000, name: 'the last big offer refused' });
    const ids = refused(m).map((id) => Number(id.slice(1)));
    // Refused is the tail of the list: the first ones took the budget.
    const fit = Math.floor(MCU_QUEUE_BUDGET.maxBytes / big.length);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, k) => ids[0]! + k));
    expect(ids.at(-1)).toBe(24);
    expect(ids[0]).toBeGreaterThanOrEqual(fit - 2);
    expect(ids[0]).toBeLessThanOrEqual(fit);
    expect(await counter()).toBe(before + ids.length);
  });
});
