import { asyncMessage, sendTime } from './async-message';

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
