// What `podman kube play` (Debian's podman 4.3, host network, no systemd) can run, made from
// Kubernetes objects rendered by `kubectl kustomize`. The manifests stay correct for a real
// cluster; this transform does what the cluster would (scheduling replicas, Service addresses,
// secrets, probes) or removes what podman 4.3 cannot do. Every change, and only these:
//
//  1. Each Deployment becomes `replicas` Pods named <deployment>-<i> (podman 4.3 plays one pod
//     per Deployment); Services and PodDisruptionBudgets are not played.
//  2. Every pod gets hostNetwork: true and loses its containers' `ports` (podman 4.3 refuses
//     them on the host network); each container port of each pod gets its own free host port.
//  3. In container command, args and env values and in the pod's own copy of each ConfigMap it
//     mounts (<configmap>-<pod>, since replicas need different ports): `<service>:<port>` of a
//     Service becomes `127.0.0.1:<host port>` of the one pod behind it (no cluster DNS or
//     ClusterIP here); `0.0.0.0` becomes `127.0.0.1` (tests bind loopback only); a number equal
//     to one of the pod's own container ports becomes that port's host port.
//  4. `fieldRef: status.podIP` becomes the value 127.0.0.1 (the address of every pod here),
//     `fieldRef: metadata.name` the pod's name.
//  5. Secrets become podman secrets (`secrets`, created by the caller; podman 4.3 reads the
//     JSON map form) and ConfigMaps are handed to podman as separate files (`configMaps`).
//  6. Probes are removed and returned (`probes`): podman 4.3 runs an httpGet probe as `curl`
//     inside the container (none of these images has curl) and runs health checks only from
//     systemd timers (none here). The caller checks each probe's endpoint from the host, as
//     the kubelet would.
//  7. Images are replaced from `images` (locally built ones); `command` there stands in for the
//     replaced image's entrypoint.
//  8. A Secret volume becomes a ConfigMap volume with the Secret's data (podman 4.3 crashes on
//     Secret volumes: nil pointer in VolumeFromSecret).
//  9. A ConfigMap key mounted with subPath becomes a hostPath file holding the pod's rewritten
//     copy of that key (`files`, written by the caller; podman 4.3 ignores subPath and mounts a
//     folder where the file should be).
// 10. emptyDir volumes are renamed <pod>-<volume> (podman 4.3 makes each a named volume of the
//     volume's name, which pods with a volume of the same name would share).
// 11. `$(VAR)` in env values (from the variables before it), command and args is expanded, as
//     the kubelet does (podman 4.3 passes it through unexpanded).
import path from 'node:path';

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects are free-form JSON here */

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; [key: string]: any };
  [key: string]: any;
}

export interface ImageSubstitute {
  image: string;
  /** Entrypoint of the replaced image, for containers that give no command of their own. */
  command?: string[];
}

export interface Probe {
  pod: string;
  container: string;
  kind: 'startup' | 'liveness' | 'readiness';
  /** Host port the probe targets (after rule 3). */
  port: number;
  /** Path of an httpGet probe; undefined for tcpSocket. */
  path?: string;
}

export interface KubePlay {
  /** kind: Pod objects, for one kube play file. */
  pods: KubeObject[];
  /** kind: ConfigMap objects (per-pod copies), one `--configmap` file each. */
  configMaps: KubeObject[];
  /** name -> key -> base64 value, for `podman secret create`. */
  secrets: Record<string, Record<string, string>>;
  /** Host files for rule 9. */
  files: Array<{ path: string; content: string }>;
  /** Names of the podman volumes the pods create (ConfigMap copies, emptyDirs), for removal. */
  volumes: string[];
  /** pod name -> container port name (or number) -> host port. */
  ports: Record<string, Record<string, number>>;
  probes: Probe[];
}

const PROBES = [
  ['startupProbe', 'startup'],
  ['livenessProbe', 'liveness'],
  ['readinessProbe', 'readiness'],
] as const;

