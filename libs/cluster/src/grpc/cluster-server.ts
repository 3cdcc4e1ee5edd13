import { Server, status, type handleBidiStreamingCall, type handleUnaryCall, type ServerCredentials, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from '@talk-signaling/runtime';
import { RpcBackendService, type GetSessionCountReply, type GetSessionCountRequest } from '../generated/backend';
import {
  RpcInternalService,
  type GetServerIdReply,
  type GetServerIdRequest,
  type GetTransientDataReply,
  type GetTransientDataRequest,
  type GrpcTransientDataEntry,
} from '../generated/internal';
import {
  RpcSessionsService,
  type ClientSessionMessage,
  type GetInternalSessionsReply,
  type GetInternalSessionsRequest,
  type IsSessionInCallReply,
  type IsSessionInCallRequest,
  type LookupResumeIdReply,
  type LookupResumeIdRequest,
  type LookupSessionIdReply,
  type LookupSessionIdRequest,
  type ServerSessionMessage,
} from '../generated/sessions';
import { RpcMcuService, type GetPublisherIdReply, type GetPublisherIdRequest } from '../generated/sfu';
import type { ClusterHandlers } from './cluster-handlers';
import { createServerCredentials, type ManagedCredentials } from './credentials';
import { ClusterError, toGrpcStatus } from './errors';
import type { GrpcTlsOptions } from './grpc-options';
import type { GrpcMetrics } from './metrics';
import { ProxySessionStream } from './proxy-session-stream';

export interface ClusterServerOptions {
  /** `host:port`; a bare `:port` listens on all IPv4 interfaces. */
  listen: string;
  tls: GrpcTlsOptions;
  /** This node's id ({@link createServerId}). */
  serverId: string;
  /** This node's version, reported to peers (they warn on a mismatch). */
  version: string;
  /** The app's answers. */
  handlers: ClusterHandlers;
  logger: Logger;
  metrics?: GrpcMetrics;
}

/** How long {@link ClusterServer.close} lets running calls finish (ms). */
const SHUTDOWN_GRACE_MS = 2_000;

/**
 * The gRPC server of a node: the four upstream services, answered by the app's
 * {@link ClusterHandlers}. Handler failures become status codes; nothing a peer sends can throw
 * out of here. TLS files are reloaded when they change.
 */
export class ClusterServer {
  readonly #options: ClusterServerOptions;
  readonly #server: Server;
  readonly #logger: Logger;
  #credentials: ManagedCredentials<ServerCredentials> | undefined;
  #port = 0;
  #closed = false;

  constructor(options: ClusterServerOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#server = new Server();
    this.#server.addService(RpcBackendService, { getSessionCount: this.#getSessionCount() });
    this.#server.addService(RpcInternalService, { getServerId: this.#getServerId(), getTransientData: this.#getTransientData() });
    this.#server.addService(RpcSessionsService, {
      lookupResumeId: this.#lookupResumeId(),
      lookupSessionId: this.#lookupSessionId(),
      isSessionInCall: this.#isSessionInCall(),
      getInternalSessions: this.#getInternalSessions(),
      proxySession: this.#proxySession(),
    });
    this.#server.addService(RpcMcuService, { getPublisherId: this.#getPublisherId() });
  }

  /** The bound port (after {@link start}). */
  get port(): number {
    return this.#port;
  }

  /** Whether connections are encrypted (after {@link start}). */
  get secure(): boolean {
    return this.#credentials?.secure ?? false;
  }

  /** Reloads seen on the TLS files (tests wait on this). */
  get certificateReloads(): number {
    return this.#credentials?.files?.reloads ?? 0;
  }

  /** Reads the TLS files and listens; resolves with the bound port. */
  async start(): Promise<number> {
    if (this.#closed) throw new ClusterError('unavailable', 'server is closed');
    this.#credentials = createServerCredentials(this.#options.tls, this.#logger);
    const address = this.#options.listen.startsWith(':') ? `0.0.0.0${this.#options.listen}` : this.#options.listen;
    try {
      this.#port = await new Promise<number>((resolve, reject) => {
        this.#server.bindAsync(address, this.#credentials!.credentials, (err, port) => (err ? reject(err) : resolve(port)));
      });
    } catch (err) {
      this.#credentials.close();
      throw new Error(`could not listen for gRPC on ${address}`, { cause: err });
    }
    this.#logger.info({ address, port: this.#port, tls: this.secure }, 'gRPC server listening');
    return this.#port;
  }

  /** Stops accepting calls, lets running ones finish briefly, then cuts the rest. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#credentials?.close();
  }

  /** Wraps a handler: counts the call, maps `undefined` to NOT_FOUND and errors to a status. */
  #unary<Req, Res>(method: string, notFound: string, answer: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res | undefined>): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      this.#options.metrics?.serverCallsTotal.inc({ method });
      Promise.resolve()
        .then(() => answer(call.request, call))
        .then(
          (reply) => (reply === undefined ? callback({ code: status.NOT_FOUND, details: notFound } as ServiceError) : callback(null, reply)),
          (err: unknown) => {
            if (!(err instanceof ClusterError)) this.#logger.error({ err, method }, 'gRPC handler failed');
            callback(toGrpcStatus(err) as ServiceError);
          },
        );
    };
  }

  #getServerId(): handleUnaryCall<GetServerIdRequest, GetServerIdReply> {
    return this.#unary('GetServerId', '', async () => ({ serverId: this.#options.serverId, version: this.#options.version }));
  }

  #getSessionCount(): handleUnaryCall<GetSessionCountRequest, GetSessionCountReply> {
    // Upstream counts this one as `SessionCount`.
    return this.#unary('SessionCount', 'no such backend', async (req) => {
      const count = await this.#options.handlers.getSessionCount(req.url);
      return count === undefined ? undefined : { count: clampUint32(count) };
    });
  }

  #lookupResumeId(): handleUnaryCall<LookupResumeIdRequest, LookupResumeIdReply> {
    return this.#unary('LookupResumeId', 'no such room session id', async (req) => {
      const sessionId = await this.#options.handlers.lookupResumeId(req.resumeId);
      return sessionId ? { sessionId } : undefined;
    });
  }

  #lookupSessionId(): handleUnaryCall<LookupSessionIdRequest, LookupSessionIdReply> {
    return this.#unary('LookupSessionId', 'no such room session id', async (req) => {
      const sessionId = await this.#options.handlers.lookupSessionId(req.roomSessionId, req.disconnectReason);
      return sessionId ? { sessionId } : undefined;
    });
  }

  #isSessionInCall(): handleUnaryCall<IsSessionInCallRequest, IsSessionInCallReply> {
    return this.#unary('IsSessionInCall', 'no such session id', async (req) => {
      const inCall = await this.#options.handlers.isSessionInCall(req.sessionId, req.roomId, req.backendUrl);
      return inCall === undefined ? undefined : { inCall };
    });
  }

  #getInternalSessions(): handleUnaryCall<GetInternalSessionsRequest, GetInternalSessionsReply> {
    return this.#unary('GetInternalSessions', 'no such room', async (req) => {
      const found = await this.#options.handlers.getInternalSessions(req.roomId, backendUrlsOf(req));
      if (found === undefined) return undefined;
      return {
        internalSessions: found.internal.map((s) => ({ sessionId: s.sessionId, inCall: clampUint32(s.inCall), features: [...s.features] })),
        virtualSessions: found.virtual.map((s) => ({ sessionId: s.sessionId, inCall: clampUint32(s.inCall) })),
      };
    });
  }

  #getTransientData(): handleUnaryCall<GetTransientDataRequest, GetTransientDataReply> {
    return this.#unary('GetTransientData', 'room has no transient data', async (req) => {
      const data = await this.#options.handlers.getTransientData(req.roomId, req.backendUrls.length > 0 ? req.backendUrls : ['']);
      if (data === undefined) return undefined;
      const entries: Record<string, GrpcTransientDataEntry> = {};
      let count = 0;
      for (const [key, entry] of Object.entries(data)) {
        const json = JSON.stringify(entry.value);
        if (json === undefined) continue;
        entries[key] = { value: Buffer.from(json), expires: entry.expires === undefined ? 0 : Math.round(entry.expires * 1000) };
        count++;
      }
      return count === 0 ? undefined : { entries };
    });
  }

  #getPublisherId(): handleUnaryCall<GetPublisherIdRequest, GetPublisherIdReply> {
    return this.#unary('GetPublisherId', 'no such publisher', async (req, call) => {
      const abort = new AbortController();
      const onCancel = (): void => abort.abort();
      call.once('cancelled', onCancel);
      try {
        const found = await this.#options.handlers.getPublisherId(req.sessionId, req.streamType, abort.signal);
        return found === undefined ? undefined : { ...found };
      } finally {
        call.off('cancelled', onCancel);
      }
    });
  }

  #proxySession(): handleBidiStreamingCall<ClientSessionMessage, ServerSessionMessage> {
    return (call) => {
      this.#options.metrics?.serverCallsTotal.inc({ method: 'ProxySession' });
      const meta = (key: string): string => {
        const value = call.metadata.get(key)[0];
        return typeof value === 'string' ? value : '';
      };
      const stream = new ProxySessionStream(call, {
        sessionId: meta('sessionid'),
        remoteAddr: meta('remoteaddr'),
        country: meta('country'),
        userAgent: meta('useragent'),
      });
      try {
        this.#options.handlers.proxySession(stream);
      } catch (err) {
        this.#logger.error({ err }, 'gRPC ProxySession handler failed');
        stream.fail('internal', 'internal error');
      }
    };
  }
}

/** Backend URLs of a request: the list, else the deprecated single URL, else the compat backend (`''`). */
function backendUrlsOf(req: GetInternalSessionsRequest): string[] {
  if (req.backendUrls.length > 0) return req.backendUrls;
  if (req.backendUrl !== '') return [req.backendUrl];
  return [''];
}

function clampUint32(n: number): number {
  if (!Number.isFinite(n) || n < 0) return 0;
  return Math.min(Math.floor(n), 0xffffffff);
}
