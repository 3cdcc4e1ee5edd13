import fc from 'fast-check';
import { decodeAsyncMessage } from './decode-message';

const LIMITS = { maxMessageBytes: 1024 * 1024, maxDepth: 32 };

/** `ok`, or why `decodeAsyncMessage` dropped `text`. */
const reason = (text: string, limits = LIMITS): string => {
  const d = decodeAsyncMessage(text, limits);
  return d.ok ? 'ok' : d.reason;
};

describe('decodeAsyncMessage', () => {
  it('accepts the AsyncMessage shapes of fact sheet 6.1', () => {
    const good = [
      { type: 'message', sendtime: '2026-01-01T00:00:00.123456789Z', message: { type: 'event', event: {} } },
      { type: 'room', room: { type: 'update' } },
      { type: 'permissions', permissions: ['publish-media'] },
      { type: 'asyncroom', asyncroom: { type: 'sessionjoined', sessionid: 'x' } },
      { type: 'sendoffer', sendoffer: { sessionid: 'x', data: {} } },
      { type: 'something-newer', id: '' },
    ];
    for (const m of good) expect(decodeAsyncMessage(JSON.stringify(m), LIMITS)).toEqual({ ok: true, message: m });
  });

  it('names the reason for what it rejects', () => {
    expect(reason('{')).toBe('malformed');
    expect(reason('null')).toBe('invalid');
    expect(reason('{"type":1}')).toBe('invalid');
    expect(reason('{"type":"room","room":[]}')).toBe('invalid');
    expect(reason('{"type":"permissions","permissions":"all"}')).toBe('invalid');
    expect(reason('{"type":"message","message":{"type":"x"},"sendtime":{}}')).toBe('invalid');
    expect(reason('{"type":"__proto__"}')).toBe('ok');
    expect(reason(`{"type":"x","d":${'['.repeat(33)}${']'.repeat(33)}}`)).toBe('too_deep');
    expect(reason(`{"type":"x","d":${'['.repeat(31)}${']'.repeat(31)}}`)).toBe('ok');
    expect(reason('{"type":"x"}', { maxMessageBytes: 5, maxDepth: 8 })).toBe('oversize');
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(reason('{"type":"x","a":"[[[[\\"[[[["}', { maxMessageBytes: 1_000, maxDepth: 1 })).toBe('ok');
    expect(reason('{"type":"x","a":"\\\\",  "b":[[]]}', { maxMessageBytes: 1_000, maxDepth: 2 })).toBe('too_deep');
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ type: 'message', message: v }))), (text) => {
        const d = decodeAsyncMessage(text, LIMITS);
        expect(typeof d.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});
