import { connect, type NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import type { Logger } from '@talk-signaling/runtime';
import { startNatsServer, waitFor, waitForEvent, type ManagedProcess } from '@talk-signaling/testing';
import { createBusMetrics, type BusMetrics } from './metrics';
import { NatsBus, type NatsBusOptions } from './nats-bus';

const WAIT = { timeout: 15_000 };
jest.setTimeout(30_000);

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A Logger that keeps every line, so tests can check what an operator would read. */
function captureLogger(lines: Line[]): Logger {
  const at =
    (level: string) =>
    (a: object | string, msg?: string): void => {
      if (typeof a === 'string') lines.push({ level, obj: {}, msg: a });
      else lines.push({ level, obj: a as Record<string, unknown>, msg });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
    isLevelEnabled: () => true,
    flush: () => undefined,
  };
  return logger;
}

async function value(metrics: BusMetrics, name: keyof BusMetrics, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics[name] as { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> };
  const values = (await metric.get()).values;
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}

function am(n: number, extra: Record<string, unknown> = {}): object {
  return { type: 'message', sendtime: new Date().toISOString(), message: { type: 'event', n, ...extra } };
}

function num(m: object): number {
  return (m as { message: { n: number } }).message.n;
}

describe('NatsBus with a real nats-server', () => {
  let nats: ManagedProcess;
  const buses: NatsBus[] = [];
  const raws: NatsConnection[] = [];
  const bus = (opts: Partial<NatsBusOptions> & { lines?: Line[] } = {}): NatsBus => {
    const b = new NatsBus({
      servers: [nats.url],
      log: captureLogger(opts.lines ?? []),
      reconnectWaitMs: 100,
      connectBackoff: { initialMs: 50, maxMs: 400 },
      ...opts,
    });
    buses.push(b);
    return b;
  };

  beforeEach(async () => {
    nats = await startNatsServer();
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
    await Promise.all(raws.splice(0).map((r) => r.close()));
    await nats.stop();
  });

  it('retries the first connection until a server is there, logging each failure', async () => {
    nats.kill();
    await waitFor(async () => (await fetch(`http://127.0.0.1:${nats.port}`).then(() => false).catch(() => true)), { ...WAIT, name: 'nats-server down' });
    const lines: Line[] = [];
    const metrics = createBusMetrics(new Registry());
    const b = bus({ lines, metrics });
    const started = b.start();
    await waitFor(async () => (await value(metrics, 'connectFailures')) >= 2, { ...WAIT, name: 'two failed attempts' });
    expect(b.connected).toBe(false);
    expect(lines.some((l) => l.level === 'warn' && l.msg === 'could not connect to NATS, will retry')).toBe(true);
    await nats.restart();
    await started;
    expect(b.connected).toBe(true);
    expect(await value(metrics, 'connected')).toBe(1);
    expect(lines.some((l) => l.msg === 'connected to NATS')).toBe(true);
  });

  it('takes a URL list and connects to a server that answers', async () => {
    const b = bus({ servers: ['nats://127.0.0.1:1', nats.url] });
    await b.start();
    expect(b.info()).toMatchObject({ urls: ['nats://127.0.0.1:1', nats.url], connected: true });
  });

  it('survives nats-server being killed and restarted: local delivery goes on, remote resumes, nothing twice', async () => {
    const linesA: Line[] = [];
    const metricsA = createBusMetrics(new Registry());
    const a = bus({ lines: linesA, metrics: metricsA });
    const b = bus();
    await Promise.all([a.start(), b.start()]);
    const onA: number[] = [];
    const onB: number[] = [];
    a.subscribe('room.r', (m) => onA.push(num(m)));
    b.subscribe('room.r', (m) => onB.push(num(m)));
    await Promise.all([a.flush(), b.flush()]);
    a.publish('room.r', am(1));
    await waitFor(() => onB.length === 1, { ...WAIT, name: 'first delivery' });

    const disconnected = Promise.all([waitForEvent(a, 'disconnect', WAIT), waitForEvent(b, 'disconnect', WAIT)]);
    nats.kill();
    await disconnected;
    expect(await value(metricsA, 'connected')).toBe(0);
    expect(await value(metricsA, 'disconnects')).toBe(1);
    expect(linesA.some((l) => l.level === 'warn' && String(l.msg).startsWith('lost the NATS connection'))).toBe(true);
    a.publish('room.r', am(2)); // during the outage: node a's own subscribers still get it
    await waitFor(() => onA.length === 2, { ...WAIT, name: 'local delivery during the outage' });
    expect(await value(metricsA, 'dropped', { reason: 'disconnected' })).toBe(1);

    const reconnected = Promise.all([waitForEvent(a, 'reconnect', WAIT), waitForEvent(b, 'reconnect', WAIT)]);
    await nats.restart();
    await reconnected;
    expect(await value(metricsA, 'reconnects')).toBe(1);
    expect(await value(metricsA, 'connected')).toBe(1);
    expect(linesA.some((l) => l.msg === 'reconnected to NATS, subscriptions renewed')).toBe(true);
    a.publish('room.r', am(3));
    b.publish('room.r', am(4));
    await waitFor(() => onB.length === 3 && onA.length === 4, { ...WAIT, name: 'deliveries after the restart' });
    // A marker published last by both proves nothing else is still on its way.
    a.publish('room.r', am(5));
    b.publish('room.r', am(6));
    await waitFor(() => onB.includes(5) && onA.includes(6), { ...WAIT, name: 'markers' });
    // Each publisher's messages arrive once, in its order; the two publishers interleave freely.
    const fromA = (xs: number[]) => xs.filter((n) => n % 2 === 1);
    const fromB = (xs: number[]) => xs.filter((n) => n % 2 === 0);
    expect(fromA(onA)).toEqual([1, 3, 5]);
    expect(fromB(onA)).toEqual([2, 4, 6]);
    expect(fromA(onB)).toEqual([1, 3, 5]);
    expect(fromB(onB)).toEqual([4, 6]); // 2 was published during the outage: lost for node b, not replayed
  });

  it('subscriptions made while disconnected are in effect after the reconnect', async () => {
    const a = bus();
    const b = bus();
    await Promise.all([a.start(), b.start()]);
    const disconnected = waitForEvent(b, 'disconnect', WAIT);
    nats.kill();
    await disconnected;
    const got: number[] = [];
    b.subscribe('session.late', (m) => got.push(num(m)));
    const reconnected = Promise.all([waitForEvent(a, 'reconnect', WAIT), waitForEvent(b, 'reconnect', WAIT)]);
    await nats.restart();
    await reconnected;
    a.publish('session.late', am(7));
    await waitFor(() => got.length === 1, { ...WAIT, name: 'delivery' });
    expect(got).toEqual([7]);
  });

  it('drops hostile payloads from NATS with a log line and a metric, and delivers the good ones', async () => {
    const lines: Line[] = [];
    const metrics = createBusMetrics(new Registry());
    const errors: unknown[] = [];
    const b = bus({ lines, metrics, limits: { maxMessageBytes: 2048, maxDepth: 16 }, onError: (err) => errors.push(err) });
    await b.start();
    const got: number[] = [];
    b.subscribe('room.h', (m) => got.push(num(m)));
    await b.flush();
    const raw = await connect({ servers: nats.url });
    raws.push(raw);
    const send = (text: string): void => raw.publish('room.h', Buffer.from(text));
    send('not json {');
    send('[1,2,3]');
    send('"a string"');
    send('{"no":"type"}');
    send('{"type":"message"}');
    send('{"type":"message","message":"flat"}');
    send('{"type":"message","message":{"n":1}}');
    send('{"type":"message","sendtime":5,"message":{"type":"event","n":2}}');
    send('{"type":"permissions","permissions":{}}');
    send(`{"type":"message","message":{"type":"event","n":3,"deep":${'['.repeat(40)}${']'.repeat(40)}}}`);
    send(`{"type":"message","message":{"type":"event","n":4,"pad":"${'x'.repeat(4000)}"}}`);
    send(Buffer.from([0xff, 0xfe, 0x00]).toString('latin1'));
    send(JSON.stringify(am(100, { text: 'brackets in strings do not count: [[[[[[[[[[[[[[[[[[[[[[[[[[' })));
    await raw.flush();
    await waitFor(() => got.length === 1, { ...WAIT, name: 'the good message' });
    expect(got).toEqual([100]);
    expect(errors).toEqual([]);
    expect(await value(metrics, 'received')).toBe(13);
    expect(await value(metrics, 'dropped', { reason: 'malformed' })).toBe(2);
    expect(await value(metrics, 'dropped', { reason: 'invalid' })).toBe(8);
    expect(await value(metrics, 'dropped', { reason: 'too_deep' })).toBe(1);
    expect(await value(metrics, 'dropped', { reason: 'oversize' })).toBe(1);
    const logged = lines.filter((l) => l.msg === 'bus message dropped').map((l) => l.obj['reason']);
    expect(new Set(logged)).toEqual(new Set(['malformed', 'invalid', 'too_deep', 'oversize']));
    expect(b.connected).toBe(true);
  });

  it('bounds the queue of a subject flooded from another node: excess dropped and counted, the rest in order', async () => {
    const metrics = createBusMetrics(new Registry());
    const b = bus({ metrics, limits: { maxSubjectMessages: 10 } });
    await b.start();
    const got: number[] = [];
    b.subscribe('room.flood', (m) => got.push(num(m)));
    await b.flush();
    const raw = await connect({ servers: nats.url });
    raws.push(raw);
    const pad = 'y'.repeat(1000);
    for (let n = 0; n < 200; n++) raw.publish('room.flood', Buffer.from(JSON.stringify(am(n, { pad }))));
    await raw.flush();
    await waitFor(async () => (await value(metrics, 'received')) === 200, { ...WAIT, name: 'all received' });
    await waitFor(async () => got.length + (await value(metrics, 'dropped', { reason: 'queue_full' })) === 200, { ...WAIT, name: 'all handled' });
    expect(await value(metrics, 'dropped', { reason: 'queue_full' })).toBeGreaterThan(0);
    for (let i = 1; i < got.length; i++) expect(got[i]!).toBeGreaterThan(got[i - 1]!);
  });

  it('close() drains: what was published just before reaches the other node', async () => {
    const a = bus();
    const b = bus();
    await Promise.all([a.start(), b.start()]);
    const got: number[] = [];
    b.subscribe('session.d', (m) => got.push(num(m)));
    await b.flush();
    for (let n = 0; n < 100; n++) a.publish('session.d', am(n));
    await a.close();
    await waitFor(() => got.length === 100, { ...WAIT, name: 'all 100' });
    expect(a.info().connected).toBe(false);
  });

  it('never throws from publish: an unserialisable message is dropped and counted', async () => {
    const metrics = createBusMetrics(new Registry());
    const a = bus({ metrics });
    await a.start();
    const got: unknown[] = [];
    a.subscribe('s', (m) => got.push(m));
    const cyclic: Record<string, unknown> = { type: 'message' };
    cyclic['self'] = cyclic;
    expect(() => a.publish('s', cyclic)).not.toThrow();
    expect(await value(metrics, 'dropped', { reason: 'unserialisable' })).toBe(1);
    a.publish('s', am(1));
    await waitFor(() => got.length === 1, { ...WAIT, name: 'next message' });
  });

  it('masks credentials in what it reports', async () => {
    const b = bus({ servers: [nats.url.replace('nats://', 'nats://user:secret@')] });
    expect(JSON.stringify(b.info())).not.toContain('secret');
    expect(b.info().urls[0]).toContain('***@127.0.0.1');
  });
});
