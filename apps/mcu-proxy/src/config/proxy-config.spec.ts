import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@talk-signaling/runtime';
import { parseProxyConfig } from './proxy-config';

describe('proxy.conf', () => {
  it('reads the annotated sample with upstream defaults', () => {
    const config = parseProxyConfig(readFileSync(path.join(__dirname, '../../proxy.conf.in'), 'utf8'), {});
    expect(config.http.listen).toEqual(['127.0.0.1:9090']);
    expect(config.app).toMatchObject({ tokentype: 'static', country: '', token_id: '', skipverify: false, trustedproxies: [] });
    expect(config.bandwidth).toEqual({ incoming: 0, outgoing: 0 });
    expect(config.mcu).toEqual({
      type: 'janus',
      url: 'ws://localhost:8188/',
      maxstreambitrate: 1048576,
      maxscreenbitrate: 2097152,
      timeout: 10,
      allowedcandidates: [],
      blockedcandidates: [],
    });
    expect(config.stats.allowed_ips).toEqual([]);
    expect(config.tokens.size).toBe(0);
    expect(config.tokenKeyFormats).toEqual(['/%s']);
  });

  it('resolves $(VAR) in [mcu] url, [http] listen and [tokens], upper-cases the country, reads [backend] skipverify', () => {
    const config = parseProxyConfig(
      [
        '[http]',
        'listen = $(HOST):9090',
        '[app]',
        'country = de',
        '[backend]',
        'skipverify = yes',
        '[bandwidth]',
        'incoming = 100',
        '[mcu]',
        'url = ws://$(JANUS)/',
        'timeout = 0',
        '[tokens]',
        'Server1 = $(KEYS)/s1.pem',
        'keyformat = /a/%s, /b/%s',
      ].join('\n'),
      { HOST: '127.0.0.1', JANUS: 'janus:8188', KEYS: '/etc/keys' },
    );
    expect(config.http.listen).toEqual(['127.0.0.1:9090']);
    expect(config.app.country).toBe('DE');
    expect(config.app.skipverify).toBe(true);
    expect(config.bandwidth.incoming).toBe(100);
    expect(config.mcu.url).toBe('ws://janus:8188/');
    expect(config.mcu.timeout).toBe(10); // ≤ 0 means the default
    expect([...config.tokens]).toEqual([['server1', '/etc/keys/s1.pem']]);
    expect(config.tokenKeyFormats).toEqual(['/a/%s', '/b/%s']);
  });

  it('reads etcd options from [tokens] too (upstream\'s legacy place), not as token ids', () => {
    const config = parseProxyConfig('[app]\ntokentype = etcd\n[mcu]\nurl = ws://j/\n[tokens]\nendpoints = 127.0.0.1:2379\nkeyformat = /k/%s\n', {});
    expect(config.tokensEtcd.endpoints).toEqual(['127.0.0.1:2379']);
    expect(config.etcd.endpoints).toEqual([]);
    expect(config.tokens.size).toBe(0);
    expect(config.tokenKeyFormats).toEqual(['/k/%s']);
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      parseProxyConfig('[app]\ncountry = Germany\ntokentype = ldap\ntoken_id = me\n[mcu]\ntype = mediasoup\n[bandwidth]\nincoming = lots\n', {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    expect(issues).toMatch(/country/);
    expect(issues).toMatch(/token type/);
    expect(issues).toMatch(/MCU type/);
    expect(issues).toMatch(/\[bandwidth\] incoming/);
    expect(issues).toMatch(/\[mcu\] url: required/);
    expect(issues).toMatch(/token_key: required/);
  });
});
