import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { silentLogger } from '@talk-signaling/runtime';
import { TestClient, waitFor, writeMmdb } from '@talk-signaling/testing';
import { loadServerConfig } from '../src/config';
import { SignalingServer } from '../src/signaling-server';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(30_000);

const country = (iso: string) => ({ country: { iso_code: iso, names: { en: iso } }, continent: { code: 'XX' } });
const database = (first: string) =>
  writeMmdb([
    { network: '192.0.2.0/24', data: country(first) },
    { network: '198.51.100.0/24', data: country('US') },
    { network: '2001:db8::/32', data: country('JP') },
  ]);

/** Says hello from `ip` (through the trusted-proxy `X-Real-IP` header) and returns the client. */
async function helloFrom(setup: TestSetup, ip: string | undefined, user: string): Promise<TestClient> {
  const client = await TestClient.connect(setup.wsUrl, { headers: ip ? { 'X-Real-IP': ip } : {} });
  expect((await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(user) })).type).toBe('hello');
  return client;
}

async function countryCounts(setup: TestSetup): Promise<Record<string, number>> {
  const metric = await setup.server.registry.getSingleMetric('signaling_client_countries_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels['country']), v.value]));
}

describe('GeoIP from a database file', () => {
  let setup: TestSetup;
  let file: string;

  beforeAll(async () => {
    file = path.join(mkdtempSync(path.join(tmpdir(), 'talk-geoip-')), 'country.mmdb');
    writeFileSync(file, database('DE'));
    setup = await startTestSetup({
      extraConfig: ['[geoip]', `url = file://${file}`, '[geoip-overrides]', '203.0.113.0/24 = fr', '192.0.2.99 = ch'].join('\n'),
    });
  });
  afterAll(() => setup.stop());

  it('gives each client its country: overrides first, then the database; pseudo-countries are not counted', async () => {
    const clients = [
      await helloFrom(setup, '192.0.2.10', 'de-user'),
      await helloFrom(setup, '2001:db8::5', 'jp-user'),
      await helloFrom(setup, '203.0.113.7', 'fr-user'),
      await helloFrom(setup, '192.0.2.99', 'ch-user'),
      await helloFrom(setup, '192.0.2.11', 'de-user2'),
      await helloFrom(setup, undefined, 'loopback-user'),
      await helloFrom(setup, '100.64.0.1', 'unknown-user'),
    ];
    expect(await countryCounts(setup)).toEqual({ DE: 2, JP: 1, FR: 1, CH: 1 });
    const countries = [...setup.server.sessions.all()].map((s) => s.connection?.info.country).sort();
    expect(countries).toEqual(['CH', 'DE', 'DE', 'FR', 'JP', 'loopback', 'unknown-country']);
    for (const c of clients) c.close();
  });

  it('re-reads the file only when it changed', async () => {
    expect(await setup.server.geoip.database!.update()).toBe('unchanged');
    writeFileSync(file, database('AT'));
    const later = new Date(Date.now() + 5_000);
    utimesSync(file, later, later);
    expect(await setup.server.geoip.database!.update()).toBe('loaded');
    const client = await helloFrom(setup, '192.0.2.10', 'at-user');
    expect((await countryCounts(setup))['AT']).toBe(1);
    client.close();
  });

  it('keeps the loaded database when the file turns bad; the self-check says so', async () => {
    const geoipCheck = async () => (await setup.server.selfCheck.run()).checks.find((c) => c.name === 'geoip');
    expect(await geoipCheck()).toMatchObject({ status: 'ok', detail: expect.stringContaining('GeoLite2-Country built') });
    writeFileSync(file, 'not a database');
    const later = new Date(Date.now() + 10_000);
    utimesSync(file, later, later);
    await expect(setup.server.geoip.database!.update()).rejects.toThrow();
    expect(setup.server.geoip.country('192.0.2.10')).toBe('AT');
    expect(await geoipCheck()).toMatchObject({ status: 'warning', detail: expect.stringContaining('last update failed') });
  });
});

describe('GeoIP downloaded over HTTP', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'talk-geoip-dl-'));
  const requests: { url: string; ifModifiedSince: string | undefined }[] = [];
  let failuresLeft = 2;
  let web: http.Server;
  let base: string;

  beforeAll(async () => {
    // What MaxMind serves: a tar.gz with GeoLite2-Country_<date>/GeoLite2-Country.mmdb inside.
    mkdirSync(path.join(dir, 'GeoLite2-Country_20260101'));
    writeFileSync(path.join(dir, 'GeoLite2-Country_20260101', 'COPYRIGHT.txt'), 'test data\n');
    writeFileSync(path.join(dir, 'GeoLite2-Country_20260101', 'GeoLite2-Country.mmdb'), database('NL'));
    execFileSync('tar', ['-czf', path.join(dir, 'db.tar.gz'), '-C', dir, 'GeoLite2-Country_20260101']);
    const files: Record<string, Buffer> = {
      '/db.tar.gz': readFileSync(path.join(dir, 'db.tar.gz')),
      '/db.mmdb': database('BE'),
      '/db.mmdb.gz': gzipSync(database('LU')),
    };
    web = http.createServer((req, res) => {
      requests.push({ url: req.url!, ifModifiedSince: req.headers['if-modified-since'] });
      if (req.url === '/flaky.mmdb' && failuresLeft-- > 0) return res.writeHead(500).end();
      if (req.headers['if-modified-since']) return res.writeHead(304).end();
      const body = req.url === '/flaky.mmdb' ? database('PL') : files[req.url!];
      if (!body) return res.writeHead(404).end();
      res.writeHead(200, { 'Last-Modified': 'Thu, 01 Jan 2026 00:00:00 GMT', 'Content-Length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => web.close(() => resolve())));

  it.each([
    ['a tar.gz archive (as MaxMind ships it)', '/db.tar.gz', 'NL'],
    ['a plain .mmdb', '/db.mmdb', 'BE'],
    ['a gzipped .mmdb', '/db.mmdb.gz', 'LU'],
  ])('loads %s and asks with If-Modified-Since on refresh', async (_what, file, expected) => {
    const setup = await startTestSetup({ extraConfig: ['[geoip]', `url = ${base}${file}`].join('\n') });
    try {
      await waitFor(() => setup.server.geoip.database!.info !== undefined, { timeout: 5_000, name: 'database downloaded' });
      expect(setup.server.geoip.country('192.0.2.1')).toBe(expected);
      expect(await setup.server.geoip.database!.update()).toBe('unchanged');
      expect(requests.filter((r) => r.url === file).map((r) => r.ifModifiedSince)).toEqual([undefined, 'Thu, 01 Jan 2026 00:00:00 GMT']);
    } finally {
      await setup.stop();
    }
  });

  it('retries a failed download with backoff until it succeeds', async () => {
    const setup = await startTestSetup({
      extraConfig: ['[geoip]', `url = ${base}/flaky.mmdb`].join('\n'),
      serverOptions: { geoip: { retry: { initialMs: 20, maxMs: 40 } } },
    });
    try {
      expect(setup.server.geoip.country('192.0.2.1')).toBe('unknown-country');
      await waitFor(() => setup.server.geoip.database!.info !== undefined, { timeout: 5_000, name: 'database downloaded' });
      expect(requests.filter((r) => r.url === '/flaky.mmdb')).toHaveLength(3);
      expect(setup.server.geoip.country('192.0.2.1')).toBe('PL');
      expect(setup.server.geoip.database!.lastError).toBeUndefined();
    } finally {
      await setup.stop();
    }
  });
});

describe('GeoIP start-up', () => {
  it('refuses to start when the database file cannot be read (as upstream)', async () => {
    const text = ['[http]', 'listen = 127.0.0.1:0', '[sessions]', 'hashkey = geoip-start-hashkey-0123456789abcd', '[geoip]', 'url = file:///nonexistent/country.mmdb'];
    const server = new SignalingServer(loadServerConfig(text.join('\n'), {}).config, { log: silentLogger(), registry: new Registry() });
    await expect(server.start()).rejects.toThrow('ENOENT');
    expect(server.http.addresses()).toEqual([]);
    await server.stop();
  });
});
