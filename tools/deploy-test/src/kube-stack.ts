import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { freePort, waitFor } from '@talk-signaling/testing';
import type { FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { buildAppImage, buildComposeDebianImage, buildDebianPackageImage, ensureBaseImage, podman, podmanOk, run } from './podman';
import { toKubePlay, type KubeObject, type KubePlay, type Probe } from './kube-play';
import { makeProxyTokenKey } from './proxy-conf';

export const STACK_DIR = 'deploy/stack/k8s';

export interface KubeStack {
  /** The rendered overlay, as `kubectl kustomize` printed it. */
  rendered: KubeObject[];
  play: KubePlay;
  /** `http://127.0.0.1:<host port>/` of a pod's container port (name). */
  url(pod: string, port: string): string;
  /** Whether a probe's endpoint answers now (httpGet: 200; tcpSocket: accepts). */
  probeOk(probe: Probe): Promise<boolean>;
  logs(pod: string, container: string): Promise<string>;
  /** podman's state of every container (`<pod>-<container>` -> e.g. running, exited). */
  containerStates(): Promise<Record<string, string>>;
  /** Stops a pod as the kubelet would: SIGTERM to every container, SIGKILL after 15 s. */
  stopPod(pod: string): Promise<void>;
  exitCode(pod: string, container: string): Promise<number>;
  down(): Promise<void>;
}

/** `kubectl kustomize dir`, parsed. */
export async function renderKustomization(dir: string): Promise<KubeObject[]> {
  const out = await run('kubectl', ['kustomize', dir], { timeoutMs: 60_000 });
  if (out.code !== 0) throw new Error(`kubectl kustomize ${dir} exited ${out.code}: ${out.stderr}`);
  return parseAllDocuments(out.stdout).map((doc) => doc.toJSON() as KubeObject);
}

/** The Secrets and the ConfigMap the overlay's kustomization.yaml says to create before applying it. */
function adminObjects(dir: string, backendSecret: string): KubeObject[] {
  const key = makeProxyTokenKey(dir, 'server1');
  const random = (): string => randomBytes(16).toString('hex');
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'talk-signaling-secrets' },
      stringData: { hashkey: random(), blockkey: random(), internalsecret: random(), 'backend-secret': backendSecret },
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'talk-signaling-proxy-token' }, stringData: { 'proxy-token.key': readFileSync(key.privateKeyFile, 'utf8') } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'talk-mcu-proxy-tokens' }, data: { 'server1.pub': readFileSync(key.publicKeyFile, 'utf8') } },
  ];
}

/** A probe's endpoint from the host, once. */
async function probeOk(probe: Probe): Promise<boolean> {
  if (probe.path !== undefined) {
    try {
      return (await fetch(`http://127.0.0.1:${probe.port}${probe.path}`, { signal: AbortSignal.timeout(3_000) })).status === 200;
    } catch {
      return false;
    }
  }
  return new Promise((resolve) => {
    const socket = connect(probe.port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * Renders deploy/stack/k8s, adds what an admin creates first (the two Secrets, the proxy
 * tokens ConfigMap, the Nextcloud URL in server.conf), transforms it for podman 4.3
 * (kube-play.ts) and plays it. Resolves once every readiness probe endpoint answers.
 */
export async function startKubeStack(nextcloud: FakeNextcloud): Promise<KubeStack> {
  const base = await ensureBaseImage();
  const signalingImage = await buildAppImage('signaling', base);
  const proxyImage = await buildAppImage('mcu-proxy', base);
  const debianImage = await buildComposeDebianImage(base);
  const etcdImage = await buildDebianPackageImage(base, 'etcd-server', 'talk-etcd');

  const rendered = await renderKustomization(STACK_DIR);
  const dir = mkdtempSync(path.join(tmpdir(), 'deploy-test-kube-'));
  const objects = [...structuredClone(rendered), ...adminObjects(dir, nextcloud.secret)];
  // The admin's one edit of server.conf: where Nextcloud is.
  const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'talk-signaling-config')!;
  config.data['server.conf'] = config.data['server.conf'].replace(/^urls = .*$/m, `urls = ${nextcloud.url}`);

  const play = await toKubePlay(
    objects,
    {
      'talk-signaling:latest': { image: signalingImage },
      'talk-mcu-proxy:latest': { image: proxyImage },
      'talk-janus:latest': { image: debianImage },
      'nats:2.10': { image: debianImage, command: ['nats-server'] },
      'quay.io/coreos/etcd:v3.5.17': { image: etcdImage },
    },
    freePort,
    dir,
  );
  for (const file of play.files) writeFileSync(file.path, file.content, { mode: 0o644 });
  const podsFile = path.join(dir, 'pods.yaml');
  writeFileSync(podsFile, play.pods.map((pod) => stringify(pod)).join('---\n'));
  const configMapFiles = play.configMaps.map((configMap) => {
    const file = path.join(dir, `${configMap.metadata.name}.yaml`);
    writeFileSync(file, stringify(configMap));
    return file;
  });

  const removePods = async (): Promise<void> => {
    await podman(['pod', 'rm', '--force', '--ignore', '--time=3', ...play.pods.map((pod) => pod.metadata.name)], 120_000);
    await podman(['volume', 'rm', '--force', ...play.volumes]);
    for (const name of Object.keys(play.secrets)) await podman(['secret', 'rm', name]);
  };
  const down = async (): Promise<void> => {
    await removePods();
    rmSync(dir, { recursive: true, force: true });
  };
  // A run that was killed may have left its pods and secrets behind.
  await removePods();
  for (const [name, data] of Object.entries(play.secrets)) {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(data), { mode: 0o600 });
    await podmanOk(['secret', 'create', name, file]);
  }

  const stack: KubeStack = {
    rendered,
    play,
    url: (pod, port) => `http://127.0.0.1:${play.ports[pod]![port]}/`,
    probeOk,
    logs: async (pod, container) => {
      const result = await podman(['logs', `${pod}-${container}`]);
      return result.stdout + result.stderr;
    },
    stopPod: async (pod) => {
      await podmanOk(['pod', 'stop', '--time=15', pod], 60_000);
    },
    exitCode: async (pod, container) => Number((await podmanOk(['container', 'inspect', '--format', '{{.State.ExitCode}}', `${pod}-${container}`])).trim()),
    containerStates: async () => {
      const names = play.pods.flatMap((pod) => pod.spec.containers.map((c: { name: string }) => `${pod.metadata.name}-${c.name}`));
      const out = await podmanOk(['container', 'inspect', '--format', '{{.Name}} {{.State.Status}}', ...names]);
      return Object.fromEntries(out.trim().split('\n').map((line) => line.split(' ') as [string, string]));
    },
    down,
  };
  try {
    await podmanOk(['kube', 'play', ...configMapFiles.flatMap((file) => ['--configmap', file]), podsFile], 180_000);
    for (const probe of play.probes.filter((p) => p.kind === 'readiness')) {
      await waitFor(() => probeOk(probe), { timeout: 60_000, name: `readiness of ${probe.pod}/${probe.container}` });
    }
  } catch (error) {
    const ps = await podman(['ps', '--all', '--format', '{{.Names}} {{.Status}}']);
    const logs = await Promise.all(play.pods.flatMap((pod) => pod.spec.containers.map(async (c: { name: string }) => `--- ${pod.metadata.name}/${c.name}\n${(await stack.logs(pod.metadata.name, c.name)).slice(-1500)}`)));
    await down();
    throw new Error(`${(error as Error).message}\n${ps.stdout}\n${logs.join('\n')}`);
  }
  return stack;
}
