import { ClusterPeers, ClusterServer, EtcdClient, GRPC_TIMEOUTS, createGrpcMetrics, createServerId, type ClusterHandlers, type ClusterPeer, type ClusterPeersOptions, type GrpcMetrics, type ProxySessionClient } from '@talk-signaling/cluster';
import type { Logger } from '@talk-signaling/runtime';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config';
import type { ConnectionInfo } from '../connection/client-connection';
import type { HubCluster } from '../hub/hub';
import type { RoomCluster } from '../room/room-handler';
import type { RemoteInternalSessions } from '../room/room';
import type { BackendRegistry } from '../backend/backend-registry';
import type { RemoteRoomSessions } from '../backend-requests/backend-room-handler';

export interface ClusterNodeOptions {
  config: Pick<ServerConfig, 'grpc' | 'etcd'>;
  version: string;
  registry: Registry;
  log: Logger;
  /** Tests: LookupResumeId deadline (default upstream's 5 s). */
  lookupResumeIdTimeoutMs?: number;
  /** Tests: retry delays towards a peer that is not up yet (defaults: see ClusterPeersOptions). */
  peerRetry?: Pick<ClusterPeersOptions, 'selfCheckRetryMs' | 'initialReconnectMs'>;
}

/** Deadline of the lookups made while a client waits (upstream: 1 s for counts and room sessions). */
const LOOKUP_TIMEOUT_MS = 1_000;

/**
 * This node's part of the gRPC mesh, from `[grpc]` (and `[etcd]` for `targettype = etcd`): the
 * server other nodes ask (when `listen` is set) and the peers this node asks. Built only when
 * `[grpc]` names a listen address, targets or etcd; until {@link start} it has no peers.
 */
export class ClusterNode implements HubCluster, RoomCluster, RemoteRoomSessions {
  readonly serverId = createServerId();
  readonly #options: ClusterNodeOptions;
  readonly #metrics: GrpcMetrics;
  #server: ClusterServer | undefined;
  #peers: ClusterPeers | undefined;
  #etcd: EtcdClient | undefined;
  #stopped = false;

  constructor(options: ClusterNodeOptions) {
    this.#options = options;
    this.#metrics = createGrpcMetrics(options.registry);
  }

  /** Whether `[grpc]` asks for anything. */
  static configured(config: Pick<ServerConfig, 'grpc'>): boolean {
    const grpc = config.grpc;
    return grpc.listen !== '' || grpc.targets.length > 0 || grpc.targettype === 'etcd';
  }

  /** The peers (other nodes) once started. */
  get peers(): ClusterPeers | undefined {
    return this.#peers;
  }

  /** The bound gRPC port (0 without a server). */
  get port(): number {
    return this.#server?.port ?? 0;
  }

