// Bundles one deployable (its src/main.ts plus the workspace libs it imports) into
// dist/<projectRoot>/main.js. Third-party packages stay external: deploy/stage-app.mjs puts
// the ones main.js requires beside it in the image, so native/optional deps resolve as usual.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { lazyExternals } from './lazy-externals.mjs';

const projectRoot = process.argv[2];
if (!projectRoot) {
  console.error('usage: build-app.mjs <projectRoot>');
  process.exit(2);
}
const rootPkg = JSON.parse(readFileSync('package.json', 'utf8'));
const external = [...Object.keys(rootPkg.dependencies ?? {}), ...Object.keys(rootPkg.devDependencies ?? {})];

await build({
  entryPoints: [path.join(projectRoot, 'src/main.ts')],
  outfile: path.join('dist', projectRoot, 'main.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external,
  plugins: [lazyExternals()],
  logLevel: 'warning',
});
console.log(`built dist/${projectRoot}/main.js`);
