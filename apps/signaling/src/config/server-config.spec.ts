import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  DEFAULT_BACKEND_CONNECTIONS_PER_HOST,
  DEFAULT_BACKEND_TIMEOUT_SECONDS,
  DEFAULT_FEDERATION_TIMEOUT_SECONDS,
  DEFAULT_HTTP_READ_TIMEOUT_SECONDS,
  DEFAULT_HTTP_WRITE_TIMEOUT_SECONDS,
  DEFAULT_MCU_MAX_SCREEN_BITRATE,
  DEFAULT_MCU_MAX_STREAM_BITRATE,
  DEFAULT_MCU_PROXY_TIMEOUT_SECONDS,
  DEFAULT_MCU_TIMEOUT_SECONDS,
  DEFAULT_NATS_URL,
  loadServerConfig,
  normalizeBackendUrl,
  placeholderSecretProblems,
  readServerConfigFile,
  type LoadedServerConfig,
} from './index';

const APP_DIR = join(__dirname, '..', '..');
const KEYS = '[sessions]\nhashkey = 0123456789abcdef0123456789abcdef\nblockkey = 0123456789abcdef\n';
const BASE = `${KEYS}[clients]\ninternalsecret = s\n[backend]\nallowall = true\nsecret = common\n`;

function load(text: string, env: NodeJS.ProcessEnv = {}): LoadedServerConfig {
  return loadServerConfig(text, env);
}

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadServerConfig(text, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('sample configurations', () => {
  it("loads upstream's v1.3.0 server.conf.in without errors", () => {
    const { config, warnings } = readServerConfigFile(join(__dirname, 'testdata', 'upstream-server.conf.in'), {});
    expect(warnings.filter((w) => w.includes('unknown'))).toEqual([]);
    expect(config.https.certificate).toBe('/etc/nginx/ssl/server.crt');
    expect(config.sessions.hashkey).toBe('the-secret-for-session-checksums');
    expect(config.backend.timeout).toBe(10);
    expect(placeholderSecretProblems(config)).toHaveLength(3);
  });

  it('loads our server.conf.in cleanly, and flags its placeholders', () => {
    const { config, warnings } = readServerConfigFile(join(APP_DIR, 'server.conf.in'), {});
    expect(warnings).toEqual([]);
    expect(config.backends['backend-1']?.urls).toEqual(['https://cloud.example.invalid/']);
    const problems = placeholderSecretProblems(config);
    expect(problems.map((p) => p.split(' still')[0])).toEqual([
      '[sessions] hashkey', '[sessions] blockkey', '[clients] internalsecret', '[backend-1] secret',
    ]);
  });

  it('loads the development config with no placeholders', () => {
    const { config, warnings } = readServerConfigFile(join(APP_DIR, 'dev', 'server.conf'), {});
    expect(warnings).toEqual([]);
    expect(placeholderSecretProblems(config)).toEqual([]);
    expect(config.http.listen).toEqual(['127.0.0.1:8080']);
    expect(config.nats.url).toEqual(['nats://loopback']);
    expect(config.mcu.type).toBe('');
    expect(config.clients.internalsecret).toBe('dev-internal-secret');
    expect(config.backends).toEqual({ dev: { id: 'dev', urls: ['http://127.0.0.1:8081/'], secret: 'dev-backend-secret', sessionlimit: 0, maxstreambitrate: 0, maxscreenbitrate: 0 } });
    expect(config.stats.allowed_ips).toEqual(['127.0.0.1']);
  });
});

describe('defaults (fact sheet 7.1)', () => {
  it('fills every section from an empty file', () => {
    const { config } = load('');
    expect(config.http).toEqual({ listen: [], readtimeout: 15, writetimeout: 30 });
    expect(config.https).toEqual({ listen: [], readtimeout: 15, writetimeout: 30, certificate: '', key: '' });
    expect(config.app).toEqual({ debug: false, allowsubscribeany: false, trustedproxies: [] });
    expect(config.backend).toEqual({
      backendtype: 'static', backends: [], backendprefix: '', allowall: false, allowhttp: false, allowed: [],
      secret: '', sessionlimit: 0, timeout: 10, connectionsperhost: 8, skipverify: false,
    });
    expect(config.nats.url).toEqual(['nats://127.0.0.1:4222']);
    expect(config.mcu).toEqual({
      type: '', url: [], maxstreambitrate: 1048576, maxscreenbitrate: 2097152, timeout: 10, proxytimeout: 2,
      urltype: 'static', skipverify: false, token_id: '', token_key: '', dnsdiscovery: false, keyprefix: '',
    });
    expect(config.turn).toEqual({ apikey: '', secret: '', servers: [] });
    expect(config.stats.allowed_ips).toEqual([]);
    expect(config.grpc.targettype).toBe('static');
    expect(config.federation).toEqual({ skipverify: false, timeout: 10, allowedhosts: [] });
    expect(config.geoipOverrides).toEqual({});
    expect(config.continentOverrides).toEqual({});
  });

  it('exports the defaults as named constants', () => {
    expect([DEFAULT_HTTP_READ_TIMEOUT_SECONDS, DEFAULT_HTTP_WRITE_TIMEOUT_SECONDS, DEFAULT_BACKEND_TIMEOUT_SECONDS,
      DEFAULT_BACKEND_CONNECTIONS_PER_HOST, DEFAULT_MCU_TIMEOUT_SECONDS, DEFAULT_MCU_PROXY_TIMEOUT_SECONDS,
      DEFAULT_MCU_MAX_STREAM_BITRATE, DEFAULT_MCU_MAX_SCREEN_BITRATE, DEFAULT_FEDERATION_TIMEOUT_SECONDS, DEFAULT_NATS_URL])
      .toEqual([15, 30, 10, 8, 10, 2, 1048576, 2097152, 10, 'nats://127.0.0.1:4222']);
  });

  it('uses the default for non-positive timeouts and clamps negative limits to 0, as upstream', () => {
    const { config } = load(`${BASE}[http]\nreadtimeout = 0\nwritetimeout = -5\n[backend]\nsessionlimit = -3\n[mcu]\nmaxstreambitrate = 0\n`);
    expect(config.http.readtimeout).toBe(15);
    expect(config.http.writetimeout).toBe(30);
    expect(config.backend.sessionlimit).toBe(0);
    expect(config.mcu.maxstreambitrate).toBe(1048576);
  });
});

describe('value parsing', () => {
  it('parses goconf booleans case-insensitively', () => {
    for (const [raw, expected] of [['TRUE', true], ['yes', true], ['On', true], ['1', true], ['t', true], ['y', true], ['off', false], ['N', false], ['0', false], ['', false]] as const) {
      expect(load(`${BASE}[app]\ndebug = ${raw}\n`).config.app.debug).toBe(expected);
    }
  });

  it('splits lists the way upstream splits each key', () => {
    const { config } = load(`${BASE}[http]\nlisten = 127.0.0.1:8080   /run/signaling.sock\n[nats]\nurl = nats://a:4222, nats://b:4222\n[turn]\napikey = k\nsecret = s\nservers = turn:a?transport=udp , ,turn:b\n[grpc]\ntargets = 10.0.0.1:9090, 10.0.0.2:9090\n[etcd]\nendpoints = 127.0.0.1:2379,127.0.0.1:22379\n[app]\ntrustedproxies = 10.0.0.0/8, ::1\n`);
    expect(config.http.listen).toEqual(['127.0.0.1:8080', '/run/signaling.sock']);
    expect(config.nats.url).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(config.turn.servers).toEqual(['turn:a?transport=udp', 'turn:b']);
    expect(config.grpc.targets).toEqual(['10.0.0.1:9090', '10.0.0.2:9090']);
    expect(config.etcd.endpoints).toEqual(['127.0.0.1:2379', '127.0.0.1:22379']);
    expect(config.app.trustedproxies).toEqual(['10.0.0.0/8', '::1']);
  });

  it('maps geoip url "default"/"none" to empty', () => {
    expect(load(`${BASE}[geoip]\nurl = none\n`).config.geoip.url).toBe('');
    expect(load(`${BASE}[geoip]\nurl = file:///var/geoip.mmdb\n`).config.geoip.url).toBe('file:///var/geoip.mmdb');
  });

  it('reads geoip and continent overrides', () => {
    const { config, warnings } = load(`${BASE}[geoip-overrides]\n10.0.0.0/8 = de\n127.0.0.1 = $(CC)\n192.168.1.1 =\n[continent-overrides]\naf = eu\nsa = NA, XX\nzz = EU\n`, { CC: 'fr' });
    expect(config.geoipOverrides).toEqual({ '10.0.0.0/8': 'DE', '127.0.0.1': 'FR' });
    expect(config.continentOverrides).toEqual({ AF: ['EU'], SA: ['NA'] });
    expect(warnings.some((w) => w.includes('192.168.1.1') && w.includes('no country'))).toBe(true);
    expect(warnings.some((w) => w.includes('"XX"'))).toBe(true);
    expect(warnings.some((w) => w.includes('"ZZ"'))).toBe(true);
  });

  it('honours the deprecated :loopback: NATS url', () => {
    const { config, warnings } = load(`${BASE}[nats]\nurl = :loopback:\n`);
    expect(config.nats.url).toEqual(['nats://loopback']);
    expect(warnings.some((w) => w.includes('deprecated'))).toBe(true);
  });

  it('falls back to deprecated etcd options in [mcu]', () => {
    const { config, warnings } = load(`${BASE}[mcu]\nendpoints = 127.0.0.1:2379\n`);
    expect(config.etcd.endpoints).toEqual(['127.0.0.1:2379']);
    expect(warnings.some((w) => w.includes('[mcu] endpoints') && w.includes('deprecated'))).toBe(true);
  });
});

describe('environment substitution', () => {
  const env = { LISTEN: '0.0.0.0:9000', SECRET: 'from-env', HASH: '0123456789abcdef0123456789abcdef', URL: 'https://nc.example.com' };

  it('resolves $(VAR) exactly where upstream does', () => {
    const { config } = load(`[sessions]\nhashkey = $(HASH)\n[http]\nlisten = $(LISTEN)\n[clients]\ninternalsecret = $(SECRET)\n[backend]\nbackends = one\nsecret = $(SECRET)\n[one]\nurl = $(URL)\n[grpc]\nlisten = $(LISTEN)\n[https]\ncertificate = $(SECRET)\n[app]\ntrustedproxies =\n[mcu]\ntoken_id = $(SECRET)\n`, env);
    expect(config.sessions.hashkey).toBe(env.HASH);
    expect(config.http.listen).toEqual(['0.0.0.0:9000']);
    expect(config.grpc.listen).toBe('0.0.0.0:9000');
    expect(config.clients.internalsecret).toBe('from-env');
    expect(config.backends.one).toMatchObject({ urls: ['https://nc.example.com/'], secret: 'from-env' });
    // Not substituted upstream: stays literal.
    expect(config.https.certificate).toBe('$(SECRET)');
    expect(config.mcu.token_id).toBe('$(SECRET)');
  });

  it('replaces an unset variable by its name and warns', () => {
    const { config, warnings } = load(`${BASE}[nats]\nurl = nats://$(NATS_HOST):4222\n`);
    expect(config.nats.url).toEqual(['nats://NATS_HOST:4222']);
    expect(warnings.some((w) => w.startsWith('[nats] url (line') && w.includes('NATS_HOST'))).toBe(true);
  });
});

describe('backends', () => {
  it('normalises URLs: "/" appended, explicit default ports stripped', () => {
    expect(normalizeBackendUrl('https://cloud.example.com:443')).toEqual({ ok: true, url: 'https://cloud.example.com/' });
    expect(normalizeBackendUrl('http://cloud.example.com:80/nc')).toEqual({ ok: true, url: 'http://cloud.example.com/nc/' });
    expect(normalizeBackendUrl('https://cloud.example.com:8443/nc/')).toEqual({ ok: true, url: 'https://cloud.example.com:8443/nc/' });
    expect(normalizeBackendUrl('http://[::1]:80/')).toEqual({ ok: true, url: 'http://[::1]/' });
    expect(normalizeBackendUrl('ftp://x/')).toMatchObject({ ok: false });
    expect(normalizeBackendUrl('not a url')).toMatchObject({ ok: false });
  });

  it('builds entries with urls, legacy url, secret fallback and skips incomplete ones', () => {
    const { config, warnings } = load(`${KEYS}[clients]\ninternalsecret = s\n[backend]\nbackends = One, two, two, three, four, five\nsecret = common\n[one]\nurls = https://b.example.com, https://a.example.com:443/nc, https://b.example.com\nsecret = own\nsessionlimit = 5\nmaxstreambitrate = 100\n[two]\nurl = http://two.example.com\n[three]\nsecret = x\n[five]\nurl = https://a.example.com/nc\n`);
    expect(config.backend.backends).toEqual(['One', 'two', 'three', 'four', 'five']);
    expect(Object.keys(config.backends)).toEqual(['One', 'two']);
    expect(config.backends.One).toEqual({ id: 'One', urls: ['https://a.example.com/nc/', 'https://b.example.com/'], secret: 'own', sessionlimit: 5, maxstreambitrate: 100, maxscreenbitrate: 0 });
    expect(config.backends.two).toMatchObject({ urls: ['http://two.example.com/'], secret: 'common' });
    expect(warnings.some((w) => w.includes('"three" has no url'))).toBe(true);
    expect(warnings.some((w) => w.includes('"four" has no section [four]'))).toBe(true);
    expect(warnings.some((w) => w.includes('already used by backend "One"'))).toBe(true);
  });

  it('skips a backend without any secret', () => {
    const { config, warnings } = load(`${KEYS}[backend]\nbackends = one\n[one]\nurl = https://x.example.com\n`);
    expect(config.backends).toEqual({});
    expect(warnings.some((w) => w.includes('no secret'))).toBe(true);
  });

  it('normalises the deprecated allowed host list', () => {
    const { config } = load(`${KEYS}[backend]\nallowed = Cloud.Example.com/nextcloud, other.example.com\nsecret = x\n`);
    expect(config.backend.allowed).toEqual(['cloud.example.com', 'other.example.com']);
  });
});

describe('problems', () => {
  it('reports every error at once, naming section, key and line', () => {
    const issues = issuesOf(`[http]\nreadtimeout = ten\n[app]\ndebug = maybe\ntrustedproxies = 10.0.0.0/33\n[sessions]\nblockkey = short\n[backend]\nbackendtype = consul\n[mcu]\ntype = Janus\n[grpc]\ntargettype = dns\n[geoip-overrides]\nnot-an-ip = DE\n[etcd]\nloglevel = loud\n`);
    expect(issues).toEqual([
      '[http] readtimeout (line 2): "ten" is not an integer',
      '[app] debug (line 4): "maybe" is not a boolean (use true/false, yes/no, on/off, 1/0)',
      '[app] trustedproxies (line 5): "10.0.0.0/33" is not an IP address or CIDR network',
      '[sessions] blockkey (line 7): must be 16, 24 or 32 bytes (or empty) but is 5 bytes',
      '[backend] backendtype (line 9): unknown backend type "consul" (expected "static" or "etcd")',
      '[mcu] type (line 11): unknown MCU type "Janus" (expected "janus" or "proxy")',
      '[etcd] loglevel (line 17): unsupported etcd log level "loud" (expected one of debug, info, warn, error, dpanic, panic, fatal)',
      '[grpc] targettype (line 13): unknown gRPC target type "dns" (expected "static" or "etcd")',
      '[geoip-overrides] not-an-ip (line 15): "not-an-ip" is not an IP address or CIDR network',
    ]);
  });

  it('includes INI syntax errors with the other problems', () => {
    const issues = issuesOf('[http]\nbroken line\n[mcu]\ntimeout = x\n');
    expect(issues).toEqual(['line 2: could not parse "broken line" (expected "[section]", "key = value" or a comment)', '[mcu] timeout (line 4): "x" is not an integer']);
  });

  it('applies the cross-section rules', () => {
    const issues = issuesOf(`${KEYS}[https]\nlisten = :8443\n[backend]\nbackendtype = etcd\n[mcu]\ntype = proxy\nurltype = etcd\n[turn]\nservers = turn:x\n[grpc]\ntargettype = etcd\n[nats]\nurl = nats://loopback, nats://a\n`);
    expect(issues).toEqual([
      '[https] certificate: required because [https] listen is set (line 5)',
      '[https] key: required because [https] listen is set (line 5)',
      '[backend] backendprefix: required for backendtype = etcd',
      '[etcd] endpoints: required (or discoverysrv) for [backend] backendtype = etcd',
      '[nats] url (line 16): "nats://loopback" cannot be combined with other URLs',
      '[mcu] token_id: required for type = proxy',
      '[mcu] token_key: required for type = proxy',
      '[etcd] endpoints: required (or discoverysrv) for [mcu] urltype = etcd',
      '[turn] apikey: required because [turn] servers is set (line 12)',
      '[turn] secret: required because [turn] servers is set (line 12)',
      '[grpc] targetprefix: required for targettype = etcd',
      '[etcd] endpoints: required (or discoverysrv) for [grpc] targettype = etcd',
    ]);
  });

  it('requires proxy URLs for a static proxy MCU and one URL for janus', () => {
    expect(issuesOf(`${BASE}[mcu]\ntype = proxy\ntoken_id = a\ntoken_key = k.pem\n`)).toEqual(['[mcu] url: at least one proxy URL is required for type = proxy with urltype = static']);
    expect(issuesOf(`${BASE}[mcu]\ntype = janus\nurl = ws://a ws://b\n`)).toEqual(['[mcu] url (line 11): type "janus" takes exactly one URL, got 2']);
  });

  it('handles old-style MCU configurations like upstream', () => {
    const withUrl = load(`${BASE}[mcu]\nurl = ws://127.0.0.1:8188/\n`);
    expect(withUrl.config.mcu.type).toBe('janus');
    expect(withUrl.warnings.some((w) => w.includes('old-style'))).toBe(true);
    expect(load(`${BASE}[mcu]\ntype = janus\n`).config.mcu.type).toBe('');
  });

  it('warns about a hash key of unusual length and a missing internal secret', () => {
    const { warnings } = load('[sessions]\nhashkey = short\n[backend]\nallowall = true\n');
    expect(warnings).toContain('[sessions] hashkey (line 2): should be 32 or 64 bytes but is 5 bytes');
    expect(warnings.some((w) => w.startsWith('[clients] internalsecret'))).toBe(true);
  });

  it('warns about unknown sections and keys, and unsupported newer upstream keys', () => {
    const { warnings } = load(`${BASE}[http]\nlisten = :80\nlistne = :81\n[whatever]\nx = 1\n[mcu]\nallowedcandidates = 10.0.0.0/8\n`);
    expect(warnings).toEqual(expect.arrayContaining([
      '[http] listne (line 11): unknown option, ignored',
      '[whatever] (line 12): unknown section, ignored',
      '[mcu] allowedcandidates (line 15): option of newer upstream versions, not supported by talk-signaling; ignored',
    ]));
  });

  it('throws ConfigError for an unreadable file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signaling-config-'));
    try {
      expect(() => readServerConfigFile(join(dir, 'missing.conf'), {})).toThrow(ConfigError);
      const path = join(dir, 'bad.conf');
      writeFileSync(path, '[http]\nreadtimeout = x\n');
      expect(() => readServerConfigFile(path, {})).toThrow(`${path}: [http] readtimeout (line 2): "x" is not an integer`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('result', () => {
  it('is deeply frozen', () => {
    const { config } = load(`${BASE}[http]\nlisten = :80\n[backend]\nallowall = false\nbackends = a\n[a]\nurl = https://a.example.com\n`);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http.listen)).toBe(true);
    expect(Object.isFrozen(config.backends.a?.urls)).toBe(true);
    expect(() => (config.http.listen as string[]).push('x')).toThrow(TypeError);
  });

  it('placeholderSecretProblems lists each placeholder once', () => {
    const { config } = load(`[sessions]\nhashkey = the-secret-for-session-checksums\n[backend]\nbackends = a, b\nsecret = the-shared-secret-for-allowall\n[a]\nurl = https://a.example.com\n[b]\nurl = https://b.example.com\nsecret = change-me-b\n[turn]\napikey = the-api-key-for-the-rest-service\nsecret = good\n`);
    expect(placeholderSecretProblems(config).map((p) => p.split(' still')[0])).toEqual([
      '[sessions] hashkey', '[backend] secret', '[turn] apikey', '[b] secret',
    ]);
  });
});
