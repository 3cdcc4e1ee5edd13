import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { calculateChecksum, HEADER_CHECKSUM, HEADER_FEATURES, HEADER_RANDOM } from '@talk-signaling/protocol';
import { silentLogger } from '@talk-signaling/runtime';
import { makeTestCertificate } from '@talk-signaling/testing';
import type { Backend } from './backend';
import { BackendClient, BackendRequestError } from './backend-client';

const SECRET = 'backend-client-secret';
const backend = { id: 'nc', urls: [], secret: SECRET } as unknown as Backend;
const ocs = (data: unknown) => JSON.stringify({ ocs: { meta: { status: 'ok', statuscode: 200, message: 'OK' }, data } });

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

/** A stand-in Nextcloud on 127.0.0.1 that counts the connections and requests it sees. */
async function startServer(handler: Handler) {
  const sockets = new Set<unknown>();
  let active = 0;
  const stats = { connections: 0, maxActive: 0 };
  const server = http.createServer((req, res) => {
    active++;
    stats.maxActive = Math.max(stats.maxActive, active);
    res.on('close', () => active--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    stats.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    stats,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function client(options: { timeoutMs?: number; connectionsPerHost?: number; registry?: Registry } = {}) {
  return new BackendClient({
    timeoutMs: options.timeoutMs ?? 5_000,
    connectionsPerHost: options.connectionsPerHost ?? 8,
    skipVerify: false,
    userAgent: 'test-agent',
    features: () => ['one', 'two'],
    log: silentLogger(),
    registry: options.registry ?? new Registry(),
  });
}

/** `signaling_http_client_pool_connections` by host, as a scrape sees it. */
async function poolGauge(registry: Registry): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'signaling_http_client_pool_connections');
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels['host']), v.value]));
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BackendRequestError) return err.reason;
    throw err;
  }
  throw new Error('request did not fail');
}

describe('BackendClient (HTTP client for Nextcloud requests)', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it('POSTs the body with a valid checksum and the OCS headers and returns the OCS data', async () => {
    let seen: { headers: http.IncomingHttpHeaders; body: string; method?: string } | undefined;
    const srv = await startServer((req, body, res) => {
      seen = { headers: req.headers, body, method: req.method };
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(ocs({ ok: 1 }));
    });
    const c = client();
    cleanup.push(srv.close, () => c.close());
    expect(await c.postJson(`${srv.url}/ocs/v2.php/apps/spreed/api/v1/signaling/backend?x=1`, backend, { type: 'auth' })).toEqual({ ok: 1 });
    expect(seen!.method).toBe('POST');
    expect(seen!.body).toBe('{"type":"auth"}');
    const h = seen!.headers;
    expect(h[HEADER_CHECKSUM.toLowerCase()]).toBe(calculateChecksum(String(h[HEADER_RANDOM.toLowerCase()]), seen!.body, SECRET));
    expect(h[HEADER_FEATURES.toLowerCase()]).toBe('one, two');
    expect(h['ocs-apirequest']).toBe('true');
    expect(h['user-agent']).toBe('test-agent');
    expect(h['content-type']).toBe('application/json');
  });

  it('follows a redirect on the same origin, refuses one to another host', async () => {
    const other = await startServer((_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(ocs('stranger')));
    const srv = await startServer((req, _body, res) => {
      if (req.url === '/old') res.writeHead(307, { location: '/new' }).end();
      else if (req.url === '/away') res.writeHead(302, { location: `${other.url}/x` }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(ocs(req.url));
    });
    const c = client();
    cleanup.push(other.close, srv.close, () => c.close());
    expect(await c.postJson(`${srv.url}/old`, backend, {})).toBe('/new');
    expect(await reason(c.postJson(`${srv.url}/away`, backend, {}))).toBe('redirect');
  });

  it('rejects a wrong content type, an undecodable body and an oversized answer; the pool keeps working', async () => {
    const srv = await startServer((req, _body, res) => {
      if (req.url === '/html') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
      else if (req.url === '/broken') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ocs":');
      else if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 32);
        for (let i = 0; i < 17; i++) res.write(chunk);
        res.end();
      } else res.writeHead(200, { 'content-type': 'application/json' }).end(ocs('fine'));
    });
    const c = client({ connectionsPerHost: 1 });
    cleanup.push(srv.close, () => c.close());
    expect(await reason(c.postJson(`${srv.url}/html`, backend, {}))).toBe('content_type');
    expect(await reason(c.postJson(`${srv.url}/broken`, backend, {}))).toBe('json');
    expect(await reason(c.postJson(`${srv.url}/huge`, backend, {}))).toBe('http');
    expect(await c.postJson(`${srv.url}/ok`, backend, {})).toBe('fine');
  });

  it('gives up on a Nextcloud that does not answer (timeout) and on one that is not there (network)', async () => {
    const srv = await startServer(() => undefined); // never answers
    const c = client({ timeoutMs: 300 });
    cleanup.push(srv.close, () => c.close());
    expect(await reason(c.postJson(`${srv.url}/slow`, backend, {}))).toBe('timeout');
    const gone = await startServer(() => undefined);
    await gone.close();
    expect(await reason(c.postJson(`${gone.url}/`, backend, {}))).toBe('network');
  });

  it('uses at most connectionsperhost connections per host and queues the rest', async () => {
    const srv = await startServer((_req, _body, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(ocs('done')), 20));
    const registry = new Registry();
    const c = client({ connectionsPerHost: 3, registry });
    cleanup.push(srv.close, () => c.close());
    const host = new URL(srv.url).host;
    const pending = Promise.all(Array.from({ length: 20 }, () => c.postJson(`${srv.url}/`, backend, {})));
    expect(await poolGauge(registry)).toEqual({ [host]: 20 }); // requests in flight, queued ones included
    const answers = await pending;
    expect(await poolGauge(registry)).toEqual({ [host]: 0 });
    expect(answers).toEqual(Array(20).fill('done'));
    expect(srv.stats.maxActive).toBeLessThanOrEqual(3);
    expect(srv.stats.connections).toBeLessThanOrEqual(3);
  });

  it('checks the certificate of an https Nextcloud unless skipverify is set', async () => {
    const { cert, key } = makeTestCertificate();
    const server = https.createServer({ cert, key }, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(ocs('tls')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const strict = client();
    const lax = new BackendClient({ timeoutMs: 5_000, connectionsPerHost: 2, skipVerify: true, userAgent: 'x', features: () => [], log: silentLogger(), registry: new Registry() });
    cleanup.push(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }), () => strict.close(), () => lax.close());
    expect(await reason(strict.postJson(url, backend, {}))).toBe('network');
    expect(await lax.postJson(url, backend, {})).toBe('tls');
  });
});
