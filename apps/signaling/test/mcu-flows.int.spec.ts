import { EventEmitter } from 'node:events';
import type { TestClient } from '@talk-signaling/testing';
import type {
  Sfu,
  SfuEvents,
  SfuJsep,
  SfuPublisher,
  SfuPublisherEvents,
  SfuPublisherRequest,
  SfuStreamSelection,
  SfuStreamType,
  SfuSubscriber,
  SfuSubscriberEvents,
  SfuSubscriberRequest,
} from '../src/mcu/sfu';
import { joinMember, mcuMessage, nextError, nextMcu, setInCall, type Member } from './mcu-helpers';
import { startTestSetup, type TestSetup } from './test-server';
import { publisherOffer } from '@talk-signaling/testing';

jest.setTimeout(20_000);

class ScriptedPublisher extends EventEmitter<SfuPublisherEvents> implements SfuPublisher {
  closed = false;
  constructor(
    readonly request: SfuPublisherRequest,
    public mediaTypes: number,
  ) {
    super();
  }
  get publisherId(): string {
    return this.request.publisherId;
  }
  get sid(): string {
    return this.request.sid;
  }
  get streamType(): SfuStreamType {
    return this.request.streamType;
  }
  get bitrate(): number {
    return this.request.bitrate;
  }
  async offer(): Promise<SfuJsep> {
    return { type: 'answer', sdp: 'v=0\r\nanswer\r\n' };
  }
  async trickle(): Promise<void> {}
  async close(): Promise<void> {
    this.closed = true;
    this.emit('close');
  }
}

let nextSid = 100;
class ScriptedSubscriber extends EventEmitter<SfuSubscriberEvents> implements SfuSubscriber {
  closed = false;
  sid = String(nextSid++);
  readonly calls: unknown[][] = [];
  constructor(readonly request: SfuSubscriberRequest) {
    super();
  }
  get publisherId(): string {
    return this.request.publisherId;
  }
  get streamType(): SfuStreamType {
    return this.request.streamType;
  }
  async requestOffer(selection: SfuStreamSelection | undefined, sid: string | undefined): Promise<SfuJsep> {
    this.calls.push(['requestOffer', selection, sid]);
    if (!sid || sid !== this.sid) this.sid = String(nextSid++); // a (re)join gets a new handle
    return { type: 'offer', sdp: `v=0\r\noffer ${this.calls.length}\r\n` };
  }
  async answer(jsep: SfuJsep): Promise<void> {
    this.calls.push(['answer', jsep.sdp]);
  }
  async trickle(candidate: unknown): Promise<void> {
    this.calls.push(['trickle', candidate]);
  }
  async selectStream(selection: SfuStreamSelection): Promise<void> {
    this.calls.push(['selectStream', selection]);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.emit('close');
  }
}

/** An in-process SFU standing in for Janus where real media would be needed. */
class ScriptedSfu extends EventEmitter<SfuEvents> implements Sfu {
  connected = true;
  readonly publishers: ScriptedPublisher[] = [];
  readonly subscribers: ScriptedSubscriber[] = [];
  start(): void {}
  async stop(): Promise<void> {}
  maxBitrate(): number {
    return 1_000_000;
  }
  async newPublisher(request: SfuPublisherRequest): Promise<SfuPublisher> {
    const publisher = new ScriptedPublisher(request, request.mediaTypes);
    this.publishers.push(publisher);
    return publisher;
  }
  async newSubscriber(request: SfuSubscriberRequest): Promise<SfuSubscriber> {
    if (!this.publishers.some((p) => p.publisherId === request.publisherId && p.streamType === request.streamType && !p.closed)) {
      throw new Error('no such publisher');
    }
    const subscriber = new ScriptedSubscriber(request);
    this.subscribers.push(subscriber);
    return subscriber;
  }
  stats(): Record<string, unknown> {
    return { url: 'scripted', connected: true, publishers: this.publishers.length, clients: this.publishers.length + this.subscribers.length };
  }
}

/**
 * The subscriber half of the MCU flows (1.9 flows 3–6 and 8) through real client sockets, with
 * an SFU that answers at once: exact message shapes of offers and candidates to subscribers,
 * answers, selectStream, renegotiation by sid, sendoffer, offers the SFU starts itself, and
 * `[app] allowsubscribeany`. Janus itself is exercised in mcu.int.spec.ts.
 */
