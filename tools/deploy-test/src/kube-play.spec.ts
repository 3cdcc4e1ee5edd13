// The transform of kube-play.ts on a small hand-made set of objects: each rule, without podman.
import { toKubePlay, type KubeObject } from './kube-play';

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects are free-form JSON here */

const labels = { app: 'web' };

function objects(): KubeObject[] {
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'server',
                image: 'web:1',
                args: ['--listen', '0.0.0.0:8080', '--db', 'db:5432', '--self', '$(POD_IP):9090', '--literal', '$$(POD_IP)', '--unknown', '$(NOPE)'],
                ports: [
                  { name: 'http', containerPort: 8080 },
                  { name: 'grpc', containerPort: 9090 },
                ],
                env: [
                  { name: 'EARLY', value: '$(POD_IP)' },
                  { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'SELF', value: '$(POD_NAME) at $(POD_IP):9090' },
                  { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'web-secret', key: 'token' } } },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
                livenessProbe: { tcpSocket: { port: 9090 } },
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/web/web.conf', subPath: 'web.conf' },
                  { name: 'key', mountPath: '/etc/web-key' },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: 'web-config' } },
              { name: 'key', secret: { secretName: 'web-secret' } },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'db' },
      spec: {
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: { containers: [{ name: 'db', image: 'db:1', ports: [{ name: 'sql', containerPort: 5432 }] }] },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { selector: { app: 'db' }, ports: [{ port: 5432, targetPort: 'sql' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: labels, ports: [{ port: 80, targetPort: 'http' }] } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config' }, data: { 'web.conf': 'listen = 0.0.0.0:8080\ndb = db:5432\nweb = web:80\nother = 18080\n' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-secret' }, stringData: { token: 'sesame' } },
  ];
}

describe('toKubePlay', () => {
  let next: number;
  const freePort = async (): Promise<number> => next++;
  const images = { 'web:1': { image: 'localhost/web:test' }, 'db:1': { image: 'localhost/db:test', command: ['db-server'] } };
  const transform = () => toKubePlay(objects(), images, freePort, '/host');
  beforeEach(() => {
    next = 40000;
  });

  it('makes one host-network pod per replica, each container port its own host port', async () => {
    const play = await transform();
    expect(play.pods.map((p) => p.metadata.name)).toEqual(['web-0', 'web-1', 'db-0']);
    expect(play.ports).toEqual({
      'web-0': { http: 40000, '8080': 40000, grpc: 40001, '9090': 40001 },
      'web-1': { http: 40002, '8080': 40002, grpc: 40003, '9090': 40003 },
      'db-0': { sql: 40004, '5432': 40004 },
    });
    for (const pod of play.pods) {
      expect(pod.spec.hostNetwork).toBe(true);
      expect(pod.spec.containers.every((c: any) => c.ports === undefined)).toBe(true);
    }
  });

  it('rewrites addresses and own ports, takes 127.0.0.1 for the pod IP and expands $(VAR) as the kubelet does', async () => {
    const play = await transform();
    const [web1] = play.pods.filter((p) => p.metadata.name === 'web-1');
    const server = web1!.spec.containers[0];
    expect(server.args).toEqual(['--listen', '127.0.0.1:40002', '--db', '127.0.0.1:40004', '--self', '127.0.0.1:40003', '--literal', '$(POD_IP)', '--unknown', '$(NOPE)']);
    expect(server.env).toEqual([
      // Only variables defined before are expanded.
      { name: 'EARLY', value: '$(POD_IP)' },
      { name: 'POD_IP', value: '127.0.0.1' },
      { name: 'POD_NAME', value: 'web-1' },
      { name: 'SELF', value: 'web-1 at 127.0.0.1:40003' },
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'web-secret', key: 'token' } } },
    ]);
    expect(server.image).toBe('localhost/web:test');
    expect(server.imagePullPolicy).toBe('Never');
    const db = play.pods.find((p) => p.metadata.name === 'db-0')!.spec.containers[0];
    expect(db.command).toEqual(['db-server']);
  });

  it('writes a subPath key as a host file with the pod\'s addresses; a Service before two pods is not an address', async () => {
    const play = await transform();
    expect(play.files.find((f) => f.path === '/host/web-1-server-web.conf')?.content).toBe('listen = 127.0.0.1:40002\ndb = 127.0.0.1:40004\nweb = unresolvable-web:80\nother = 18080\n');
    const web1 = play.pods.find((p) => p.metadata.name === 'web-1')!;
    expect(web1.spec.volumes.find((v: any) => v.name === 'config')).toEqual({ name: 'config', hostPath: { path: '/host/web-1-server-web.conf', type: 'File' } });
    expect(web1.spec.containers[0].volumeMounts[0]).toEqual({ name: 'config', mountPath: '/etc/web/web.conf' });
  });

  it('turns a Secret volume into a per-pod ConfigMap, Secrets into podman secrets, emptyDirs into per-pod volumes', async () => {
    const play = await transform();
    expect(play.secrets).toEqual({ 'web-secret': { token: Buffer.from('sesame').toString('base64') } });
    const web0 = play.pods.find((p) => p.metadata.name === 'web-0')!;
    expect(web0.spec.volumes.find((v: any) => v.name === 'key')).toEqual({ name: 'key', configMap: { name: 'web-secret-secret-web-0' } });
    expect(play.configMaps.find((c) => c.metadata.name === 'web-secret-secret-web-0')?.data).toEqual({ token: 'sesame' });
    expect(web0.spec.volumes.find((v: any) => v.emptyDir)?.name).toBe('web-0-tmp');
    expect(web0.spec.containers[0].volumeMounts[2]).toEqual({ name: 'web-0-tmp', mountPath: '/tmp' });
    expect(play.volumes).toEqual(expect.arrayContaining(['web-secret-secret-web-0', 'web-0-tmp', 'web-secret-secret-web-1', 'web-1-tmp']));
  });

  it('removes the probes and hands them back on host ports', async () => {
    const play = await transform();
    expect(play.pods.every((p) => p.spec.containers.every((c: any) => c.readinessProbe === undefined && c.livenessProbe === undefined))).toBe(true);
    expect(play.probes.filter((p) => p.pod === 'web-1')).toEqual([
      { pod: 'web-1', container: 'server', kind: 'liveness', port: 40003 },
      { pod: 'web-1', container: 'server', kind: 'readiness', port: 40002, path: '/ready' },
    ]);
  });

  it('refuses an image it has no local stand-in for', async () => {
    await expect(toKubePlay(objects(), { 'web:1': images['web:1'] }, freePort, '/host')).rejects.toThrow('no local image for db:1');
  });
});
