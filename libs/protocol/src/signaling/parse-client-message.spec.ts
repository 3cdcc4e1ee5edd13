import { parseClientMessage } from './parse-client-message';
import type { ClientMessage, UnknownClientMessage } from './parse-client-message';
import type { ParseResult } from '../parse-result';

function ok(text: string): ClientMessage | UnknownClientMessage {
  const result = parseClientMessage(text);
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.reason ?? ''}`);
  return result.value;
}

function fail(text: string): Extract<ParseResult<unknown>, { ok: false }> {
  const result = parseClientMessage(text);
  if (result.ok) throw new Error(`expected failure for ${text}`);
  return result;
}

const json = (value: unknown): string => JSON.stringify(value);

describe('parseClientMessage: envelope', () => {
  it.each([['not json'], ['[1,2]'], ['"hello"'], ['null'], ['42'], ['{"type":"hello"']])(
    'rejects %s with invalid_format and no id',
    (text) => {
      const result = fail(text);
      expect(result.error.code).toBe('invalid_format');
      expect(result.error.message).toBe('Invalid data format.');
      expect(result.id).toBeUndefined();
      expect(result.error.reason).toBeTruthy();
    },
  );

  it('rejects a missing or empty type, echoing the id', () => {
    expect(fail(json({ id: 'a' }))).toMatchObject({ id: 'a', error: { code: 'invalid_format' } });
    expect(fail(json({ id: 'a', type: '' }))).toMatchObject({ id: 'a', error: { code: 'invalid_format' } });
    expect(fail(json({ type: '' })).id).toBeUndefined();
  });

  it('rejects non-string id and type without id (undecodable upstream)', () => {
    expect(fail(json({ id: 1, type: 'bye' }))).toEqual({ ok: false, error: expect.objectContaining({ code: 'invalid_format' }) });
    expect(fail(json({ id: 'x', type: 5 })).id).toBeUndefined();
  });

  it('passes unknown types through', () => {
    expect(ok(json({ id: 'u', type: 'whatever', whatever: {} }))).toEqual({ id: 'u', type: 'whatever', unknown: true });
    expect(ok(json({ type: 'foo' }))).toEqual({ type: 'foo', unknown: true });
  });

  it.each(['hello', 'room', 'message', 'control', 'internal', 'transient'])(
    'requires the %s payload object',
    (type) => {
      const result = fail(json({ id: 'r1', type }));
      expect(result).toMatchObject({ id: 'r1', error: { code: 'invalid_format', reason: `${type}: required` } });
      expect(fail(json({ id: 'r1', type, [type]: null })).id).toBe('r1');
      // Non-object payloads cannot be decoded at all upstream: no id.
      expect(fail(json({ id: 'r1', type, [type]: 'x' })).id).toBeUndefined();
    },
  );
});

describe('parseClientMessage: bye', () => {
  it('needs no payload', () => {
    expect(ok(json({ id: 'x', type: 'bye', bye: {} }))).toEqual({ id: 'x', type: 'bye' });
    expect(ok(json({ type: 'bye' }))).toEqual({ type: 'bye' });
    expect(fail(json({ type: 'bye', bye: 3 })).error.code).toBe('invalid_format');
  });
});