function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** The kubelet's `$(VAR)` expansion: `$$` is a literal `$`, an unknown variable stays as written. */
function expandVars(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return '$';
    return env[name] ?? match;
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Transforms `objects` (rendered manifests plus the Secrets/ConfigMaps an admin creates). */
export async function toKubePlay(
  objects: KubeObject[],
  images: Record<string, ImageSubstitute>,
  freePort: () => Promise<number>,
  hostDir: string,
): Promise<KubePlay> {
  const clone = <T>(value: T): T => structuredClone(value);
  const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o]));
  const services = objects.filter((o) => o.kind === 'Service');
  const secrets: KubePlay['secrets'] = {};
  for (const secret of objects.filter((o) => o.kind === 'Secret')) {
    const data: Record<string, string> = { ...(secret.data ?? {}) };
    for (const [key, value] of Object.entries<string>(secret.stringData ?? {})) data[key] = Buffer.from(value).toString('base64');
    secrets[secret.metadata.name] = data;
  }

  // Rule 1 and 2: pods and their host ports.
  const pods: KubeObject[] = [];
  const ports: KubePlay['ports'] = {};
  const containerPorts = new Map<string, Array<{ name?: string; containerPort: number }>>();
  for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
    for (let i = 0; i < (deployment.spec.replicas ?? 1); i++) {
      const template = clone(deployment.spec.template);
      const name = `${deployment.metadata.name}-${i}`;
      const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { ...template.metadata, name }, spec: template.spec };
      const own = pod.spec.containers.flatMap((c: any) => c.ports ?? []);
      containerPorts.set(name, own);
      ports[name] = {};
      for (const port of own) {
        const host = await freePort();
        ports[name][port.name ?? String(port.containerPort)] = host;
        ports[name][String(port.containerPort)] = host;
      }
      pods.push(pod);
    }
  }

  /** Host port of container port `port` (name or number) of `pod`. */
  const hostPort = (pod: string, port: string | number): number => {
    const found = ports[pod]?.[String(port)];
    if (found === undefined) throw new Error(`pod ${pod} has no container port ${port}`);
    return found;
  };
  // Rule 3: `<service>:<port>` -> the one pod behind it.
  const serviceAddresses = new Map<string, string>();
  for (const service of services) {
    const behind = pods.filter((p) => selects(service.spec.selector, p.metadata.labels));
    for (const port of service.spec.ports ?? []) {
      const key = `${service.metadata.name}:${port.port}`;
      // A Service in front of several pods cannot be one loopback address; it must not be used.
      serviceAddresses.set(key, behind.length === 1 ? `127.0.0.1:${hostPort(behind[0]!.metadata.name, port.targetPort ?? port.port)}` : `unresolvable-${key}`);
    }
  }

  const outConfigMaps: KubeObject[] = [];
  const files: KubePlay['files'] = [];
  const probes: Probe[] = [];
  for (const pod of pods) {
    const podName = pod.metadata.name;
    const ownPorts = containerPorts.get(podName)!.map((p) => String(p.containerPort));
    const pattern = new RegExp(
      [
        ...[...serviceAddresses.keys()].sort((a, b) => b.length - a.length).map((key) => `(?<![\\w.-])${escape(key)}(?!\\d)`),
        '(?<![\\d.])0\\.0\\.0\\.0(?![\\d.])',
        ...ownPorts.map((port) => `(?<![\\w.])${port}(?![\\w])`),
      ].join('|'),
      'g',
    );
    const rewrite = (text: string): string =>
      text.replace(pattern, (match) => {
        if (match === '0.0.0.0') return '127.0.0.1';
        return serviceAddresses.get(match) ?? String(hostPort(podName, match));
      });

    pod.spec.hostNetwork = true;
    for (const container of pod.spec.containers) {
      // Rule 6: probes, resolved to host ports, for the caller.
      for (const [field, kind] of PROBES) {
        const probe = container[field];
        if (probe === undefined) continue;
        delete container[field];
        if (probe.httpGet) probes.push({ pod: podName, container: container.name, kind, port: hostPort(podName, probe.httpGet.port), path: probe.httpGet.path ?? '/' });
        else if (probe.tcpSocket) probes.push({ pod: podName, container: container.name, kind, port: hostPort(podName, probe.tcpSocket.port) });
        else throw new Error(`${podName}/${container.name}: only httpGet and tcpSocket probes are handled`);
      }
      delete container.ports;
      // Rule 7.
      const substitute = images[container.image];
      if (substitute === undefined) throw new Error(`no local image for ${container.image}`);
      container.image = substitute.image;
      if (container.command === undefined && substitute.command) container.command = substitute.command;
      container.imagePullPolicy = 'Never';
      if (container.command) container.command = container.command.map(rewrite);
      if (container.args) container.args = container.args.map(rewrite);
      // Rule 11 needs the values in order: a variable sees only those before it.
      const literalEnv: Record<string, string> = {};
      for (const env of container.env ?? []) {
        if (env.value !== undefined) env.value = expandVars(rewrite(env.value), literalEnv);
        // Rule 4.
        const field = env.valueFrom?.fieldRef?.fieldPath;
        if (field === 'status.podIP' || field === 'metadata.name') {
          delete env.valueFrom;
          env.value = field === 'status.podIP' ? '127.0.0.1' : podName;
        }
        if (env.value !== undefined) literalEnv[env.name] = env.value;
      }
      if (container.command) container.command = container.command.map((c: string) => expandVars(c, literalEnv));
      if (container.args) container.args = container.args.map((a: string) => expandVars(a, literalEnv));
    }
    // Rule 8: a Secret volume becomes a ConfigMap volume with the Secret's (decoded) data.
    for (const volume of pod.spec.volumes ?? []) {
      if (!volume.secret) continue;
      const data = secrets[volume.secret.secretName];
      if (data === undefined) throw new Error(`${podName}: no Secret ${volume.secret.secretName}`);
      const name = `${volume.secret.secretName}-secret`;
      configMaps.set(name, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')])) });
      volume.configMap = { name, ...(volume.secret.items ? { items: volume.secret.items } : {}) };
      delete volume.secret;
    }
    // Rule 9: a ConfigMap key mounted with subPath becomes a hostPath file.
    for (const container of pod.spec.containers) {
      for (const mount of container.volumeMounts ?? []) {
        if (mount.subPath === undefined) continue;
        const index = pod.spec.volumes.findIndex((v: any) => v.name === mount.name);
        const source = configMaps.get(pod.spec.volumes[index]?.configMap?.name);
        const value = source?.data?.[mount.subPath];
        if (value === undefined) throw new Error(`${podName}: subPath ${mount.subPath} is not a ConfigMap key`);
        const file = path.join(hostDir, `${podName}-${container.name}-${mount.subPath}`);
        files.push({ path: file, content: rewrite(value) });
        pod.spec.volumes[index] = { name: mount.name, hostPath: { path: file, type: 'File' } };
        delete mount.subPath;
      }
    }
    // Rule 10: podman 4.3 makes an emptyDir a named volume of the volume's name, shared by every
    // pod with a volume of that name; each pod gets its own.
    for (const volume of pod.spec.volumes ?? []) {
      if (!volume.emptyDir) continue;
      const name = `${podName}-${volume.name}`;
      for (const container of pod.spec.containers) for (const mount of container.volumeMounts ?? []) if (mount.name === volume.name) mount.name = name;
      volume.name = name;
    }
    for (const volume of pod.spec.volumes ?? []) {
      if (!volume.configMap) continue;
      const source = configMaps.get(volume.configMap.name);
      if (source === undefined) throw new Error(`${podName}: no ConfigMap ${volume.configMap.name}`);
      const copy = clone(source);
      copy.metadata = { name: `${source.metadata.name}-${podName}` };
      copy.data = Object.fromEntries(Object.entries<string>(copy.data ?? {}).map(([key, value]) => [key, rewrite(value)]));
      outConfigMaps.push(copy);
      volume.configMap.name = copy.metadata.name;
    }
  }
  const volumes = pods.flatMap((pod) => (pod.spec.volumes ?? []).filter((v: any) => !v.hostPath).map((v: any) => (v.configMap ? v.configMap.name : v.name)));
  return { pods, configMaps: outConfigMaps, secrets, files, volumes, ports, probes };
}