  get hasPeers(): boolean {
    return (this.#peers?.peers().length ?? 0) > 0;
  }

  /**
   * Starts the server (answering with `handlers`) and the peers; config errors (TLS files,
   * etcd) reject.
   */
  async start(handlers: ClusterHandlers): Promise<void> {
    const { config, version, log } = this.#options;
    const grpcLog = log.child({ component: 'grpc' });
    if (config.grpc.listen !== '') {
      this.#server = new ClusterServer({ listen: config.grpc.listen, tls: config.grpc, serverId: this.serverId, version, handlers, logger: grpcLog, metrics: this.#metrics });
      await this.#server.start();
    }
    if (config.grpc.targettype === 'etcd') this.#etcd = await EtcdClient.create(config.etcd, log.child({ component: 'etcd' }));
    if (this.#stopped) return;
    this.#peers = new ClusterPeers({ grpc: config.grpc, serverId: this.serverId, version, etcd: this.#etcd, logger: grpcLog, metrics: this.#metrics, ...this.#options.peerRetry });
  }

  async remoteSessionCount(backendUrl: string): Promise<number> {
    const peers = this.#peers;
    if (peers === undefined) return 0;
    const counts = await peers.collect((peer, opts) => peer.getSessionCount(backendUrl, opts), { timeoutMs: LOOKUP_TIMEOUT_MS });
    return counts.reduce((sum, { value }) => sum + value, 0);
  }

  async disconnectRemoteRoomSession(roomSessionId: string): Promise<string | undefined> {
    const peers = this.#peers;
    if (peers === undefined) return undefined;
    return peers.firstResult((peer, opts) => peer.lookupSessionId(roomSessionId, 'room_session_reconnected', opts), { timeoutMs: LOOKUP_TIMEOUT_MS });
  }

  /** Which node holds a room session id (no disconnect): backend requests naming sessions of other nodes. */
  async lookupRoomSession(roomSessionId: string, signal: AbortSignal): Promise<string | undefined> {
    const peers = this.#peers;
    if (peers === undefined) return undefined;
    return peers.firstResult((peer, opts) => peer.lookupSessionId(roomSessionId, '', opts), { timeoutMs: LOOKUP_TIMEOUT_MS, signal });
  }

  /**
   * Whether another node holds `sessionId` in the call of `roomId` (upstream `IsSessionInCall`
   * on every peer, the first "yes" wins; a peer that fails or is late counts as "no").
   */
  async remoteSessionInCall(sessionId: string, roomId: string, backendUrl: string, timeoutMs: number): Promise<boolean> {
    const peers = this.#peers;
    if (peers === undefined) return false;
    const inCall = await peers.firstResult(async (peer, opts) => ((await peer.isSessionInCall(sessionId, roomId, backendUrl, opts)) ? true : undefined), { timeoutMs });
    return inCall === true;
  }

  /** The internal and virtual sessions other nodes hold in a room, merged (nothing from a node that doesn't answer in time). */
  async remoteInternalSessions(roomId: string, backendUrls: readonly string[]): Promise<RemoteInternalSessions> {
    const peers = this.#peers;
    if (peers === undefined) return { internal: [], virtual: [] };
    const answers = await peers.collect((peer, opts) => peer.getInternalSessions(roomId, backendUrls, opts), { timeoutMs: LOOKUP_TIMEOUT_MS });
    return { internal: answers.flatMap((a) => a.value.internal), virtual: answers.flatMap((a) => a.value.virtual) };
  }

  async remoteTransientData(roomId: string, backendUrls: readonly string[]): Promise<Record<string, { value: unknown; expires?: number }>> {
    const peers = this.#peers;
    if (peers === undefined) return {};
    const answers = await peers.collect((peer, opts) => peer.getTransientData(roomId, backendUrls, opts), { timeoutMs: LOOKUP_TIMEOUT_MS });
    return Object.assign({}, ...answers.map((a) => a.value)) as Record<string, { value: unknown; expires?: number }>;
  }

  async openRemoteSession(resumeId: string, info: ConnectionInfo): Promise<ProxySessionClient | undefined> {
    const peers = this.#peers;
    if (peers === undefined) return undefined;
    const found = await peers.firstResult<{ peer: ClusterPeer; sessionId: string }>(
      async (peer, opts) => {
        const sessionId = await peer.lookupResumeId(resumeId, opts);
        return sessionId === undefined ? undefined : { peer, sessionId };
      },
      { timeoutMs: this.#options.lookupResumeIdTimeoutMs ?? GRPC_TIMEOUTS.lookupResumeId },
    );
    if (found === undefined || found.peer.closed) return undefined;
    return found.peer.proxySession({ sessionId: found.sessionId, remoteAddr: info.ip, country: info.country ?? '', userAgent: info.userAgent });
  }

  /** The peers for `/api/v1/serverinfo` (upstream: version only while connected). */
  serverInfo(): { target: string; ip?: string; connected: boolean; version?: string }[] {
    return (this.#peers?.peers() ?? []).map((peer) => {
      const connected = peer.connected;
      return {
        target: peer.target,
        ...(peer.ip === undefined ? {} : { ip: peer.ip }),
        connected,
        ...(connected && peer.version !== '' ? { version: peer.version } : {}),
      };
    });
  }

  /** SIGHUP: gRPC targets and client credentials (upstream). */
  reload(config: Pick<ServerConfig, 'grpc'>): void {
    this.#peers?.reload(config.grpc);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#peers?.close();
    this.#etcd?.close();
    await this.#server?.close();
  }
}

/** A room's view of {@link ClusterNode.remoteInternalSessions}: by backend id, asked only while there are peers. */
export function clusterInternalSessions(cluster: ClusterNode, backends: Pick<BackendRegistry, 'getById'>): (roomId: string, backendId: string) => Promise<RemoteInternalSessions> {
  return async (roomId, backendId) => {
    const backend = backends.getById(backendId);
    if (!cluster.hasPeers || backend === undefined) return { internal: [], virtual: [] };
    return cluster.remoteInternalSessions(roomId, backend.compat ? [''] : backend.urls);
  };
}
