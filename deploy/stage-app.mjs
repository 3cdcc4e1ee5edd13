// Stages one app for its container image: the esbuild bundle (tools/build/build-app.mjs) plus
// exactly the production packages it loads at run time, in the layout Node resolves.
//
//   node deploy/stage-app.mjs apps/signaling [outDir]     (default outDir: dist/deploy/<projectRoot>)
//
// The bundle keeps third-party packages external (some read their own files at run time, e.g.
// etcd3 loads its .proto files from its package folder), so the image needs them — but only
// the ones main.js actually requires, and their production dependencies, not the workspace's
// whole dependency list. They are copied from an installed node_modules (the host's, or the
// one `npm ci` made in the image's build stage), so staging needs no registry.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

const [projectRoot, outArg] = process.argv.slice(2);
if (!projectRoot) {
  console.error('usage: stage-app.mjs <projectRoot> [outDir]');
  process.exit(2);
}
const bundleDir = path.join('dist', projectRoot);
const mainJs = path.join(bundleDir, 'main.js');
if (!existsSync(mainJs)) {
  console.error(`${mainJs} is missing: build it first (npx nx build <app>, or node tools/build/build-app.mjs ${projectRoot})`);
  process.exit(1);
}
const outDir = outArg ?? path.join('dist', 'deploy', projectRoot);

/** Package name of a bare specifier ("@a/b/c" -> "@a/b", "x/y" -> "x"); undefined for builtins. */
function packageOf(specifier) {
  if (specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0])) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

// esbuild writes every external import of a CJS bundle as require("<specifier>").
const required = new Set();
for (const match of readFileSync(mainJs, 'utf8').matchAll(/\brequire\("([^"./][^"]*)"\)/g)) {
  const name = packageOf(match[1]);
  if (name) required.add(name);
}

/**
 * Where Node would find `name` when required from the package folder `fromDir` (a path
 * relative to the workspace root): the nearest node_modules up the tree.
 */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === '.' || dir === path.dirname(dir)) return undefined;
  }
}

// Closure over dependencies, optionalDependencies and installed peerDependencies. Missing
// optional packages are fine (e.g. ws' native helpers): the package copes without them.
const staged = new Set();
const queue = [...required].map((name) => ({ name, from: '.', optional: false }));
while (queue.length) {
  const { name, from, optional } = queue.shift();
  const dir = resolvePackage(name, from);
  if (!dir) {
    if (optional) continue;
    console.error(`stage-app: ${name} (needed by ${from === '.' ? mainJs : from}) is not installed`);
    process.exit(1);
  }
  if (staged.has(dir)) continue;
  staged.add(dir);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: dir, optional: false });
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true });
  for (const dep of Object.keys(pkg.peerDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true });
}

// The package set (by version) decides whether node_modules must be copied again: copying
// thousands of package files costs tens of seconds on a slow disk, while a changed bundle
// alone only replaces main.js.
const key = createHash('sha256');
for (const dir of [...staged].sort()) key.update(`\0${dir}@${JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version}`);
const keyFile = `${outDir}.packages-key`;
const digest = key.digest('hex');
const packagesCurrent = existsSync(path.join(outDir, 'node_modules')) && existsSync(keyFile) && readFileSync(keyFile, 'utf8') === digest;

if (!packagesCurrent) {
  rmSync(keyFile, { force: true });
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const dir of [...staged].sort()) {
    // Nested node_modules of a staged package are staged separately (only if needed).
    // Timestamps kept: unchanged files then give an identical image layer (build cache hit).
    cpSync(dir, path.join(outDir, dir), {
      recursive: true,
      preserveTimestamps: true,
      filter: (src) => !path.relative(dir, src).split(path.sep).includes('node_modules'),
    });
  }
  writeFileSync(keyFile, digest);
}
for (const file of ['main.js', 'main.js.map']) {
  rmSync(path.join(outDir, file), { force: true });
  if (existsSync(path.join(bundleDir, file))) cpSync(path.join(bundleDir, file), path.join(outDir, file), { preserveTimestamps: true });
}
const rootPkg = JSON.parse(readFileSync('package.json', 'utf8'));
writeFileSync(
  path.join(outDir, 'package.json'),
  JSON.stringify({ name: `${rootPkg.name}-${path.basename(projectRoot)}`, version: rootPkg.version, private: true, type: 'commonjs' }, null, 2) + '\n',
);
const what = packagesCurrent ? 'packages unchanged' : `${staged.size} packages copied`;
console.log(`staged ${outDir}: main.js, ${what} (${[...required].sort().join(', ') || 'none required'})`);
