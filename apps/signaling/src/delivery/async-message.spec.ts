import { asyncMessage, asyncSendOffer, isSendOffer, sendTime } from './async-message';

describe('sendTime (the sendtime of bus envelopes)', () => {
  it('is the ISO 8601 time of the given millisecond, also when the previous call was in another one', () => {
    const a = Date.UTC(2026, 11, 7, 5, 30, 0, 123);
    expect(sendTime(a)).toBe('2026-12-07T05:30:00.123Z');
    expect(sendTime(a)).toBe('2026-12-07T05:30:00.123Z');
    expect(sendTime(a + 1)).toBe('2026-12-07T05:30:00.124Z');
    expect(sendTime(a)).toBe('2026-12-07T05:30:00.123Z');
  });

  it('stamps envelopes with the current time', () => {
    const before = Date.now();
    const stamped = Date.parse(asyncMessage({ type: 'message', message: {} }).sendtime);
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThanOrEqual(Date.now());
  });
});

describe('sendoffer envelopes (fact sheet 6.1)', () => {
  it('are built in upstream\'s shape and recognised', () => {
    const offer = asyncSendOffer({ messageid: 'm1', sessionid: 'pub', data: { type: 'sendoffer', roomType: 'video' } });
    expect(offer).toEqual({ type: 'sendoffer', sendtime: expect.any(String), sendoffer: { messageid: 'm1', sessionid: 'pub', data: { type: 'sendoffer', roomType: 'video' } } });
    expect(isSendOffer(offer)).toBe(true);
    expect(isSendOffer({ type: 'sendoffer', sendoffer: { sessionid: 'pub', data: {} } })).toBe(true);
  });

  it('from another node are refused without a sender, with a non-string request id or without object data', () => {
    for (const sendoffer of [undefined, null, [], 'x', { data: {} }, { sessionid: '', data: {} }, { sessionid: 5, data: {} }, { sessionid: 'p', messageid: 1, data: {} }, { sessionid: 'p' }, { sessionid: 'p', data: [] }, { sessionid: 'p', data: null }]) {
      expect(isSendOffer({ type: 'sendoffer', sendoffer })).toBe(false);
    }
    expect(isSendOffer({ type: 'message', sendoffer: { sessionid: 'p', data: {} } })).toBe(false);
  });
});
