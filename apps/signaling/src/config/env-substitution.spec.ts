import { substituteEnv, usesEnvSubstitution } from './env-substitution';

describe('substituteEnv', () => {
  it('replaces $(VAR) by its value, an unset variable by its bare name', () => {
    expect(substituteEnv('$(HOST):$(PORT)', { HOST: '0.0.0.0', PORT: '8080' })).toEqual({ value: '0.0.0.0:8080', missing: [] });
    expect(substituteEnv('x$(UNSET)y', {})).toEqual({ value: 'xUNSETy', missing: ['UNSET'] });
    expect(substituteEnv('$(EMPTY)', { EMPTY: '' })).toEqual({ value: '', missing: [] });
  });

  it('only recognises [A-Za-z][A-Za-z0-9_]* inside $( )', () => {
    const env = { A: 'a', A_1: 'b' };
    expect(substituteEnv('$A ${A} $(1A) $(A-B) $(A_1) $()', env).value).toBe('$A ${A} $(1A) $(A-B) b $()');
  });
});

describe('usesEnvSubstitution', () => {
  const backends = new Set(['backend-1']);
  it.each([
    ['http', 'listen'], ['https', 'listen'], ['nats', 'url'], ['mcu', 'url'], ['grpc', 'listen'],
    ['sessions', 'hashkey'], ['sessions', 'blockkey'], ['clients', 'internalsecret'], ['backend', 'secret'],
    ['turn', 'apikey'], ['turn', 'secret'], ['geoip-overrides', '1.2.3.4'], ['continent-overrides', 'af'],
    ['tokens', 'anything'], ['backend-1', 'url'], ['backend-1', 'urls'], ['backend-1', 'secret'],
  ])('applies to [%s] %s', (section, key) => {
    expect(usesEnvSubstitution(section, key, backends)).toBe(true);
  });

  it.each([
    ['http', 'readtimeout'], ['https', 'certificate'], ['backend', 'backends'], ['mcu', 'token_key'],
    ['turn', 'servers'], ['backend-1', 'sessionlimit'], ['other', 'url'], ['stats', 'allowed_ips'],
  ])('does not apply to [%s] %s', (section, key) => {
    expect(usesEnvSubstitution(section, key, backends)).toBe(false);
  });
});
