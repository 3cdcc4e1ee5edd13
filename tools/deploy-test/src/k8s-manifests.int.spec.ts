// The Kubernetes manifests under deploy/<app>/k8s* rendered by `kubectl kustomize` (no cluster
// needed) and validated offline against the Kubernetes and Prometheus Operator schemas
// (validate-k8s.mjs), then checked for what the schemas cannot see: selectors that match, probes
// on the right endpoints, ports and config that agree.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** Files a kustomization lists under patchesStrategicMerge (partial objects, not manifests). */
function patchFiles(dir: string): string[] {
  const text = readFileSync(path.join(REPO_ROOT, dir, 'kustomization.yaml'), 'utf8');
  const block = /^patchesStrategicMerge:\n((?: {2}- .*\n)+)/m.exec(text)?.[1] ?? '';
  return [...block.matchAll(/- (\S+)/g)].map((match) => match[1]!);
}

/** Manifest files (not kustomization.yaml, not patches) of those folders, examples included. */
function manifestFiles(): string[] {
  return kustomizations().flatMap((dir) =>
    readdirSync(path.join(REPO_ROOT, dir))
      .filter((file) => /\.ya?ml(\.example)?$/.test(file) && file !== 'kustomization.yaml' && !patchFiles(dir).includes(file))
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

  it('has a base per app, a Prometheus Operator variant per service and the stack overlay', () => {
    expect(dirs).toEqual([
      'deploy/bench-client/k8s',
      'deploy/mcu-proxy/k8s',
      'deploy/mcu-proxy/k8s-operator',
      'deploy/signaling/k8s',
      'deploy/signaling/k8s-operator',
      'deploy/stack/k8s',
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
    else if (dir.endsWith('stack/k8s')) expect(kinds).toEqual([...Array(4).fill('ConfigMap'), ...Array(5).fill('Deployment'), 'PodDisruptionBudget', 'PodDisruptionBudget', ...Array(5).fill('Service')]);
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

  describe('deploy/stack/k8s', () => {
    let objects: Validated[];
    const named = (kind: string, name: string): any => only(objects, kind).find((o) => o.metadata.name === name);
    /** `key = value` of an INI text's `[section]`. */
    const ini = (text: string, section: string, key: string): string | undefined => {
      const body = text.split(/^\[/m).find((part) => part.startsWith(`${section}]`)) ?? '';
      return new RegExp(`^${key} = (.*)$`, 'm').exec(body)?.[1]?.trim();
    };
    let serverConf: string;

    beforeAll(async () => {
      objects = await render('deploy/stack/k8s');
      serverConf = named('ConfigMap', 'talk-signaling-config').data['server.conf'];
    });

    it('runs two signaling replicas that share the secrets of one Secret', () => {
      const deployment = named('Deployment', 'talk-signaling');
      expect(deployment.spec.replicas).toBe(2);
      expect(ini(serverConf, 'sessions', 'hashkey')).toBe('$(SIGNALING_HASHKEY)');
      const env = deployment.spec.template.spec.containers[0].env.filter((e: any) => e.valueFrom);
      expect(new Set(env.map((e: any) => e.valueFrom.secretKeyRef.name))).toEqual(new Set(['talk-signaling-secrets']));
    });

    it('points [nats] url at the NATS Service', () => {
      const nats = named('Service', 'talk-nats');
      expect(ini(serverConf, 'nats', 'url')).toBe(`nats://talk-nats:${nats.spec.ports[0].port}`);
      expect(selects(nats.spec.selector, named('Deployment', 'talk-nats').spec.template.metadata.labels)).toBe(true);
    });

    it('finds the gRPC peers in etcd, where a sidecar of each replica registers its pod address and gRPC port', () => {
      const pod = named('Deployment', 'talk-signaling').spec.template;
      const grpcPort = pod.spec.containers[0].ports.find((p: any) => p.name === 'grpc');
      expect(ini(serverConf, 'grpc', 'listen')).toBe(`0.0.0.0:${grpcPort.containerPort}`);
      expect(ini(serverConf, 'grpc', 'targettype')).toBe('etcd');
      const etcd = named('Service', 'talk-etcd');
      expect(selects(etcd.spec.selector, named('Deployment', 'talk-etcd').spec.template.metadata.labels)).toBe(true);
      const etcdUrl = `http://talk-etcd:${etcd.spec.ports[0].port}`;
      expect(ini(serverConf, 'etcd', 'endpoints')).toBe(etcdUrl);
      const sidecar = pod.spec.containers.find((c: any) => c.name === 'grpc-registration');
      expect(sidecar.image).toBe(pod.spec.containers[0].image);
      const env = Object.fromEntries(sidecar.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
      expect(env).toMatchObject({
        POD_IP: { fieldRef: { fieldPath: 'status.podIP' } },
        POD_NAME: { fieldRef: { fieldPath: 'metadata.name' } },
        GRPC_ADDRESS: `$(POD_IP):${grpcPort.containerPort}`,
        GRPC_PREFIX: ini(serverConf, 'grpc', 'targetprefix'),
        ETCD_ENDPOINTS: etcdUrl,
      });
      // The script comes from the generated ConfigMap, mounted where the command runs it.
      const mount = sidecar.volumeMounts.find((m: any) => sidecar.command[1].startsWith(`${m.mountPath}/`));
      const volume = pod.spec.volumes.find((v: any) => v.name === mount.name);
      const script = named('ConfigMap', volume.configMap.name).data[path.basename(sidecar.command[1])];
      expect(script).toBe(readFileSync(path.join(REPO_ROOT, 'deploy/stack/k8s/grpc-register.js'), 'utf8'));
    });

    it('uses the MCU proxy Service with a token id the proxy knows and a key file from the mounted Secret', () => {
      const proxyService = named('Service', 'talk-mcu-proxy');
      expect(ini(serverConf, 'mcu', 'type')).toBe('proxy');
      expect(ini(serverConf, 'mcu', 'url')).toBe(`http://talk-mcu-proxy:${proxyService.spec.ports[0].port}/`);
      const tokenId = ini(serverConf, 'mcu', 'token_id')!;
      expect(ini(named('ConfigMap', 'talk-mcu-proxy-config').data['proxy.conf'], 'tokens', tokenId)).toBeDefined();
      const pod = named('Deployment', 'talk-signaling').spec.template.spec;
      const mount = pod.containers[0].volumeMounts.find((m: any) => ini(serverConf, 'mcu', 'token_key')!.startsWith(`${m.mountPath}/`));
      expect(pod.volumes.find((v: any) => v.name === mount?.name)?.secret?.secretName).toBe('talk-signaling-proxy-token');
    });
  });
});
