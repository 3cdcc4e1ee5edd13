import type { Backend } from '../backend/backend';
import type { ServerConfig } from '../config';
import { checkBackends, type BackendPoster } from './backend-checks';
import { checkCertificate } from './certificate-check';
import type { CheckResult, SelfCheck } from './self-check';

/** What the checks look at; each part that exists is passed (structural, no server import). */
export interface CheckedParts {
  config: Readonly<ServerConfig>;
  backends: { all(): Backend[] };
  backendClient: BackendPoster;
  bus: { readonly kind: 'loopback' | 'nats'; info(): { urls: string[]; connected: boolean } };
  etcdBackends?: { readonly state: string | undefined; readonly endpoints: readonly string[] };
  /** The other cluster nodes (gRPC), when `[grpc]` is configured. */
  clusterPeers?: () => readonly { target: string; getServerId(opts: { timeoutMs: number }): Promise<{ serverId: string; version: string }> }[];
  sfu?: { stats(): Record<string, unknown> };
  geoip?: { readonly info: { source: string; type: string; builtAt: Date } | undefined; readonly lastError: string | undefined };
}

/**
 * The checks of everything configured: one line each. A part that lands later (e.g. a new
 * dependency) adds its own `selfCheck.add(...)` here or where it is built.
 */
export function registerServerChecks(selfCheck: SelfCheck, parts: CheckedParts): void {
  const { config } = parts;
  selfCheck.add('backends', () => checkBackends(parts.backends.all(), parts.backendClient), { offline: config.backend.backendtype !== 'etcd' });
  if (config.https.listen.length > 0) {
    selfCheck.add('https', () => checkCertificate(config.https.certificate, config.https.key), { offline: true });
  }
  selfCheck.add('nats', async () => [natsResult(parts.bus)]);
  const etcd = parts.etcdBackends;
  if (etcd) selfCheck.add('etcd', async () => [etcdResult(etcd)]);
  const peers = parts.clusterPeers;
  if (peers) selfCheck.add('grpc', () => grpcResults(peers()));
  const sfu = parts.sfu;
  if (sfu) selfCheck.add('mcu', async () => [mcuResult(config, sfu.stats())]);
  const geoip = parts.geoip;
  if (geoip) selfCheck.add('geoip', async () => [geoipResult(geoip)]);
}

function natsResult(bus: CheckedParts['bus']): CheckResult {
  if (bus.kind === 'loopback') return { name: 'nats', status: 'ok', detail: 'in-process bus (nats://loopback): single node' };
  const info = bus.info();
  if (info.connected) return { name: 'nats', status: 'ok', detail: `connected (${info.urls.join(', ')})` };
  return { name: 'nats', status: 'error', detail: `not connected to ${info.urls.join(', ')}`, hint: 'check [nats] url and that nats-server runs and is reachable; the server keeps retrying' };
}

function etcdResult(etcd: NonNullable<CheckedParts['etcdBackends']>): CheckResult {
  const where = etcd.endpoints.join(', ');
  if (etcd.state === 'watching') return { name: 'etcd', status: 'ok', detail: `backends watched at ${where}` };
  return {
    name: 'etcd',
    status: 'error',
    detail: `etcd at ${where || '(no endpoint)'} does not answer (${etcd.state ?? 'not started'}); the last known backends stay in use`,
    hint: 'check [etcd] endpoints (and the TLS files, if set) and that etcd runs; the server keeps retrying',
  };
}

async function grpcResults(peers: NonNullable<ReturnType<NonNullable<CheckedParts['clusterPeers']>>>): Promise<CheckResult[]> {
  if (peers.length === 0) return [{ name: 'grpc', status: 'warning', detail: 'no other cluster node is known', hint: 'check [grpc] targets (or targetprefix in etcd) if this node should have peers' }];
  return Promise.all(
    peers.map(async (peer): Promise<CheckResult> => {
      try {
        const { version } = await peer.getServerId({ timeoutMs: 1_000 });
        return { name: `grpc ${peer.target}`, status: 'ok', detail: `answers (version ${version})` };
      } catch (err) {
        return { name: `grpc ${peer.target}`, status: 'error', detail: `does not answer: ${(err as Error).message}`, hint: 'check that the node runs with [grpc] listen on that address and that the TLS settings of both nodes match' };
      }
    }),
  );
}

function mcuResult(config: Readonly<ServerConfig>, stats: Record<string, unknown>): CheckResult {
  const connected = stats['connected'];
  const what = config.mcu.type === 'proxy' ? 'MCU proxies' : `Janus at ${String(stats['url'] ?? config.mcu.url.join(' '))}`;
  if (connected === false) {
    return { name: 'mcu', status: 'error', detail: `${what}: not connected`, hint: 'check [mcu] url and that Janus (WebSocket transport) or the proxies run; the server keeps retrying and calls stay peer-to-peer meanwhile' };
  }
  return { name: 'mcu', status: 'ok', detail: `${what}: ${connected === true ? 'connected' : JSON.stringify(stats)}` };
}

function geoipResult(geoip: NonNullable<CheckedParts['geoip']>): CheckResult {
  if (geoip.info) return { name: 'geoip', status: geoip.lastError ? 'warning' : 'ok', detail: `${geoip.info.type} built ${geoip.info.builtAt.toISOString()}${geoip.lastError ? `; last update failed: ${geoip.lastError}` : ''}` };
  return { name: 'geoip', status: 'warning', detail: `no database loaded${geoip.lastError ? `: ${geoip.lastError}` : ' yet'}`, hint: 'check [geoip] url / license and outbound HTTPS; countries are unknown meanwhile' };
}
