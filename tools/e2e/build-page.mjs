// Second half of the e2e build (the runner itself is bundled by tools/build/build-app.mjs):
// the browser page script (src/page/client.ts, no framework) to dist/tools/e2e/client.js.
import { build } from 'esbuild';

await build({
  entryPoints: ['tools/e2e/src/page/client.ts'],
  outfile: 'dist/tools/e2e/client.js',
  bundle: true,
  platform: 'browser',
  target: 'chrome120',
  format: 'iife',
  logLevel: 'warning',
});
console.log('built dist/tools/e2e/client.js');
