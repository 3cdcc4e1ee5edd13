import { getIniString, goTrimSpace, parseIni } from './ini-parser';

function value(text: string, section: string, key: string): string | undefined {
  const lookup = getIniString(parseIni(text), section, key);
  return lookup.found ? lookup.value : undefined;
}

describe('parseIni (goconf dialect)', () => {
  it('reads sections and "key = value" with trimming', () => {
    const ini = parseIni('[http]\n  listen   =   127.0.0.1:8080  \n');
    expect(ini.errors).toEqual([]);
    expect(ini.sections.get('http')?.options.get('listen')).toEqual({ value: '127.0.0.1:8080', line: 2 });
  });

  it('accepts "key: value" and splits at the first "=" or ":"', () => {
    expect(value('[a]\nkey: some=thing\n', 'a', 'key')).toBe('some=thing');
    expect(value('[a]\nkey = host:8080\n', 'a', 'key')).toBe('host:8080');
    // An IPv6 key is split at its first colon, as in goconf.
    expect(parseIni('[geoip-overrides]\n2001:db8::/32 = DE\n').sections.get('geoip-overrides')?.options.get('2001')?.value).toBe('db8::/32 = DE');
  });

  it('lower-cases section and key names but keeps value case', () => {
    expect(value('[HTTP]\nListen = ABC\n', 'http', 'listen')).toBe('ABC');
    expect(value('[ Mixed Case ]\nKEY = v\n', 'mixed case', 'key')).toBe('v');
  });

  it('skips full-line "#", ";" and "rem" comments', () => {
    const ini = parseIni('# c1\n; c2\n[a]\n  # indented\nrem windows comment\nREMARK = x\nremote = y\nk = v\n');
    expect([...(ini.sections.get('a')?.options.keys() ?? [])]).toEqual(['k']);
    // "remote = y" looks like an option: goconf drops it, we warn about it.
    expect(ini.warnings.filter((w) => w.includes('starts with "rem"'))).toHaveLength(2);
  });

  it('cuts inline comments only after a blank, like goconf stripComments', () => {
    expect(value('[a]\nsecret = abc # comment\n', 'a', 'secret')).toBe('abc');
    expect(value('[a]\nsecret = abc\t; comment\n', 'a', 'secret')).toBe('abc');
    expect(value('[a]\nsecret = abc#def;ghi\n', 'a', 'secret')).toBe('abc#def;ghi');
    expect(value('[a]\nsecret = a ;b #c\n', 'a', 'secret')).toBe('a');
    expect(value('[a]\nsecret = # only a comment\n', 'a', 'secret')).toBe('');
    expect(value('[a]\nsecret =#x\n', 'a', 'secret')).toBe('#x');
  });

  it('lets the last duplicate win and merges repeated sections (with warnings)', () => {
    const ini = parseIni('[a]\nk = 1\n[b]\nx = 1\n[a]\nk = 2\n');
    expect(ini.sections.get('a')?.options.get('k')).toEqual({ value: '2', line: 6 });
    expect(ini.sections.get('a')?.line).toBe(1);
    expect(ini.warnings.some((w) => w.includes('[a] k (line 6)') && w.includes('line 2'))).toBe(true);
  });

  it('puts options before the first header into the "default" section', () => {
    const ini = parseIni('top = 1\n[DEFAULT]\nmore = 2\n');
    expect([...(ini.sections.get('default')?.options.keys() ?? [])]).toEqual(['top', 'more']);
  });

  it('joins a line without "=" to the previous option of the section (multi-line value)', () => {
    const ini = parseIni('[backend]\nbackends = one,\n# comment between\n  two # note\n');
    expect(ini.errors).toEqual([]);
    expect(getIniString(ini, 'backend', 'backends')).toEqual({ found: true, value: 'one,\ntwo', line: 2 });
    expect(ini.warnings.some((w) => w.includes('continues the value'))).toBe(true);
    // A continuation line containing ":" is an option of its own (goconf splits at ":").
    expect(parseIni('[mcu]\nurl = ws://a\n  ws://b\n').sections.get('mcu')?.options.get('ws')?.value).toBe('//b');
  });

  it('reports every syntax error with its line', () => {
    const ini = parseIni('[a]\njunk\n[]\nk = v\n[b]\nmore junk\n[c] # not a header\n');
    expect(ini.errors).toEqual([
      'line 2: could not parse "junk" (expected "[section]", "key = value" or a comment)',
      'line 3: empty section name "[]"',
      'line 4: option "k = v" follows an empty section name',
      'line 6: could not parse "more junk" (expected "[section]", "key = value" or a comment)',
      'line 7: could not parse "[c] # not a header" (expected "[section]", "key = value" or a comment)',
    ]);
  });

  it('handles CRLF line endings and a leading byte order mark', () => {
    const ini = parseIni('\uFEFF[http]\r\nlisten = :8080\r\n');
    expect(ini.errors).toEqual([]);
    expect(value('\uFEFF[http]\r\nlisten = :8080\r\n', 'http', 'listen')).toBe(':8080');
  });

  it('trims like Go strings.TrimSpace', () => {
    expect(goTrimSpace('\u0085 x \u00a0')).toBe('x');
    expect(goTrimSpace('\uFEFFx')).toBe('\uFEFFx');
  });
});

describe('getIniString (%(name)s unfolding)', () => {
  it('unfolds from the same section, then from default', () => {
    const text = 'host = example.com\n[a]\nport = 443\nurl = https://%(host)s:%(PORT)s/\n';
    expect(value(text, 'a', 'url')).toBe('https://example.com:443/');
  });

  it('does not fall back to the default section for the option itself', () => {
    expect(value('k = 1\n[a]\nx = 2\n', 'a', 'k')).toBeUndefined();
  });

  it('treats a reference to a missing option as a missing option, with a reason', () => {
    const lookup = getIniString(parseIni('[a]\nk = %(nope)s\n'), 'a', 'k');
    expect(lookup).toMatchObject({ found: false, line: 2 });
    expect(lookup.found ? '' : lookup.reason).toContain('%(nope)s');
  });

  it('stops on cycles', () => {
    const lookup = getIniString(parseIni('[a]\nx = %(y)s\ny = %(x)s\n'), 'a', 'x');
    expect(lookup.found).toBe(false);
  });
});
