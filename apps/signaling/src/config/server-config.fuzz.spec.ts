import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { fuzzParameters } from '@talk-signaling/testing';
import { ConfigError, loadServerConfig, parseIni } from './index';

/**
 * Property-based fuzzing of the server.conf loader (issue 10, item 4): INI text built from the
 * real section and key names of upstream's sample (so it reaches every section schema) with
 * hostile values, references, environment substitutions and broken lines. The loader either
 * returns a frozen configuration or throws one `ConfigError` listing the problems; nothing else.
 */
const SAMPLE = readFileSync(path.join(__dirname, 'testdata/upstream-server.conf.in'), 'utf8');
const sample = parseIni(SAMPLE);
const known = [...sample.sections.values()].filter((s) => s.options.size > 0).map((s) => ({ name: s.name, keys: [...s.options.keys()] }));

const value = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  fc.constantFrom('', 'true', 'false', 'yes', '0', '-1', '99999999999999999999', '1.5', 'nats://loopback', 'http://127.0.0.1:1/', ':8080', '[::1]:0', '/tmp/sock', 'janus', 'proxy', 'a, b, c'),
  fc.constantFrom('$(HOME)', '$(UNSET_VARIABLE_FOR_FUZZ)', '$(', '%(key)s', '%(missing)s', '%(self)s', '\\', '"quoted"', '# not a comment', 'value ; comment'),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ minLength: 500, maxLength: 3_000 }),
);

const line = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...known.flatMap((s) => s.keys), 'self', 'key', 'backends', 'secret', 'url'), fc.constantFrom(' = ', '=', ': ', ' '), value).map(([k, sep, v]) => `${k}${sep}${v}`) },
  { weight: 2, arbitrary: fc.constantFrom(...known.map((s) => s.name), 'backend-1', 'nc1', 'geoip-overrides', '', 'unknown section').map((name) => `[${name}]`) },
  fc.string({ maxLength: 40 }),
  fc.constantFrom('; comment', '# comment', 'rem comment', '[', ']', '=', '  indented = x', '\t', '\uFEFF'),
);

describe('server.conf loader under fuzzing', () => {
  it('returns a frozen configuration or throws one ConfigError, for any text', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), fc.constantFrom('\n', '\r\n', '\r'), (lines, eol) => {
        const text = lines.join(eol);
        try {
          const loaded = loadServerConfig(text, { HOME: '/home/fuzz' });
          expect(Object.isFrozen(loaded.config)).toBe(true);
          expect(Array.isArray(loaded.warnings)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          expect((err as ConfigError).issues.length).toBeGreaterThan(0);
        }
      }),
      fuzzParameters(300),
    );
  });

  it('loads the upstream sample with any one option replaced by a hostile value', () => {
    const lines = SAMPLE.split('\n');
    const optionLines = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\s*[a-z_]+\s*=/.test(l)).map(([, i]) => i);
    fc.assert(
      fc.property(fc.constantFrom(...optionLines), value, (index, v) => {
        const copy = [...lines];
        copy[index] = `${copy[index]!.split('=')[0]}= ${v}`;
        try {
          expect(Object.isFrozen(loadServerConfig(copy.join('\n'), {}).config)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
        }
      }),
      fuzzParameters(300),
    );
  });
});
