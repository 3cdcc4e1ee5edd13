#!/usr/bin/env node
// Cross-node benchmark (issue 11): the same bench-client load against one node and against two
// nodes sharing one nats-server, the clients spread round-robin over the nodes (so most session
// messages and every room broadcast cross NATS). Our server only; no CPU pinning (2 servers,
// nats-server and the client share the machine), so compare the two columns of one run.
//
//   node tools/bench/cluster.mjs [--n 500] [--duration 5s] [--reps 1] [--scenarios rate,messages,broadcast]
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
process.chdir(root);
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const N = Number(opt('n', '500'));
const DURATION = opt('duration', '5s');
const REPS = Number(opt('reps', '1'));
const SCENARIOS = opt('scenarios', 'rate,messages,broadcast').split(',');
const SECRET = 'bench-backend-secret';
const PORTS = [28181, 28182];
const NATS_PORT = 28222;

const work = mkdtempSync(path.join(tmpdir(), 'talk-bench-cluster-'));
// Inside the repo, so the bundles' external packages resolve from node_modules.
const snap = path.join(root, 'dist/tools/bench/cluster-snapshot');
mkdirSync(snap, { recursive: true });
if (!args.includes('--no-build')) {
  execFileSync('npx', ['nx', 'run-many', '-t', 'build', '-p', 'signaling,bench-client'], { stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false' } });
}
copyFileSync('dist/apps/signaling/main.js', path.join(snap, 'signaling.js'));
copyFileSync('dist/apps/bench-client/main.js', path.join(snap, 'bench-client.js'));

function conf(port, nats) {
  const file = path.join(work, `server-${port}.conf`);
  writeFileSync(
    file,
    `[http]\nlisten = 127.0.0.1:${port}\n[sessions]\nhashkey = bench-hashkey-0123456789abcdef01\nblockkey = bench-blockkey-0123456789abcdef0\n` +
      `[clients]\ninternalsecret = bench-internal-secret\n[backend]\nallowall = true\nallowhttp = true\nsecret = ${SECRET}\ntimeout = 10\nconnectionsperhost = 8\n` +
      `[nats]\nurl = ${nats}\n[mcu]\ntype =\n[stats]\nallowed_ips = 127.0.0.1\n`,
  );
  return file;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function start(cmd, argv, name) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: work });
  const log = createWriteStream(path.join(work, `${name}.log`), { flags: 'a' });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return child;
}
async function ready(port) {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/api/v1/welcome`)).ok) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`server on ${port} not ready`);
}
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}
function flags(scenario) {
  if (scenario === 'rate') return ['-scenario', 'rate', '-rate', '5000', '-duration', DURATION];
  if (scenario === 'messages') return ['-scenario', 'messages', '-duration', DURATION];
  if (scenario === 'broadcast') return ['-scenario', 'broadcast', '-roomSize', '100', '-duration', DURATION];
  throw new Error(scenario);
}
function bench(addrs, scenario) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(snap, 'bench-client.js'), '-addr', addrs.join(','), '-secret', SECRET, '-maxClients', String(N), '-quiet', '-interval', '60s', ...flags(scenario)], { cwd: work });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"type":"bench-summary"'));
      if (line === undefined) reject(new Error(`bench-client exited ${code}:\n${out.slice(-2000)}`));
      else resolve(JSON.parse(line));
    });
  });
}

const results = [];
for (const mode of ['one node', 'two nodes']) {
  for (const scenario of SCENARIOS) {
    for (let rep = 1; rep <= REPS; rep++) {
      const nats = start('nats-server', ['-a', '127.0.0.1', '-p', String(NATS_PORT)], 'nats');
      await sleep(300);
      const ports = mode === 'one node' ? PORTS.slice(0, 1) : PORTS;
      const url = mode === 'one node' ? 'nats://loopback' : `nats://127.0.0.1:${NATS_PORT}`;
      const servers = ports.map((p) => start(process.execPath, [path.join(snap, 'signaling.js'), '--config', conf(p, url)], `server-${p}`));
      try {
        await Promise.all(ports.map(ready));
        const s = await bench(ports.map((p) => `127.0.0.1:${p}`), scenario);
        results.push({ mode, scenario, rep, summary: s });
        console.log(`[cluster] ${mode} ${scenario} #${rep}: recv/s=${s.recvPerSec} p50=${s.latencyMs?.p50} p99=${s.latencyMs?.p99} lost=${s.lost} connected=${s.connected}`);
      } catch (err) {
        console.log(`[cluster] ${mode} ${scenario} #${rep}: FAILED ${String(err.message).split('\n')[0]}`);
      } finally {
        await Promise.all(servers.map(stop));
        await stop(nats);
      }
    }
  }
}
mkdirSync('dist/bench', { recursive: true });
const file = `dist/bench/cluster-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify({ N, DURATION, results }, null, 1));
console.log(`[cluster] raw results: ${file}; logs in ${work}`);
