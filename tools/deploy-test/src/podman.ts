import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Repository root (this file is tools/deploy-test/src/podman.ts). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const PODMAN_SH = path.join(REPO_ROOT, 'tools/deploy-test/podman.sh');
const BASE_IMAGE_SH = path.join(REPO_ROOT, 'tools/deploy-test/make-base-image.sh');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (bounded by timeoutMs), never throws for a non-zero exit. */
export function run(file: string, args: string[], opts: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stderr.slice(-4000)}`));
          return;
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** podman with the tests' containers.conf and storage in .cache/deploy (see podman.sh). */
export function podman(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return run(PODMAN_SH, args, { timeoutMs });
}

/** Like podman(), but a non-zero exit is an error carrying podman's output. */
export async function podmanOk(args: string[], timeoutMs = 60_000): Promise<string> {
  const result = await podman(args, timeoutMs);
  if (result.code !== 0) {
    throw new Error(`podman ${args.join(' ')} exited ${result.code}\n${(result.stderr + result.stdout).slice(-4000)}`);
  }
  return result.stdout;
}

/**
 * The local Node 20 / Debian bookworm base image (debootstrap + the host's node), built once
 * and then taken from the cache. The first build downloads Debian packages from the apt mirror.
 */
export async function ensureBaseImage(): Promise<string> {
  return baseImage([]);
}

/**
 * The base image plus the host's npm, laid out as in node:20-bookworm-slim (and the host's
 * extra CA file, if its Node has one): the stand-in for building with APP_FROM=source.
 */
export async function ensureNpmBaseImage(): Promise<string> {
  return baseImage(['--npm']);
}

async function baseImage(args: string[]): Promise<string> {
  const result = await run(BASE_IMAGE_SH, args, { timeoutMs: 8 * 60_000 });
  if (result.code !== 0) throw new Error(`make-base-image.sh ${args.join(' ')} exited ${result.code}\n${result.stderr.slice(-4000)}`);
  return result.stdout.trim().split('\n').pop()!;
}

/** sha256 over the paths and contents of `paths` (files or folders, below REPO_ROOT) and `extra`. */
function inputsDigest(paths: string[], extra: string): string {
  const hash = createHash('sha256').update(extra);
  const add = (relative: string): void => {
    const full = path.join(REPO_ROOT, relative);
    if (statSync(full).isDirectory()) {
      for (const entry of readdirSync(full).sort()) add(path.join(relative, entry));
    } else {
      hash.update(`\0${relative}\0`).update(readFileSync(full));
    }
  };
  for (const p of paths) add(p);
  return hash.digest('hex');
}

/** Apps with an image under deploy/<app>/. */
export type DeployApp = 'signaling' | 'bench-client' | 'mcu-proxy';

/**
 * Builds deploy/<app>/Dockerfile the way CI does: the app is staged on the host
 * (deploy/stage-app.mjs; the bundle comes from the Nx build this project depends on) and
 * copied in with APP_FROM=staged, on the local base image. Docker format, so the
 * HEALTHCHECK is kept (OCI image configs have no health check). Cached layers are reused.
 */
export async function buildAppImage(app: DeployApp, baseImage: string): Promise<string> {
  const staged = await run(process.execPath, ['deploy/stage-app.mjs', `apps/${app}`], { timeoutMs: 60_000 });
  if (staged.code !== 0) throw new Error(`stage-app.mjs apps/${app} exited ${staged.code}\n${staged.stderr}`);
  const image = `localhost/talk-${app}:test`;
  // Several suites use the same image: an image built from the same inputs is reused as is
  // (a cached podman build still costs ~10 s here).
  const inputs = inputsDigest([`dist/deploy/apps/${app}`, `deploy/${app}/Dockerfile`, `deploy/${app}/Dockerfile.dockerignore`], baseImage);
  const existing = await podman(['image', 'inspect', '--format={{index .Labels "talk.deploy-test.inputs"}}', image]);
  if (existing.code === 0 && existing.stdout.trim() === inputs) return image;
  await podmanOk(
    [
      'build',
      `--label=talk.deploy-test.inputs=${inputs}`,
      '--format=docker',
      `--file=deploy/${app}/Dockerfile`,
      `--ignorefile=deploy/${app}/Dockerfile.dockerignore`,
      `--build-arg=NODE_IMAGE=${baseImage}`,
      '--build-arg=APP_FROM=staged',
      `--tag=${image}`,
      '.',
    ],
    5 * 60_000,
  );
  // Superseded layers of earlier runs would pile up in .cache/deploy otherwise.
  await podman(['image', 'prune', '--force'], 60_000);
  return image;
}

/** `podman build` of deploy/<app>/Dockerfile with APP_FROM=source on `npmBase`. */
function buildFromSource(app: DeployApp, npmBase: string, extra: string[]): Promise<string> {
  return podmanOk(
    [
      'build',
      // npm ci fetches from the npm registry.
      '--network=host',
      '--format=docker',
      `--file=deploy/${app}/Dockerfile`,
      `--ignorefile=deploy/${app}/Dockerfile.dockerignore`,
      `--build-arg=NODE_IMAGE=${npmBase}`,
      // buildah 1.28 needs the default spelled out (docs/deployment.md, section 2).
      '--build-arg=APP_FROM=source',
      ...extra,
      '.',
    ],
    10 * 60_000,
  );
}

/**
 * Builds and tags the Dockerfiles' "deps" stage (`npm ci` of the workspace manifests; the
 * same in the three Dockerfiles, so one build serves them all). Untagged, its layer would go
 * with the next `image prune` and every build would install again.
 */
export async function buildWorkspaceDepsImage(npmBase: string): Promise<string> {
  const image = 'localhost/talk-workspace-deps:source';
  await buildFromSource('signaling', npmBase, ['--target=deps', `--tag=${image}`]);
  return image;
}

/**
 * Builds deploy/<app>/Dockerfile the way users do: APP_FROM=source, so `npm ci`, the bundle
 * and the staging run inside the build, on `npmBase` (ensureNpmBaseImage). After
 * buildWorkspaceDepsImage the install comes from the layer cache.
 */
export async function buildAppImageFromSource(app: DeployApp, npmBase: string): Promise<string> {
  const image = `localhost/talk-${app}:source`;
  await buildFromSource(app, npmBase, [`--tag=${image}`]);
  await podman(['image', 'prune', '--force'], 60_000);
  return image;
}

/**
 * An image of Debian packages (deploy/compose/debian-package.Dockerfile on the local base;
 * apt fetches from the Debian mirror during the first build, later builds come from the layer
 * cache), tagged localhost/<name>:test.
 */
export async function buildDebianPackageImage(baseImage: string, packages: string, name: string): Promise<string> {
  const image = `localhost/${name}:test`;
  await podmanOk(
    [
      'build',
      '--network=host',
      '--file=deploy/compose/debian-package.Dockerfile',
      `--build-arg=BASE_IMAGE=${baseImage}`,
      `--build-arg=PACKAGES=${packages}`,
      `--tag=${image}`,
      'deploy/compose',
    ],
    8 * 60_000,
  );
  return image;
}

/** One image with Debian's nats-server, janus and coturn for the compose stack (and Janus and NATS of the kube play stack). */
export function buildComposeDebianImage(baseImage: string): Promise<string> {
  return buildDebianPackageImage(baseImage, 'janus nats-server coturn', 'talk-compose-debian');
}

export interface Container {
  name: string;
  /** stdout + stderr so far. */
  logs(): Promise<string>;
  /** `podman stop` (SIGTERM, SIGKILL after timeoutS); resolves with the exit code. */
  stop(timeoutS?: number): Promise<number>;
  /** Removes the container (forced); idempotent. */
  remove(): Promise<void>;
}

export interface RunOptions {
  /** host path -> container path, mounted read-only. */
  mounts?: Record<string, string>;
  env?: Record<string, string>;
  args?: string[];
}

/** Starts a detached container on the host network (tests bind 127.0.0.1 only). */
export async function startContainer(image: string, opts: RunOptions = {}): Promise<Container> {
  const name = `talk-test-${randomBytes(4).toString('hex')}`;
  const mounts = Object.entries(opts.mounts ?? {}).flatMap(([host, inner]) => ['--volume', `${host}:${inner}:ro`]);
  const env = Object.entries(opts.env ?? {}).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
  await podmanOk(['run', '--detach', '--name', name, '--network=host', ...mounts, ...env, image, ...(opts.args ?? [])]);
  return {
    name,
    async logs() {
      const result = await podman(['logs', name]);
      return result.stdout + result.stderr;
    },
    async stop(timeoutS = 15) {
      await podmanOk(['stop', `--time=${timeoutS}`, name], (timeoutS + 30) * 1000);
      return Number((await podmanOk(['inspect', '--format={{.State.ExitCode}}', name])).trim());
    },
    async remove() {
      await podman(['rm', '--force', '--ignore', name]);
    },
  };
}