describe('MCU subscriber flows (scripted SFU)', () => {
  let setup: TestSetup;
  let sfu: ScriptedSfu;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    sfu = new ScriptedSfu();
    setup = await startTestSetup({ roomEventBatchMs: 5, extraConfig: '[app]\nallowsubscribeany = false\n', mcu: { sfu } });
    setup.nextcloud.setRoom('call', {});
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await setup?.stop();
  });

  async function member(userid: string): Promise<Member> {
    const m = await joinMember(setup, userid, 'call');
    clients.push(m.client);
    return m;
  }

  it('requestoffer → offer, answer, candidates both ways, selectStream, renegotiation, SFU offers, sendoffer', async () => {
    const a = await member('flow-a');
    const b = await member('flow-b');
    mcuMessage(a, { type: 'offer', sid: 'pub-sid', roomType: 'video', payload: { type: 'offer', sdp: publisherOffer() } });
    await nextMcu(a, 'answer');
    await setInCall(setup, 'call', [a, b], 3);

    mcuMessage(b, { type: 'requestoffer', roomType: 'video', payload: { substream: 2, audio: true } }, a.sessionid);
    const offer = await nextMcu(b, 'offer');
    const subscriber = sfu.subscribers.at(-1)!;
    expect(offer).toEqual({
      type: 'message',
      message: {
        sender: { type: 'session', sessionid: a.sessionid },
        data: { to: b.sessionid, from: a.sessionid, type: 'offer', roomType: 'video', payload: { type: 'offer', sdp: 'v=0\r\noffer 1\r\n' }, sid: subscriber.sid },
      },
    });
    expect(subscriber.calls[0]).toEqual(['requestOffer', { substream: 2, audio: true }, undefined]);
    const sid = offer.message.data.sid as string;

    mcuMessage(b, { type: 'answer', sid, roomType: 'video', payload: { type: 'answer', sdp: 'v=0\r\n' } }, a.sessionid);
    mcuMessage(b, { type: 'candidate', sid, roomType: 'video', payload: { candidate: { candidate: 'c1', sdpMid: '0' } } }, a.sessionid);
    mcuMessage(b, { type: 'selectStream', roomType: 'video', payload: { substream: 0, temporal: 1, video: false } }, a.sessionid);
    mcuMessage(b, { type: 'selectStream', roomType: 'video', payload: {} }, a.sessionid);
    await b.client.expectNoMessage(150);
    expect(subscriber.calls.slice(1)).toEqual([
      ['answer', 'v=0\r\n'],
      ['trickle', { candidate: 'c1', sdpMid: '0' }],
      ['selectStream', { substream: 0, temporal: 1, video: false }],
    ]);

    // The SFU's candidates and its own renegotiation offers reach B as coming from A.
    subscriber.emit('candidate', { candidate: 'janus', sdpMLineIndex: 0 });
    expect((await nextMcu(b, 'candidate')).message).toEqual({
      sender: { type: 'session', sessionid: a.sessionid },
      data: { to: b.sessionid, from: a.sessionid, type: 'candidate', roomType: 'video', payload: { candidate: { candidate: 'janus', sdpMLineIndex: 0 } }, sid },
    });
    subscriber.emit('offer', { type: 'offer', sdp: 'v=0\r\nrenegotiated\r\n' });
    expect((await nextMcu(b, 'offer')).message.data).toMatchObject({ from: a.sessionid, payload: { sdp: 'v=0\r\nrenegotiated\r\n' }, sid });

    // Same sid again: renegotiation on the same subscriber; the SFU keeps the sid.
    mcuMessage(b, { type: 'requestoffer', roomType: 'video', sid }, a.sessionid);
    expect((await nextMcu(b, 'offer')).message.data.sid).toBe(sid);
    expect(subscriber.calls.at(-1)).toEqual(['requestOffer', undefined, sid]);
    expect(sfu.subscribers.filter((s) => s.request.subscriberId === b.sessionid)).toHaveLength(1);

    // Publisher candidates from the SFU go to A, from A.
    sfu.publishers.at(-1)!.emit('candidate', { candidate: 'pub' });
    expect((await nextMcu(a, 'candidate')).message).toEqual({
      sender: { type: 'session', sessionid: a.sessionid },
      data: { to: a.sessionid, from: a.sessionid, type: 'candidate', roomType: 'video', payload: { candidate: { candidate: 'pub' } }, sid: 'pub-sid' },
    });

    // sendoffer: A pushes its stream to C, who is not even in the call (upstream does not check).
    const c = await member('flow-c');
    mcuMessage(a, { type: 'sendoffer', roomType: 'video' }, c.sessionid);
    expect((await nextMcu(c, 'offer')).message).toEqual({
      sender: { type: 'session', sessionid: a.sessionid },
      data: { to: c.sessionid, from: a.sessionid, type: 'offer', roomType: 'video', payload: expect.objectContaining({ type: 'offer' }), sid: expect.any(String) },
    });
    // …but C may not request one.
    mcuMessage(c, { type: 'requestoffer', roomType: 'video' }, a.sessionid, 'x');
    expect((await nextError(c)).error).toEqual({ code: 'not_allowed', message: 'Not allowed to request offer.' });

    // A subscription to a stream nobody publishes finds no MCU client.
    mcuMessage(b, { type: 'requestoffer', roomType: 'screen' }, a.sessionid, 'y');
    expect(await nextError(b)).toEqual({ id: 'y', type: 'error', error: { code: 'client_not_found', message: 'No MCU client found to send message to.' } });

    // Leaving the call closes B's subscriber.
    await setInCall(setup, 'call', [b], 0);
    expect(subscriber.closed).toBe(true);
  });

  it('withdraws MCU processing from sessions that were not told about the MCU', async () => {
    sfu.emit('disconnected');
    try {
      const a = await member('p2p-a');
      const b = await member('p2p-b');
      const data = { type: 'offer', roomType: 'video', payload: { type: 'offer', sdp: 'v=0\r\n' } };
      mcuMessage(a, data, b.sessionid);
      expect((await nextMcu(b, 'offer')).message).toEqual({ sender: { type: 'session', sessionid: a.sessionid, userid: 'p2p-a' }, data });
    } finally {
      sfu.emit('connected');
    }
  });
});
