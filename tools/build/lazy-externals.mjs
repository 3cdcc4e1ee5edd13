// esbuild plugin: third-party packages that only some configurations use (etcd, NATS, GeoIP,
// JWT, certificate parsing) are required on first use instead of when the bundle starts.
// An external import compiles to a `require()` at the top of the bundle, which loads the
// package and everything it pulls in (etcd3 alone brings gRPC and protobufjs: ~15 MiB of RSS
// for a node that uses none of them). Each listed package is replaced by a small module whose
// exports are getters that require the real package the first time one is read; the export
// names are read from the package at build time, so `import { x }`, `import * as` and default
// imports keep working unchanged in the source.
import { createRequire } from 'node:module';
import path from 'node:path';

export const LAZY_PACKAGES = ['etcd3', 'cockatiel', 'nats', 'maxmind', 'jose', 'node-forge'];

const NAMESPACE = 'lazy-external';

export function lazyExternals(packages = LAZY_PACKAGES, root = process.cwd()) {
  const requireFromRoot = createRequire(path.join(root, 'package.json'));
  const filter = new RegExp(`^(${packages.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
  return {
    name: 'lazy-externals',
    setup(build) {
      build.onResolve({ filter }, (args) =>
        // The stand-in's own require of the real package stays a plain external require.
        args.namespace === NAMESPACE ? { path: args.path, external: true } : { path: args.path, namespace: NAMESPACE },
      );
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
        const real = requireFromRoot(args.path);
        const names = Object.keys(real).filter((k) => k !== '__esModule' && k !== 'default');
        const lines = [
          'let real;',
          `const load = () => (real ??= require(${JSON.stringify(args.path)}));`,
          // CommonJS packages are their own default export; compiled ES modules mark themselves.
          real.__esModule ? 'Object.defineProperty(exports, "__esModule", { value: true });' : '',
          'default' in real ? 'Object.defineProperty(exports, "default", { enumerable: true, get: () => load().default });' : '',
          ...names.map((n) => `Object.defineProperty(exports, ${JSON.stringify(n)}, { enumerable: true, get: () => load()[${JSON.stringify(n)}] });`),
        ];
        return { contents: lines.join('\n'), loader: 'js', resolveDir: root };
      });
    },
  };
}
