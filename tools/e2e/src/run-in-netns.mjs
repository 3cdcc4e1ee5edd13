#!/usr/bin/env node
// Entry point of the end-to-end media run:
//
//   unshare -n -- node tools/e2e/src/run-in-netns.mjs [--mode signaling|janus|proxy|go-proxy|proxy-remote] [--timeout 60000]
//
// (as root; the e2e project's `build` target must have produced dist/tools/e2e/). Inside the
// fresh network namespace that `unshare -n` created it brings up `lo` and a bridge `br0` with
// 10.123.45.1/24 — Janus never gathers loopback ICE candidates, so the media needs a
// non-loopback address, and a bridge is used because `dummy` interfaces are not available
// here — then runs the bundled runner (dist/tools/e2e/main.js), whose processes (Janus,
// signaling server, fake Nextcloud, page server, Chromium) all live in the namespace. No media
// socket is ever bound on the host's interfaces, and the namespace disappears with its last
// process.
import { execFileSync } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ADDRESS = '10.123.45.1/24';
const BRIDGE = 'br0';
const here = path.dirname(fileURLToPath(import.meta.url));
const runner = path.resolve(here, '../../../dist/tools/e2e/main.js');

function die(message) {
  process.stderr.write(`run-in-netns: ${message}\n`);
  // Same shape as the runner's result line, so callers always get one JSON line.
  process.stdout.write(`${JSON.stringify({ ok: false, error: message, processes: [], leftover: [] })}\n`);
  process.exit(2);
}

// Refuse to touch the host's network: the namespace must be a fresh one of our own.
const ownNs = readlinkSync('/proc/self/ns/net');
let parentNs;
try {
  parentNs = readlinkSync(`/proc/${process.ppid}/ns/net`);
} catch {
  parentNs = undefined;
}
if (parentNs === ownNs) die('not in a private network namespace; run as `unshare -n -- node tools/e2e/src/run-in-netns.mjs`');
const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
if (links.includes(` ${BRIDGE}:`)) die(`${BRIDGE} already exists in this namespace; expected a fresh one from unshare -n`);
if (!existsSync(runner)) die(`${runner} missing; build it first (nx build e2e)`);

try {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  execFileSync('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  execFileSync('ip', ['addr', 'add', ADDRESS, 'dev', BRIDGE]);
  execFileSync('ip', ['link', 'set', BRIDGE, 'up']);
} catch (err) {
  die(`network setup failed: ${err.message}`);
}

createRequire(import.meta.url)(runner);
