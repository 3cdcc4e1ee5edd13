// deploy/image-build.mjs "inputs", the step that decides which files the Dockerfiles' npm ci
// layer depends on, run on a small workspace in a temporary folder (it drops dist/ from the
// folder it runs in, so never in the repository itself).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './podman';

const SCRIPT = path.join(REPO_ROOT, 'deploy/image-build.mjs');

describe('deploy/image-build.mjs inputs', () => {
  let dir: string;
  const write = (file: string, content: string): void => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'image-build-'));
    write('package.json', JSON.stringify({ name: 'ws-root', workspaces: ['apps/*', 'tools/testing'] }));
    write('package-lock.json', '{"lockfileVersion":3}');
    write('apps/one/package.json', '{"name":"one"}');
    write('apps/one/src/main.ts', 'export {};');
    write('apps/two/package.json', '{"name":"two"}');
    write('apps/no-manifest/README.md', 'not a workspace package');
    write('tools/testing/package.json', '{"name":"testing"}');
    write('tools/other/package.json', '{"name":"not-a-workspace"}');
    write('dist/deploy/apps/one/main.js', '// staged on the host');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('copies exactly the root and workspace manifests, with fixed times, and drops dist/', () => {
    const out = path.join(dir, 'manifests-out');
    execFileSync(process.execPath, [SCRIPT, 'inputs', out], { cwd: dir, stdio: 'pipe' });

    const files = execFileSync('find', ['.', '-type', 'f'], { cwd: out, encoding: 'utf8' }).trim().split('\n').sort();
    expect(files).toEqual(['./apps/one/package.json', './apps/two/package.json', './package-lock.json', './package.json', './tools/testing/package.json']);
    expect(readFileSync(path.join(out, 'apps/two/package.json'), 'utf8')).toBe('{"name":"two"}');
    // Equal manifests must give an equal layer whatever the context's file times are.
    for (const entry of [...files, '.', './apps', './apps/one', './tools', './tools/testing']) {
      expect(statSync(path.join(out, entry)).mtimeMs).toBe(0);
    }
    expect(existsSync(path.join(dir, 'dist'))).toBe(false);
    expect(existsSync(path.join(dir, 'apps/one/src/main.ts'))).toBe(true);
  });

  it('refuses a workspaces pattern it cannot expand instead of installing without it', () => {
    write('package.json', JSON.stringify({ name: 'ws-root', workspaces: ['packages/**'] }));
    expect(() => execFileSync(process.execPath, [SCRIPT, 'inputs', path.join(dir, 'out')], { cwd: dir, stdio: 'pipe' })).toThrow(/only "dir" and "dir\/\*"/);
  });

  it('prints its usage for an unknown step', () => {
    expect(() => execFileSync(process.execPath, [SCRIPT, 'bogus'], { cwd: dir, stdio: 'pipe' })).toThrow(/usage: image-build.mjs/);
  });
});
