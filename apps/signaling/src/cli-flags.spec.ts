import { parseCliFlags } from './cli-flags';

describe('parseCliFlags', () => {
  it('defaults to server.conf in the working directory', () => {
    expect(parseCliFlags([])).toEqual({ config: 'server.conf', version: false, check: false });
    expect(parseCliFlags(['-check', '--config', 'x.conf'])).toEqual({ config: 'x.conf', version: false, check: true });
  });

  it.each([[['--config', 'a.conf']], [['-config', 'a.conf']], [['--config=a.conf']]])('reads %j', (argv) => {
    expect(parseCliFlags(argv).config).toBe('a.conf');
  });

  it('reads --version and rejects unknown flags or a missing value', () => {
    expect(parseCliFlags(['--version']).version).toBe(true);
    expect(() => parseCliFlags(['--nope'])).toThrow(/unknown flag/);
    expect(() => parseCliFlags(['--config'])).toThrow(/needs a file/);
  });
});
