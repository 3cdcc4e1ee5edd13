#!/usr/bin/env node
// Development runner behind `nx serve signaling` and `npm start`: starts the bundled fake
// Nextcloud (open mode: any user, any room) and the signaling server with the bundled dev
// config, prints how to connect, and stops both on Ctrl-C. Expects both bundles built
// (the serve target depends on them).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const httpPort = process.env.TALK_DEV_HTTP_PORT ?? '8080';
const ncPort = process.env.TALK_DEV_NEXTCLOUD_PORT ?? '8081';
const devConfig = path.join(root, 'apps/signaling/dev/server.conf');

// The dev config names ports 8080/8081; other ports get a temporary copy with them replaced.
let configPath = devConfig;
if (httpPort !== '8080' || ncPort !== '8081') {
  const text = readFileSync(devConfig, 'utf8')
    .replace(/127\.0\.0\.1:8080/g, `127.0.0.1:${httpPort}`)
    .replace(/127\.0\.0\.1:8081/g, `127.0.0.1:${ncPort}`);
  configPath = path.join(mkdtempSync(path.join(tmpdir(), 'talk-dev-')), 'server.conf');
  writeFileSync(configPath, text);
}

const children = [];
let stopping = false;

function start(name, args, readyPattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let ready = false;
    const onData = (chunk) => {
      const text = chunk.toString();
      process.stdout.write(text.replace(/^(?=.)/gm, `[${name}] `));
      if (!ready && readyPattern.test(text)) {
        ready = true;
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      if (!ready) reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal})`));
      else if (!stopping) {
        console.error(`[dev] ${name} exited (code ${code}, signal ${signal}); stopping`);
        stop(1);
      }
    });
  });
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 2_000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r))))).then(() => process.exit(code));
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

try {
  await start('nextcloud', [path.join(root, 'dist/tools/fake-nextcloud/main.js'), '--listen', `127.0.0.1:${ncPort}`, '--secret', 'dev-backend-secret', '--open'], /listening/i);
  await start('signaling', [path.join(root, 'dist/apps/signaling/main.js'), '--config', configPath], /signaling server started/);
} catch (err) {
  console.error(`[dev] ${err.message}`);
  stop(1);
}
if (!stopping) {
  const backend = `http://127.0.0.1:${ncPort}/ocs/v2.php/apps/spreed/api/v1/signaling/backend`;
  console.log('');
  console.log(`[dev] talk-signaling is up: ws://127.0.0.1:${httpPort}/spreed  (welcome: http://127.0.0.1:${httpPort}/api/v1/welcome)`);
  console.log(`[dev] connect and send: {"type":"hello","hello":{"version":"1.0","auth":{"url":"${backend}","params":{"userid":"alice","ticket":"any"}}}}`);
  console.log('[dev] the dev Nextcloud accepts any user and ticket, and any room; Ctrl-C stops both.');
}
