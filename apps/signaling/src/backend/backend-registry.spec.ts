import { BackendRegistry } from './backend-registry';

function section(overrides: Partial<Parameters<typeof makeConfig>[0]> = {}) {
  return makeConfig(overrides);
}

function makeConfig(o: { allowall?: boolean; allowhttp?: boolean; allowed?: string[]; backends?: Record<string, string[]> }) {
  const backends: Record<string, { id: string; urls: string[]; secret: string; sessionlimit: number; maxstreambitrate: number; maxscreenbitrate: number }> = {};
  for (const [id, urls] of Object.entries(o.backends ?? {})) {
    backends[id] = { id, urls, secret: `${id}-secret`, sessionlimit: 0, maxstreambitrate: 0, maxscreenbitrate: 0 };
  }
  return {
    backend: {
      backendtype: 'static' as const, backends: Object.keys(backends), backendprefix: '', allowall: o.allowall ?? false,
      allowhttp: o.allowhttp ?? false, allowed: o.allowed ?? [], secret: 'common', sessionlimit: 0, timeout: 10,
      connectionsperhost: 8, skipverify: false,
    },
    backends,
  };
}

describe('BackendRegistry', () => {
  it('matches configured base URLs by prefix, ignoring an explicit default port', () => {
    const reg = new BackendRegistry(section({ backends: { one: ['https://cloud.example.com/nc/'], two: ['https://other.example.com:8443'] } }));
    expect(reg.lookup('https://cloud.example.com/nc/ocs/v2.php/apps/spreed/api/v3/signaling/backend')?.id).toBe('one');
    expect(reg.lookup('https://cloud.example.com:443/nc/ocs/v2.php')?.id).toBe('one');
    expect(reg.lookup('https://cloud.example.com/nc')?.id).toBe('one');
    expect(reg.lookup('https://cloud.example.com/other/')).toBeUndefined();
    expect(reg.lookup('https://other.example.com:8443/x')?.id).toBe('two');
    expect(reg.lookup('https://other.example.com/x')).toBeUndefined();
    expect(reg.size).toBe(2);
  });

  it('serves several URLs per backend (urls = a, b)', () => {
    const reg = new BackendRegistry(section({ backends: { one: ['https://a.example.com/nc/', 'https://b.example.com/'] } }));
    expect(reg.lookup('https://a.example.com/nc/ocs/v2.php/apps/spreed/api/v3/signaling/backend')?.id).toBe('one');
    expect(reg.lookup('https://b.example.com/ocs/v2.php/apps/spreed/api/v3/signaling/backend')?.id).toBe('one');
    expect(reg.size).toBe(1);
  });

  it('accepts http only for backends configured with http', () => {
    const reg = new BackendRegistry(section({ backends: { plain: ['http://127.0.0.1:8081/'], tls: ['https://secure.example.com/'] } }));
    expect(reg.lookup('http://127.0.0.1:8081/ocs/v2.php')?.id).toBe('plain');
    expect(reg.lookup('http://secure.example.com/')).toBeUndefined();
    expect(reg.lookup('ftp://secure.example.com/')).toBeUndefined();
    expect(reg.lookup('not a url')).toBeUndefined();
  });

  it('maps any host to the compat backend with allowall, https unless allowhttp', () => {
    const reg = new BackendRegistry(section({ allowall: true }));
    expect(reg.lookup('https://anything.example/')?.id).toBe('compat');
    expect(reg.lookup('http://anything.example/')).toBeUndefined();
    const http = new BackendRegistry(section({ allowall: true, allowhttp: true }));
    expect(http.lookup('http://anything.example/')?.secret).toBe('common');
  });

  it('ignores backend sections when allowall is set, and the allowed list when sections exist', () => {
    const all = new BackendRegistry(section({ allowall: true, backends: { one: ['https://cloud.example.com/'] } }));
    expect(all.lookup('https://cloud.example.com/')?.id).toBe('compat');
    expect(all.size).toBe(1);
    const both = new BackendRegistry(section({ allowed: ['other.example.com'], backends: { one: ['https://cloud.example.com/'] } }));
    expect(both.lookup('https://other.example.com/')).toBeUndefined();
    expect(both.lookup('https://cloud.example.com/')?.id).toBe('one');
  });

  it('supports the deprecated allowed host list', () => {
    const reg = new BackendRegistry(section({ allowed: ['cloud.example.com/ignored', 'b.example.com:8080'] }));
    expect(reg.lookup('https://cloud.example.com/any/path')?.id).toBe('compat');
    expect(reg.lookup('https://b.example.com:8080/')?.id).toBe('compat');
    expect(reg.lookup('https://c.example.com/')).toBeUndefined();
  });

  it('reloads the backend sections (SIGHUP), not the compat forms', () => {
    const reg = new BackendRegistry(section({ backends: { one: ['https://a.example.com/'] } }));
    const result = reg.reload(section({ backends: { two: ['https://b.example.com/'] } }));
    expect(result).toEqual({ added: ['two'], removed: ['one'] });
    expect(reg.lookup('https://a.example.com/')).toBeUndefined();
    expect(reg.lookup('https://b.example.com/x')?.id).toBe('two');
    const all = new BackendRegistry(section({ allowall: true }));
    expect(all.reload(section({ backends: { two: ['https://b.example.com/'] } }))).toEqual({ added: [], removed: [] });
    expect(all.lookup('https://anything.example/')?.id).toBe('compat');
  });
});
