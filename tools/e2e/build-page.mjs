// Build target of the e2e project: bundles the runner (src/main.ts, Node, CommonJS; workspace
// libs inlined, npm packages external) to dist/tools/e2e/main.js and the browser page script
// (src/page/client.ts, no framework) to dist/tools/e2e/client.js.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const rootPkg = JSON.parse(readFileSync('package.json', 'utf8'));
const external = [...Object.keys(rootPkg.dependencies ?? {}), ...Object.keys(rootPkg.devDependencies ?? {})];

await build({
  entryPoints: ['tools/e2e/src/main.ts'],
  outfile: 'dist/tools/e2e/main.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external,
  logLevel: 'warning',
});
await build({
  entryPoints: ['tools/e2e/src/page/client.ts'],
  outfile: 'dist/tools/e2e/client.js',
  bundle: true,
  platform: 'browser',
  target: 'chrome120',
  format: 'iife',
  logLevel: 'warning',
});
console.log('built dist/tools/e2e/main.js and dist/tools/e2e/client.js');
