import { MAX_JSON_DEPTH, jsonNestsDeeperThan, parseJsonLimited } from './json-limits';

const nested = (depth: number, open = '[', close = ']'): string => open.repeat(depth) + close.repeat(depth);

describe('jsonNestsDeeperThan', () => {
  it.each([
    ['arrays', (d: number) => nested(d)],
    ['objects', (d: number) => '{"a":'.repeat(d - 1) + '{}' + '}'.repeat(d - 1)],
    ['mixed', (d: number) => '[{"a":'.repeat(d / 2) + '1' + '}]'.repeat(d / 2)],
  ])('counts %s exactly at the limit', (_name, make) => {
    expect(jsonNestsDeeperThan(make(10), 10)).toBe(false);
    expect(jsonNestsDeeperThan(make(12), 10)).toBe(true);
    expect(jsonNestsDeeperThan(Buffer.from(make(12)), 10)).toBe(true);
    expect(jsonNestsDeeperThan(Buffer.from(make(10)), 10)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ a: '[[[[[[[[[[[[[[[[[[[[[[[[', b: 'x\\"[[[[[[[[[[[[[[[[[[[', c: '\\\\', d: '[[[[[[[[[[[[[' });
    expect(jsonNestsDeeperThan(text, 2)).toBe(false);
    expect(jsonNestsDeeperThan(Buffer.from(text), 2)).toBe(false);
    const after = `{"a":"\\\\","b":${nested(5)}}`;
    expect(jsonNestsDeeperThan(after, 4)).toBe(true);
    expect(jsonNestsDeeperThan(Buffer.from(after), 4)).toBe(true);
  });

  it('leaves malformed input to the parser', () => {
    expect(jsonNestsDeeperThan('"' + '['.repeat(100), 3)).toBe(false);
    expect(jsonNestsDeeperThan(']'.repeat(100) + '['.repeat(50), 3)).toBe(false);
    expect(jsonNestsDeeperThan('['.repeat(5) + '"' + ']'.repeat(100), 3)).toBe(true);
  });

  it('agrees with a recursive depth count on UTF-8 input', () => {
    const value = { ü: ['€', { '[': '"]', x: [[['ß']]] }] };
    const text = JSON.stringify(value);
    // object > array > object > x: array > array > array
    expect(jsonNestsDeeperThan(Buffer.from(text), 5)).toBe(true);
    expect(jsonNestsDeeperThan(Buffer.from(text), 6)).toBe(false);
    expect(jsonNestsDeeperThan(text, 5)).toBe(true);
    expect(jsonNestsDeeperThan(text, 6)).toBe(false);
  });
});

describe('parseJsonLimited', () => {
  it('refuses the 10,000-deep value that JSON.stringify cannot handle', () => {
    const result = parseJsonLimited(nested(10_000));
    expect(result).toEqual({ ok: false, kind: 'too-deep', reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` });
  });

  it('accepts the default limit, and the result stringifies', () => {
    const result = parseJsonLimited(nested(MAX_JSON_DEPTH));
    expect(result.ok).toBe(true);
    if (result.ok) expect(JSON.stringify(result.value)).toBe(nested(MAX_JSON_DEPTH));
  });

  it('reports syntax errors and length', () => {
    expect(parseJsonLimited('{')).toMatchObject({ ok: false, kind: 'syntax' });
    expect(parseJsonLimited('[1,2,3]', { maxLength: 3 })).toMatchObject({ ok: false, kind: 'too-long' });
    expect(parseJsonLimited(Buffer.from('{"a":[1]}'))).toEqual({ ok: true, value: { a: [1] } });
  });
});
