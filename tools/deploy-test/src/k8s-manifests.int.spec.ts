// The Kubernetes manifests under deploy/<app>/k8s* rendered by `kubectl kustomize` (no cluster
// needed) and validated offline against the Kubernetes and Prometheus Operator schemas
// (validate-k8s.mjs), then checked for what the schemas cannot see: selectors that match, probes
// on the right endpoints, ports and config that agree.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, run } from './podman';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are free-form JSON here */
interface Validated {
  file: string;
  kind: string;
  name: string;
  error?: string;
  object: any;
}

const DEPLOY = path.join(REPO_ROOT, 'deploy');
const VALIDATOR = path.join(REPO_ROOT, 'tools/deploy-test/validate-k8s.mjs');

/** deploy/<app>/<dir> folders holding a kustomization.yaml, relative to the repository root. */
function kustomizations(): string[] {
  return readdirSync(DEPLOY, { withFileTypes: true })
    .filter((app) => app.isDirectory())
    .flatMap((app) =>
      readdirSync(path.join(DEPLOY, app.name), { withFileTypes: true })
        .filter((dir) => dir.isDirectory() && existsSync(path.join(DEPLOY, app.name, dir.name, 'kustomization.yaml')))
        .map((dir) => `deploy/${app.name}/${dir.name}`),
    )
    .sort();
}

/** Manifest files (not kustomization.yaml) of those folders, examples included. */
function manifestFiles(): string[] {
  return kustomizations().flatMap((dir) =>
    readdirSync(path.join(REPO_ROOT, dir))
      .filter((file) => /\.ya?ml(\.example)?$/.test(file) && file !== 'kustomization.yaml')
      .map((file) => `${dir}/${file}`),
  );
}

async function validate(args: string[]): Promise<Validated[]> {
  const result = await run(process.execPath, [VALIDATOR, ...args], { timeoutMs: 60_000 });
  if (result.stdout.trim() === '') throw new Error(`validate-k8s.mjs exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Validated[];
}

const rendered = new Map<string, Validated[]>();

async function render(dir: string): Promise<Validated[]> {
  const cached = rendered.get(dir);
  if (cached) return cached;
  const out = await run('kubectl', ['kustomize', dir], { timeoutMs: 60_000 });
  if (out.code !== 0) throw new Error(`kubectl kustomize ${dir} exited ${out.code}: ${out.stderr}`);
  const file = path.join(REPO_ROOT, 'dist', 'deploy-test', `${dir.replaceAll('/', '_')}.yaml`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, out.stdout);
  const objects = await validate([file]);
  rendered.set(dir, objects);
  return objects;
}

function only(objects: Validated[], kind: string): any[] {
  return objects.filter((o) => o.kind === kind).map((o) => o.object);
}

/** Whether every key/value of `selector` is among `labels`. */
function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels[key] === value);
}

describe('Kubernetes manifests', () => {
  const dirs = kustomizations();

  it('has a base per app and a Prometheus Operator variant per service', () => {
    expect(dirs).toEqual([
      'deploy/bench-client/k8s',
      'deploy/mcu-proxy/k8s',
      'deploy/mcu-proxy/k8s-operator',
      'deploy/signaling/k8s',
      'deploy/signaling/k8s-operator',
    ]);
  });

  it('every manifest file, examples included, is valid against the schemas', async () => {
    const objects = await validate(manifestFiles().map((file) => path.join(REPO_ROOT, file)));
    expect(objects.filter((o) => o.error !== undefined).map((o) => `${o.file}: ${o.kind} ${o.name}: ${o.error}`)).toEqual([]);
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ConfigMap', 'PodDisruptionBudget', 'ServiceMonitor', 'Job', 'Ingress', 'Secret']));
  });

  it.each(dirs)('%s renders with kubectl kustomize into valid objects', async (dir) => {
    const objects = await render(dir);
    expect(objects.filter((o) => o.error !== undefined).map((o) => `${o.kind} ${o.name}: ${o.error}`)).toEqual([]);
    const kinds = objects.map((o) => o.kind).sort();
    if (dir.endsWith('bench-client/k8s')) expect(kinds).toEqual(['Job']);
    else if (dir.endsWith('-operator')) expect(kinds).toEqual(['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceMonitor']);
    else expect(kinds).toEqual(['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service']);
  });

  describe.each([
    { dir: 'deploy/signaling/k8s-operator', port: 8080, confKey: 'server.conf', externalConfigMaps: [] as string[] },
    { dir: 'deploy/mcu-proxy/k8s-operator', port: 9090, confKey: 'proxy.conf', externalConfigMaps: ['talk-mcu-proxy-tokens'] },
  ])('$dir', ({ dir, port, confKey, externalConfigMaps }) => {
    let objects: Validated[];
    let deployment: any;
    let pod: any;
    let container: any;

    beforeAll(async () => {
      objects = await render(dir);
      [deployment] = only(objects, 'Deployment');
      pod = deployment.spec.template;
      [container] = pod.spec.containers;
    });

    it('probes /health for liveness and start-up and /ready for readiness, on the http port', () => {
      expect(container.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
      expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
      expect(container.startupProbe.httpGet).toEqual({ path: '/health', port: 'http' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    });

    it('requests resources, runs as the image user without privileges, and is annotated for scraping', () => {
      expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(pod.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
    });

    it('selects its pods from the Deployment, the Service and the PodDisruptionBudget', () => {
      const [service] = only(objects, 'Service');
      const [pdb] = only(objects, 'PodDisruptionBudget');
      expect(selects(deployment.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
      expect(selects(service.spec.selector, pod.metadata.labels)).toBe(true);
      expect(selects(pdb.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
      expect(service.spec.ports).toEqual([expect.objectContaining({ name: 'http', port, targetPort: 'http' })]);
    });

    it('has a ServiceMonitor that selects the Service and scrapes its http port', () => {
      const [service] = only(objects, 'Service');
      const [monitor] = only(objects, 'ServiceMonitor');
      expect(selects(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
      expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    });

    it('mounts a config from its own ConfigMap that listens on the container port', () => {
      const configMaps = only(objects, 'ConfigMap');
      const mounted = pod.spec.volumes.filter((v: any) => v.configMap).map((v: any) => v.configMap.name);
      expect(mounted.filter((name: string) => !externalConfigMaps.includes(name))).toEqual(configMaps.map((c) => c.metadata.name));
      expect(configMaps[0].data[confKey]).toMatch(new RegExp(`^listen = 0\\.0\\.0\\.0:${port}$`, 'm'));
      const image = container.image as string;
      expect(image).toMatch(/^talk-(signaling|mcu-proxy):latest$/);
    });
  });
});
