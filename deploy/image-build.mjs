// The build steps that every deploy/<app>/Dockerfile runs in its "source" stages (Dockerfiles
// cannot include one another, so they share this script instead of repeating the steps):
//
//   node deploy/image-build.mjs inputs <outDir>      run in the build context's copy: puts
//                                                    what `npm ci` reads (package.json,
//                                                    package-lock.json, every npm workspace's
//                                                    package.json, in their folders) into
//                                                    <outDir>, and drops dist/ (host build
//                                                    output, in the context for APP_FROM=staged
//                                                    only) from the copy
//   node deploy/image-build.mjs app <projectRoot> <outDir>
//                                                    bundle the app (tools/build/build-app.mjs)
//                                                    and stage it with its production packages
//                                                    (deploy/stage-app.mjs) into <outDir>
//
// The manifests go into a folder of their own so that the layer of `npm ci` depends on them
// alone: a source change then reuses the installed node_modules. Their timestamps are fixed,
// so equal manifests give an equal layer whatever the build context's file times are. Without
// dist/ (tens of MB of staged apps), the sources the "source" stage copies are small, and a
// restaged app on the host does not invalidate its layers.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import path from 'node:path';

const [step, ...args] = process.argv.slice(2);

/** Folders matched by one npm "workspaces" entry: a plain path or one ending in "/*". */
function workspaceFolders(pattern) {
  if (!pattern.endsWith('/*')) return [pattern];
  const parent = pattern.slice(0, -2);
  if (!existsSync(parent)) return [];
  return readdirSync(parent, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(parent, entry.name));
}

function copyManifests(outDir) {
  const { workspaces = [] } = JSON.parse(readFileSync('package.json', 'utf8'));
  const files = ['package.json', 'package-lock.json'];
  for (const pattern of workspaces) {
    if (pattern.replace(/\/\*$/, '').includes('*')) throw new Error(`workspaces entry ${pattern}: only "dir" and "dir/*" are supported`);
    for (const folder of workspaceFolders(pattern)) {
      if (existsSync(path.join(folder, 'package.json'))) files.push(path.join(folder, 'package.json'));
    }
  }
  const epoch = new Date(0);
  for (const file of files.sort()) {
    const target = path.join(outDir, file);
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(file, target);
    utimesSync(target, epoch, epoch);
  }
  // The folders too (deepest first, as setting a child's time touches nothing above it).
  const folders = new Set(files.flatMap((file) => {
    const chain = [];
    for (let dir = path.dirname(file); dir !== '.'; dir = path.dirname(dir)) chain.push(dir);
    return chain;
  }));
  for (const dir of [...folders].sort((a, b) => b.length - a.length)) utimesSync(path.join(outDir, dir), epoch, epoch);
  utimesSync(outDir, epoch, epoch);
  console.log(`image-build: ${files.length} manifests in ${outDir}`);
}

function buildApp(projectRoot, outDir) {
  const node = (script, ...scriptArgs) => execFileSync(process.execPath, [script, ...scriptArgs], { stdio: 'inherit' });
  node('tools/build/build-app.mjs', projectRoot);
  node('deploy/stage-app.mjs', projectRoot, outDir);
}

if (step === 'inputs' && args.length === 1) {
  copyManifests(args[0]);
  rmSync('dist', { recursive: true, force: true });
} else if (step === 'app' && args.length === 2) {
  buildApp(args[0], args[1]);
} else {
  console.error('usage: image-build.mjs inputs <outDir> | app <projectRoot> <outDir>');
  process.exit(2);
}
