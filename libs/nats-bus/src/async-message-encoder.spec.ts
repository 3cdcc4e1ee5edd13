import { AsyncMessageEncoder } from './async-message-encoder';

describe('AsyncMessageEncoder', () => {
  it('produces the same JSON as JSON.stringify, a server message published again in a row encoded once', () => {
    const encoder = new AsyncMessageEncoder();
    const inner = { type: 'event', event: { target: 'room', type: 'join', join: [{ sessionid: 'a' }] } };
    const a = { type: 'message', sendtime: '2026-01-01T00:00:00Z', message: inner };
    const b = { type: 'message', sendtime: '2026-01-01T00:00:01Z', message: inner };
    const c = { type: 'message', sendtime: '2026-01-01T00:00:02Z', message: inner };
    expect(JSON.parse(encoder.encode(a))).toEqual(a);
    expect(JSON.parse(encoder.encode(b))).toEqual(b);
    const spy = jest.spyOn(JSON, 'stringify');
    expect(JSON.parse(encoder.encode(c))).toEqual(c);
    expect(spy.mock.calls.map((call) => call[0])).not.toContain(inner);
    expect(spy.mock.calls.map((call) => call[0])).not.toContain(c);
    spy.mockRestore();
  });

  it('handles envelopes without other fields and messages without an object inside', () => {
    const encoder = new AsyncMessageEncoder();
    expect(JSON.parse(encoder.encode({ message: { type: 'x' } }))).toEqual({ message: { type: 'x' } });
    expect(JSON.parse(encoder.encode({ type: 'room', room: { type: 'update' } }))).toEqual({ type: 'room', room: { type: 'update' } });
    const cyclic: Record<string, unknown> = {};
    cyclic['c'] = cyclic;
    expect(() => encoder.encode({ type: 'message', message: cyclic })).toThrow();
  });
});
