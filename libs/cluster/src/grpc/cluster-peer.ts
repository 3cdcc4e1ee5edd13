import { EventEmitter } from 'node:events';
import { Channel, Metadata, connectivityState, type CallOptions, type ChannelCredentials, type ChannelOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { RpcBackendClient } from '../generated/backend';
import { RpcInternalClient } from '../generated/internal';
import { RpcSessionsClient } from '../generated/sessions';
import { RpcMcuClient } from '../generated/sfu';
import type { InternalSessionInfo, PublisherInfo, TransientEntry, VirtualSessionInfo } from './cluster-handlers';
import { ClusterError, fromGrpcError } from './errors';
import { GRPC_TIMEOUTS } from './grpc-options';
import type { GrpcMetrics } from './metrics';
import { ProxySessionClient } from './proxy-session-client';
import type { ProxySessionInfo } from './proxy-session-stream';

/** Per-call options: a deadline (default: upstream's for the method) and the caller's cancel. */
export interface PeerCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

type Unary<Req, Res> = (req: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (err: ServiceError | null, res: Res) => void) => ClientUnaryCall;

/**
 * Connection attempts to a peer that is down: at least every 5 s once it has been down a while
 * (gRPC's default backoff grows to 2 min), so a node that comes back is asked again soon.
 */
const MAX_RECONNECT_BACKOFF_MS = 5_000;

export interface ClusterPeerEvents {
  /** A connection attempt failed (refused, reset, TLS): calls fail at once until it is back. */
  down: [];
  /** Connected again after {@link ClusterPeerEvents.down}. */
  up: [];
}

/**
 * The connection to one other node (one target, or one resolved IP of a hostname target), with a
 * typed method per RPC. NOT_FOUND answers become "no result"; other failures reject with a
 * {@link ClusterError}.
 *
 * Unary calls do not wait for a broken connection (upstream does: wait-for-ready): a peer whose
 * connection attempt failed — refused, reset — fails the call at once (`unavailable`), so a dead
 * node costs a client nothing instead of the whole deadline. A call still waits while the
 * connection is being set up and while the peer works on it: a peer that is merely slow, or whose
 * packets vanish, gets the full deadline. gRPC keeps reconnecting in the background and the
 * first call after a success goes through again.
 */
export class ClusterPeer extends EventEmitter<ClusterPeerEvents> {
  readonly #channel: Channel;
  readonly #backend: RpcBackendClient;
  readonly #internal: RpcInternalClient;
  readonly #sessions: RpcSessionsClient;
  readonly #mcu: RpcMcuClient;
  readonly #metrics: GrpcMetrics | undefined;
  #self = false;
  #version = '';
  #closed = false;
  #down = false;

  /**
   * @param target `host:port` as configured.
   * @param ip set for DNS discovery: connect to this address, verify TLS against the target's host name.
   * @param initialReconnectMs first delay after a failed connection attempt (tests; default gRPC's 1 s).
   */
  constructor(readonly target: string, credentials: ChannelCredentials, readonly ip?: string, metrics?: GrpcMetrics, initialReconnectMs?: number) {
    super();
    this.#metrics = metrics;
    const options: ChannelOptions = { 'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS };
    if (initialReconnectMs !== undefined) options['grpc.initial_reconnect_backoff_ms'] = initialReconnectMs;
    let address = target;
    if (ip !== undefined) {
      const { host, port } = splitHostPort(target);
      address = `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
      options['grpc.ssl_target_name_override'] = host;
      options['grpc.default_authority'] = target;
    }
    this.#channel = new Channel(address, credentials, options);
    const shared = { channelOverride: this.#channel };
    this.#backend = new RpcBackendClient(address, credentials, shared);
    this.#internal = new RpcInternalClient(address, credentials, shared);
    this.#sessions = new RpcSessionsClient(address, credentials, shared);
    this.#mcu = new RpcMcuClient(address, credentials, shared);
    this.#watchState(this.#channel.getConnectivityState(false));
  }

  /** `target` or `target (ip)`, for logs. */
  get label(): string {
    return this.ip === undefined ? this.target : `${this.target} (${this.ip})`;
  }

  /** Set once `GetServerId` showed that this target is this node. */
  get isSelf(): boolean {
    return this.#self;
  }

  /** The peer's version from its `GetServerId` answer ('' until known). */
  get version(): string {
    return this.#version;
  }

  /** Whether the connection is up right now. */
  get connected(): boolean {
    return !this.#closed && this.#channel.getConnectivityState(false) === connectivityState.READY;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** False from a failed connection attempt until the next successful one. */
  get reachable(): boolean {
    return !this.#down;
  }

  /** Marks this peer as this node itself and closes the connection (skipped in fan-outs). */
  markSelf(): void {
    this.#self = true;
    this.close();
  }

  /** Closes the connection; later calls fail with `unavailable`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.close();
  }

  async getServerId(opts: PeerCallOptions = {}): Promise<{ serverId: string; version: string }> {
    const res = await this.#unary('GetServerId', this.#internal.getServerId.bind(this.#internal), {}, opts.timeoutMs ?? GRPC_TIMEOUTS.getServerId, opts.signal);
    this.#version = res?.version ?? '';
    return { serverId: res?.serverId ?? '', version: this.#version };
  }

  /** Public id of the session with this resume (private) id, if it lives on the peer. */
  async lookupResumeId(resumeId: string, opts: PeerCallOptions = {}): Promise<string | undefined> {
    const res = await this.#unary('LookupResumeId', this.#sessions.lookupResumeId.bind(this.#sessions), { resumeId }, opts.timeoutMs ?? GRPC_TIMEOUTS.lookupResumeId, opts.signal);
    return res?.sessionId || undefined;
  }

  /** Public id of the session with this Nextcloud room session id; `disconnectReason` kicks it. */
  async lookupSessionId(roomSessionId: string, disconnectReason: string, opts: PeerCallOptions = {}): Promise<string | undefined> {
    const res = await this.#unary(
      'LookupSessionId',
      this.#sessions.lookupSessionId.bind(this.#sessions),
      { roomSessionId, disconnectReason },
      opts.timeoutMs ?? GRPC_TIMEOUTS.lookupSessionId,
      opts.signal,
    );
    return res?.sessionId || undefined;
  }

  /** Whether the session is in that room's call on the peer (false if unknown there). */
  async isSessionInCall(sessionId: string, roomId: string, backendUrl: string, opts: PeerCallOptions = {}): Promise<boolean> {
    const res = await this.#unary(
      'IsSessionInCall',
      this.#sessions.isSessionInCall.bind(this.#sessions),
      { sessionId, roomId, backendUrl },
      opts.timeoutMs ?? GRPC_TIMEOUTS.isSessionInCall,
      opts.signal,
    );
    return res?.inCall ?? false;
  }

  /** Internal and virtual sessions of a room on the peer (empty if none). */
  async getInternalSessions(roomId: string, backendUrls: readonly string[], opts: PeerCallOptions = {}): Promise<{ internal: InternalSessionInfo[]; virtual: VirtualSessionInfo[] }> {
    const res = await this.#unary(
      'GetInternalSessions',
      this.#sessions.getInternalSessions.bind(this.#sessions),
      // Older nodes read only the single URL.
      { roomId, backendUrl: backendUrls[0] ?? '', backendUrls: [...backendUrls] },
      opts.timeoutMs ?? GRPC_TIMEOUTS.getInternalSessions,
      opts.signal,
    );
    return {
      internal: res?.internalSessions.map((s) => ({ sessionId: s.sessionId, inCall: s.inCall, features: s.features })) ?? [],
      virtual: res?.virtualSessions.map((s) => ({ sessionId: s.sessionId, inCall: s.inCall })) ?? [],
    };
  }

  /** The session's publisher of that stream type on the peer (waits there up to the deadline). */
  async getPublisherId(sessionId: string, streamType: string, opts: PeerCallOptions = {}): Promise<PublisherInfo | undefined> {
    const res = await this.#unary('GetPublisherId', this.#mcu.getPublisherId.bind(this.#mcu), { sessionId, streamType }, opts.timeoutMs ?? GRPC_TIMEOUTS.getPublisherId, opts.signal);
    return res === undefined ? undefined : { ...res };
  }

  /** Client sessions of the backend of `url` on the peer (0 if it does not know the backend). */
  async getSessionCount(url: string, opts: PeerCallOptions = {}): Promise<number> {
    const res = await this.#unary('GetSessionCount', this.#backend.getSessionCount.bind(this.#backend), { url }, opts.timeoutMs ?? GRPC_TIMEOUTS.getSessionCount, opts.signal);
    return res?.count ?? 0;
  }

  /** A room's transient data on the peer. Rejects (`internal`) if the peer sent a value that is not JSON. */
  async getTransientData(roomId: string, backendUrls: readonly string[], opts: PeerCallOptions = {}): Promise<Record<string, TransientEntry>> {
    const res = await this.#unary(
      'GetTransientData',
      this.#internal.getTransientData.bind(this.#internal),
      { roomId, backendUrls: [...backendUrls] },
      opts.timeoutMs ?? GRPC_TIMEOUTS.getTransientData,
      opts.signal,
    );
    const result: Record<string, TransientEntry> = {};
    for (const [key, entry] of Object.entries(res?.entries ?? {})) {
      let value: unknown;
      try {
        value = JSON.parse(entry.value.toString('utf8'));
      } catch (err) {
        throw new ClusterError('internal', `invalid transient data value for "${key.slice(0, 100)}"`, this.label, { cause: err });
      }
      result[key] = entry.expires > 0 ? { value, expires: Math.floor(entry.expires / 1000) } : { value };
    }
    return result;
  }

  /** Opens a relay for a client whose session lives on the peer (resume on another node). */
  proxySession(info: ProxySessionInfo): ProxySessionClient {
    if (this.#closed) throw new ClusterError('unavailable', 'connection closed', this.label);
    this.#metrics?.clientCallsTotal.inc({ method: 'ProxySession' });
    const metadata = new Metadata({ waitForReady: false });
    metadata.set('sessionid', info.sessionId);
    metadata.set('remoteaddr', info.remoteAddr);
    metadata.set('country', info.country);
    metadata.set('useragent', info.userAgent);
    return new ProxySessionClient(this.#sessions.proxySession(metadata), this.label);
  }

  /** One unary call with deadline and cancel; resolves `undefined` on NOT_FOUND. */
  #unary<Req, Res>(method: string, invoke: Unary<Req, Res>, req: Req, timeoutMs: number, signal: AbortSignal | undefined): Promise<Res | undefined> {
    this.#metrics?.clientCallsTotal.inc({ method });
    if (this.#closed) return Promise.reject(new ClusterError('unavailable', 'connection closed', this.label));
    if (signal?.aborted) return Promise.reject(new ClusterError('cancelled', 'cancelled by caller', this.label));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => call.cancel();
      // Not wait-for-ready: fail at once while the connection is known broken (see the class).
      const call = invoke(req, new Metadata({ waitForReady: false }), { deadline: Date.now() + timeoutMs }, (err, res) => {
        signal?.removeEventListener('abort', onAbort);
        if (err === null) resolve(res);
        else if (err.code === 5 /* NOT_FOUND */) resolve(undefined);
        else reject(fromGrpcError(err, this.label));
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Follows the channel's state for {@link reachable} and the down/up events. */
  #watchState(current: connectivityState): void {
    if (current === connectivityState.SHUTDOWN) return;
    this.#channel.watchConnectivityState(current, Infinity, () => {
      const next = this.#channel.getConnectivityState(false);
      if (next === connectivityState.TRANSIENT_FAILURE && !this.#down) {
        this.#down = true;
        this.emit('down');
      } else if (next === connectivityState.READY && this.#down) {
        this.#down = false;
        this.emit('up');
      }
      this.#watchState(next);
    });
  }
}

/** `host:port` / `[v6]:port` → parts (port '' if none). */
export function splitHostPort(target: string): { host: string; port: string } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(target);
  if (v6) return { host: v6[1]!, port: v6[2] ?? '' };
  const i = target.lastIndexOf(':');
  if (i < 0 || target.indexOf(':') !== i) return { host: target, port: '' };
  return { host: target.slice(0, i), port: target.slice(i + 1) };
}
