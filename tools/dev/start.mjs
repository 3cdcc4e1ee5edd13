#!/usr/bin/env node
// `npm start`: the one command a newcomer runs on a fresh clone. Installs npm dependencies when
// they are missing, then runs `nx serve signaling` (which builds and starts the dev setup).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!existsSync(path.join(root, 'node_modules/.bin/nx'))) {
  console.log('[start] installing npm dependencies (npm ci)...');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
run(path.join(root, 'node_modules/.bin/nx'), ['serve', 'signaling', '--skip-nx-cache', ...process.argv.slice(2)]);
