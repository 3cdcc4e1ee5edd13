#!/usr/bin/env node
// RSS after a flood of idle connections (issue 10, item 6): starts the built signaling server
// (dist/apps/signaling/main.js; `npx nx build signaling` first), opens N WebSockets that never
// say hello (the server closes them after its 2 s hello timeout), and samples the server's RSS
// (/proc) and V8 heap (its /metrics) before, at the peak and for a while after.
//
//   node tools/bench/idle-flood-rss.mjs [-n 3000] [-after 30] [-rounds 1] [-- <extra node flags>]
//   MALLOC_ARENA_MAX=2 node tools/bench/idle-flood-rss.mjs      (environment reaches the server)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const args = process.argv.slice(2);
const dashes = args.indexOf('--');
const nodeFlags = dashes >= 0 ? args.slice(dashes + 1) : [];
const flag = (name, def) => {
  const i = args.indexOf(`-${name}`);
  return i >= 0 && (dashes < 0 || i < dashes) ? Number(args[i + 1]) : def;
};
const N = flag('n', 3000);
const AFTER_S = flag('after', 30);
const ROUNDS = flag('rounds', 1);

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const port = await freePort();
const dir = mkdtempSync(path.join(tmpdir(), 'idle-flood-'));
const conf = path.join(dir, 'server.conf');
writeFileSync(
  conf,
  [
    '[http]',
    `listen = 127.0.0.1:${port}`,
    '[sessions]',
    `hashkey = ${randomBytes(16).toString('hex')}`,
    `blockkey = ${randomBytes(8).toString('hex')}`,
    '[clients]',
    `internalsecret = ${randomBytes(16).toString('hex')}`,
    '[nats]',
    'url = nats://loopback',
    '[backend]',
    'backends = b1',
    '[b1]',
    'url = http://127.0.0.1:1/',
    `secret = ${randomBytes(16).toString('hex')}`,
  ].join('\n'),
);
const server = spawn(process.execPath, [...nodeFlags, path.join(root, 'dist/apps/signaling/main.js'), '--config', conf], {
  env: { ...process.env, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
process.on('exit', () => server.kill('SIGKILL'));

const rssMiB = () => {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
};
async function heap() {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const get = (re) => Number(re.exec(text)?.[1] ?? NaN) / 2 ** 20;
  return {
    used: get(/^nodejs_heap_size_used_bytes (\S+)/m),
    total: get(/^nodejs_heap_size_total_bytes (\S+)/m),
    newSpace: get(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\S+)/m),
    external: get(/^nodejs_external_memory_bytes (\S+)/m),
  };
}
async function sample(label) {
  const h = await heap();
  const row = { label, rss: rssMiB(), heapUsed: h.used, heapTotal: h.total, newSpace: h.newSpace, external: h.external };
  console.log(
    `${label.padEnd(14)} rss ${row.rss.toFixed(1).padStart(6)} MiB   heap used ${h.used.toFixed(1).padStart(5)}  total ${h.total.toFixed(1).padStart(5)}  new space ${h.newSpace.toFixed(1).padStart(5)}  external ${h.external.toFixed(1).padStart(5)}`,
  );
  return row;
}

for (let i = 0; ; i++) {
  try {
    await fetch(`http://127.0.0.1:${port}/api/v1/welcome`);
    break;
  } catch {
    if (i > 100) throw new Error('server did not start');
    await sleep(100);
  }
}
await sleep(2000);
console.log(`node ${process.version}, flags: ${nodeFlags.join(' ') || '(none)'}, MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? '-'}, ${N} idle connections`);
const start = await sample('start');

let peak;
let last;
for (let round = 1; round <= ROUNDS; round++) {
  // The flood: N connections as fast as the server accepts them; each waits for its welcome.
  let open = 0;
  let maxOpen = 0;
  await Promise.all(
    Array.from({ length: N }, () =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/spreed`, { perMessageDeflate: false });
        ws.once('message', () => {
          maxOpen = Math.max(maxOpen, ++open);
          resolve();
        });
        ws.once('error', resolve);
        ws.on('close', () => open--);
      }),
    ),
  );
  peak = await sample(`${round}: peak`);
  // The server's hello timeout closes every one of them after 2 s.
  while (open > 0) await sleep(100);
  const closedAt = Date.now();
  console.log(`   (at most ${maxOpen} open at once)`);
  last = await sample(`${round}: closed`);
  for (const s of [1, 5, 10, 30, 60, 75, 90, 105, 120].filter((s) => s <= AFTER_S)) {
    await sleep(closedAt + s * 1000 - Date.now());
    last = await sample(`${round}: +${s} s`);
  }
}
console.log(
  `peak - start: rss +${(peak.rss - start.rss).toFixed(1)} MiB; end - start: rss +${(last.rss - start.rss).toFixed(1)} MiB, heap total +${(last.heapTotal - start.heapTotal).toFixed(1)} MiB, heap used +${(last.heapUsed - start.heapUsed).toFixed(1)} MiB`,
);
server.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
process.exit(0);
