#!/usr/bin/env node
// Regenerates libs/cluster/src/generated/ from proto/*.proto with Debian's `protoc` and ts-proto.
// Usage: node libs/cluster/scripts/generate-proto.mjs [outDir]   (default: the committed folder)
// The generated-code spec runs this into a temp dir and fails if the result differs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const protoDir = path.join(root, 'proto');
const outDir = path.resolve(process.argv[2] ?? path.join(root, 'libs/cluster/src/generated'));
const plugin = path.join(root, 'node_modules/.bin/protoc-gen-ts_proto');

/** ts-proto options; changing one changes the committed output. */
export const TS_PROTO_OPTIONS = [
  'outputServices=grpc-js',
  'esModuleInterop=true',
  'env=node',
  'forceLong=number',
  'outputJsonMethods=false',
  // Keeps the output independent of the protoc/ts-proto versions installed.
  'annotateFilesWithVersion=false',
];

const protos = readdirSync(protoDir).filter((f) => f.endsWith('.proto')).sort();
mkdirSync(outDir, { recursive: true });
execFileSync(
  'protoc',
  [
    `--plugin=protoc-gen-ts_proto=${plugin}`,
    `--ts_proto_out=${outDir}`,
    `--ts_proto_opt=${TS_PROTO_OPTIONS.join(',')}`,
    `--proto_path=${protoDir}`,
    ...protos,
  ],
  { stdio: 'inherit' },
);
console.log(`generated ${protos.length} files into ${path.relative(root, outDir) || '.'}`);
