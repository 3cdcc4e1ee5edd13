// A short run of the bench client against our real server: the built bundle
// (dist/apps/signaling/main.js, built by the test target's dependsOn) started with
// `[backend] allowall` and the client's local auth backend, as in tools/bench/compare.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuthBackend } from './auth-backend';
import { parseArgs } from './cli';
import { runScenario, type BenchSummary } from './scenarios/run-scenario';

const SERVER_BUNDLE = path.resolve(__dirname, '../../../dist/apps/signaling/main.js');
const SECRET = 'bench-test-secret';

jest.setTimeout(30_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForWelcome(url: string, child: ChildProcess): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server not ready');
}

describe('bench client against our server', () => {
  let dir: string;
  let server: ChildProcess;
  let addr: string;
  let backend: AuthBackend;
  const lines: string[] = [];
  const out = { line: (s: string) => lines.push(s) };

  beforeAll(async () => {
    if (!existsSync(SERVER_BUNDLE)) throw new Error(`${SERVER_BUNDLE} missing: run nx build signaling`);
    dir = mkdtempSync(path.join(tmpdir(), 'bench-int-'));
    addr = `127.0.0.1:${await freePort()}`;
    const conf = path.join(dir, 'server.conf');
    writeFileSync(
      conf,
      [
        '[http]',
        `listen = ${addr}`,
        '[sessions]',
        'hashkey = bench-hashkey-0123456789abcdef01',
        'blockkey = bench-blockkey-0123456789abcdef0',
        '[backend]',
        'allowall = true',
        'allowhttp = true',
        `secret = ${SECRET}`,
        '[nats]',
        'url = :loopback:',
      ].join('\n'),
    );
    server = spawn(process.execPath, [SERVER_BUNDLE, '--config', conf], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'warn' } });
    await waitForWelcome(`http://${addr}/api/v1/welcome`, server);
    backend = await AuthBackend.start(SECRET);
  });

  afterAll(async () => {
    await backend?.close();
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    lines.length = 0;
  });

  it('sends session messages closed-loop, prints Stats lines and a consistent summary', async () => {
    const opts = parseArgs(['-addr', addr, '-maxClients', '20', '-duration', '1500ms', '-interval', '500ms', '-quiet', '-serverPid', String(server.pid)]);
    const s: BenchSummary = await runScenario(opts, backend.url, out);
    expect(s).toMatchObject({ type: 'bench-summary', scenario: 'messages', clients: 20, connected: 20, connectFailed: 0, lost: 0 });
    expect(s.sent).toBeGreaterThan(100);
    expect(s.recv).toBe(s.sent);
    expect(s.latencyMs?.p50).toBeGreaterThan(0);
    expect(s.latencyMs!.p50).toBeLessThanOrEqual(s.latencyMs!.p99);
    expect(s.latencyMs!.p99).toBeLessThanOrEqual(s.latencyMs!.max);
    expect(s.hellosPerSec).toBeGreaterThan(0);
    expect(s.server?.rssKiB).toBeGreaterThan(0);
    expect(s.server?.cpuSec).toBeGreaterThanOrEqual(0);
    expect(lines.filter((l) => /^Stats: sent=\d+ \(\d+\/sec\), recv=\d+ \(\d+\/sec\), delta=\d+/.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(backend.stats.requests['auth']).toBeGreaterThanOrEqual(20);
    expect(backend.stats.badChecksums).toBe(0);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('fills rooms and broadcasts to them', async () => {
    const opts = parseArgs(['-addr', addr, '-maxClients', '12', '-scenario', 'broadcast', '-roomSize', '5', '-duration', '1s', '-quiet']);
    const s = await runScenario(opts, backend.url, out);
    expect(s).toMatchObject({ connected: 12, rooms: 3, joined: 12, lost: 0 });
    expect(s.fillMs).not.toBeNull();
    expect(s.joinsPerSec).toBeGreaterThan(0);
    // Rooms of 5, 5 and 2: a message reaches 4, 4 or 1 others.
    expect(s.recv).toBe(s.expected);
    expect(s.recv!).toBeGreaterThan(s.sent!);
  });

  it('sends at a fixed rate', async () => {
    const opts = parseArgs(['-addr', addr, '-maxClients', '10', '-scenario', 'rate', '-rate', '400', '-duration', '1s', '-quiet']);
    const s = await runScenario(opts, backend.url, out);
    expect(s.sent).toBeGreaterThanOrEqual(350);
    expect(s.sent).toBeLessThanOrEqual(410);
    expect(s.lost).toBe(0);
  });

  it('soaks: steady members lose nothing while clients churn, resume, detach and stall; memory is sampled', async () => {
    const opts = parseArgs(['-addr', addr, '-maxClients', '16', '-scenario', 'soak', '-roomSize', '4', '-duration', '8s', '-interval', '1s', '-rate', '100', '-quiet']);
    const s = await runScenario(opts, backend.url, out);
    const soak = s.soak!;
    expect(soak).toMatchObject({ steady: 8, steadyFailed: 0, rooms: 2, lost: 0, steadyClosed: 0, resumeFailed: 0 });
    expect(soak.sent).toBeGreaterThan(500);
    expect(soak.recv).toBe(soak.expected);
    expect(soak.cycles).toBeGreaterThan(5);
    expect(soak.endings.bye + soak.endings.resumed + soak.endings.detached + soak.endings.stalled).toBe(soak.cycles);
    expect(soak.recvChurn).toBeGreaterThan(0);
    // Memory comes from the server's own /metrics: RSS and the V8 heap, once a second.
    expect(soak.memory.samples.length).toBeGreaterThanOrEqual(8);
    expect(soak.memory.start?.rssMiB).toBeGreaterThan(10);
    expect(soak.memory.end?.heapMiB).toBeGreaterThan(1);
    // Eight seconds are no soak: the run says so instead of passing a verdict.
    expect(soak.verdict).toMatchObject({ judged: false, growing: false });
    expect(soak.failed).toBe(false);
    expect(lines.filter((l) => /^Soak: t=\d+s rss=[\d.]+MiB heap=[\d.]+MiB cycles=\d+/.test(l)).length).toBeGreaterThanOrEqual(5);
  });

  it('reports hellos the server rejects because the secret differs', async () => {
    const wrong = await AuthBackend.start('not-the-secret');
    try {
      const opts = parseArgs(['-addr', addr, '-maxClients', '3', '-scenario', 'connect', '-quiet']);
      const s = await runScenario(opts, wrong.url, out);
      expect(s.connected).toBe(0);
      expect(s.connectFailed).toBe(3);
      expect(wrong.stats.badChecksums).toBe(3);
      expect(lines.some((l) => /connect\/hello failed for 3 clients/.test(l))).toBe(true);
    } finally {
      await wrong.close();
    }
  });
});
