import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { checksum } from './checksum';

const WORKSPACE = path.resolve(__dirname, '../../..');

/** Builds main.ts the way tools/build/build-app.mjs does (bundle, node20, cjs, deps external). */
async function buildMain(outDir: string): Promise<string> {
  const outfile = path.join(outDir, 'main.js');
  await build({
    entryPoints: [path.join(__dirname, 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    logLevel: 'silent',
  });
  return outfile;
}

describe('fake-nextcloud main', () => {
  let dir: string;
  beforeAll(async () => {
    // Inside the workspace so the bundle resolves its external packages from node_modules.
    await mkdir(path.join(WORKSPACE, 'dist'), { recursive: true });
    dir = await mkdtemp(path.join(WORKSPACE, 'dist', 'fake-nc-main-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints where it listens, serves --open and exits 0 on SIGTERM', async () => {
    const main = await buildMain(dir);
    const child = spawn(process.execPath, [main, '--listen', '127.0.0.1:0', '--secret', 'dev', '--open'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const match = /^fake-nextcloud listening on (http:\/\/127\.0\.0\.1:\d+\/) \(backend url (\S+), open mode\)$/.exec(line);
      expect(match).not.toBeNull();
      const body = JSON.stringify({ type: 'room', room: { version: '1.0', roomid: 'dev-room', userid: '', sessionid: 's' } });
      const random = 'r'.repeat(32);
      const res = await fetch(match![2]!.replace(/,$/, ''), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'OCS-APIRequest': 'true', 'Spreed-Signaling-Random': random, 'Spreed-Signaling-Checksum': checksum(random, body, 'dev') },
        body,
      });
      const json = (await res.json()) as { ocs: { data: { room: { properties: unknown } } } };
      expect(json.ocs.data.room.properties).toEqual({ name: 'dev-room', type: 3 });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 15_000);

  it('refuses to start without a secret', async () => {
    const main = await buildMain(dir);
    const child = spawn(process.execPath, [main], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('--secret is required');
  }, 15_000);
});
