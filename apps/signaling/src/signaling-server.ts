import { Registry, collectDefaultMetrics } from 'prom-client';
import { ClientFeature, ServerFeature } from '@talk-signaling/protocol';
import { createBus, createBusMetrics, type Bus } from '@talk-signaling/nats-bus';
import { DEFAULT_STATS_ALLOWED, DEFAULT_TRUSTED_PROXIES, IpAllowList, ShutdownRegistry, type Logger } from '@talk-signaling/runtime';
import { BackendClient } from './backend/backend-client';
import { BackendRegistry } from './backend/backend-registry';
import { EtcdBackends } from './backend/etcd-backends';
import { Capabilities } from './backend/capabilities';
import { HelloV2TokenVerifier } from './backend/hello-v2-verifier';
import { signalingV3Rewriter } from './backend/signaling-v3-url';
import { ClusterAnswers } from './cluster/cluster-answers';
import { ClusterNode, clusterInternalSessions, type ClusterNodeOptions } from './cluster/cluster-node';
import type { ServerConfig } from './config';
import { sendJson } from './http/http-routes';
import { SignalingHttpServer } from './http/signaling-http-server';
import type { FederationBudget } from './federation/federation-budget';
import { FederationHandler } from './federation/federation-handler';
import { JanusSfu } from './mcu/janus/janus-sfu';
import { clusterPublisherLookup } from './mcu/proxy/cluster-publisher-lookup';
import { createProxySfu, type ProxySfuTuning } from './mcu/proxy/create-proxy-sfu';
import { ProxySfu } from './mcu/proxy/proxy-sfu';
import { McuHandler } from './mcu/mcu-handler';
import { createMcuMetrics } from './mcu/mcu-metrics';
import type { Sfu } from './mcu/sfu';
import { addServerInfoRoute } from './http/serverinfo-route';
import { addStatsRoutes } from './http/stats-routes';
import { FeatureSet } from './hub/feature-set';
import { HelloAuthenticator } from './hub/hello-authenticator';
import { DEFAULT_HUB_TIMEOUTS, Hub, type HubTimeouts } from './hub/hub';
import { createHubMetrics } from './hub/hub-metrics';
import { DialoutRegistry } from './internal/dialout-registry';
import { InternalHandler } from './internal/internal-handler';
import { BackendRoomHandler } from './backend-requests/backend-room-handler';
import { RoomRequests } from './backend-requests/room-requests';
import { MessageHandler } from './messages/message-handler';
import { addBackendApiRoutes } from './http/backend-api';
import { ANONYMOUS_JOIN_TIMEOUT_MS, RoomHandler } from './room/room-handler';
import { Router } from './delivery/router';
import { SessionRegistry } from './hub/session-registry';
import { TransientHandler } from './room/transient-handler';
import { createRoomMetrics } from './room/room-metrics';
import { RoomPing } from './room/room-ping';
import { RoomRegistry } from './room/room-registry';
import { RoomMembership } from './room/room-membership';
import { RoomSessionIndex } from './room/room-session-index';
import type { PendingBudget } from './session/client-session';
import { SessionEvents } from './session/session-events';
import { SessionIdCodec } from './session/session-id-codec';
import { Throttler } from './throttle/throttler';
import { addTurnRoute } from './turn/turn-route';
import { Geoip } from './geoip/geoip';
import { SelfCheck } from './selfcheck/self-check';
import { registerServerChecks } from './selfcheck/server-checks';
import { addSelfCheckRoute } from './selfcheck/selfcheck-route';
import { ClientTraffic } from './connection/client-traffic';
import { SERVER_PRODUCT, SERVER_VERSION } from './version';

export interface SignalingServerOptions {
  log: Logger;
  /** A fresh registry per server instance (tests run several in one process). */
  registry?: Registry;
  /** Overrides of upstream's timers, for tests. */
  timeouts?: Partial<HubTimeouts>;
  /** Bytes a socket may have unsent before it counts as a slow consumer (default 2 MiB). */
  maxBufferedBytes?: number;
  /** Bound of a detached session's queue (default 1,024 messages, 1 MiB). */
  pendingBudget?: PendingBudget;
  /** Include Node process metrics in `/metrics` (off in tests). */
  processMetrics?: boolean;
  /** Anonymous sessions must join a room within this (ms; upstream 10 s). */
  anonymousJoinTimeoutMs?: number;
  /** Room joins/leaves within this window are sent as one event (ms). */
  roomEventBatchMs?: number;
  /** How throttled failures wait (tests shorten the real 100 ms .. 25 s delays). */
  throttleSleep?: (ms: number) => Promise<void>;
  /** Interval of the room pings to Nextcloud (ms; upstream 10 s). */
  roomPingIntervalMs?: number;
  /** Reconnect back-off of federation connections (ms; upstream 100 ms doubling to 8 s). */
  federationReconnect?: { initialMs: number; maxMs: number };
  /** Bounds of a federation connection's queues (default 1,024 messages / 1 MiB waiting, 2 MiB unsent). */
  federationBudget?: FederationBudget;
  /** gRPC overrides for tests (upstream: LookupResumeId 5 s; retries towards a peer not up yet 1 s). */
  cluster?: Pick<ClusterNodeOptions, 'lookupResumeIdTimeoutMs' | 'peerRetry'>;
  /** NATS timing overrides for tests (defaults: first connection 1 s → 8 s, reconnect every 1 s). */
  bus?: { connectBackoff?: { initialMs: number; maxMs: number }; reconnectWaitMs?: number };
  /** GeoIP database refresh interval and retry delays (tests shorten upstream's 24 h and 1 s → 5 min). */
  geoip?: { refreshMs?: number; retry?: { initialMs: number; maxMs: number } };
  /** MCU timing overrides for tests (upstream: start-up retry 1 s → 16 s, Janus reconnect 1 s → 32 s, unshareScreen 1 s). */
  mcu?: {
    startRetry?: { initialMs: number; maxMs: number };
    reconnect?: { initialMs: number; maxMs: number };
    unshareScreenDelayMs?: number;
    /** Use this SFU instead of the one `[mcu]` describes (tests). */
    sfu?: Sfu;
    /** `[mcu] type = proxy` timing (reconnect, pings, resume grace, DNS interval). */
    proxy?: ProxySfuTuning;
  };
}

/** Beyond the kernel's socket buffers; a room join in a room of thousands stays well below. */
export const DEFAULT_MAX_BUFFERED_BYTES = 2 * 1024 * 1024;
const DEFAULT_ROOM_EVENT_BATCH_MS = 20;
/** How long a shutdown waits for clients to answer their close frames (well inside the 10 s deadline). */
const WEBSOCKET_CLOSE_GRACE_MS = 3_000;
/** Closers still pending after this are skipped (main.ts exits after its own 10 s anyway). */
const STOP_DEADLINE_MS = 10_000;

/**
 * The signaling server built from a validated configuration: every component constructed
 * with its slice of config, logger and metrics registry. `main.ts` and the integration tests
 * both use this; neither reaches into the parts.
 */
export class SignalingServer {
  readonly config: Readonly<ServerConfig>;
  readonly registry: Registry;
  readonly features = new FeatureSet();
  readonly hub: Hub;
  readonly http: SignalingHttpServer;
  readonly sessions = new SessionRegistry();
  readonly backends: BackendRegistry;
  readonly bus: Bus;
  readonly router: Router;
  /** Internal clients that can place phone calls (backend `dialout` requests). */
  readonly dialouts: DialoutRegistry;
  /** Internal clients' messages: virtual sessions, in-call flags, dialout status. */
  readonly internal: InternalHandler;
  readonly rooms: RoomRegistry;
  readonly roomSessions = new RoomSessionIndex();
  /** What Nextcloud's `POST /api/v1/room/{id}` requests do. */
  readonly backendRooms: BackendRoomHandler;
  /** Nextcloud capabilities per backend URL (v3 rewrite, hello v2 keys, room ping limits). */
  readonly capabilities: Capabilities;
  /** Local sessions in rooms of other signaling servers (section 9). */
  readonly federation: FederationHandler;
  /** The SFU of `[mcu] type = janus`; undefined without an MCU (messages stay peer-to-peer). */
  readonly sfu: Sfu | undefined;
  /** MCU flows inside `message` data; undefined without an MCU. */
  readonly mcu: McuHandler | undefined;
  /** `[backend] backendtype = etcd`: the backends watched under `backendprefix`. */
  readonly etcdBackends: EtcdBackends | undefined;
  /** The operators' self-check; parts add their checks (selfcheck/server-checks.ts). */
  readonly selfCheck = new SelfCheck();
  /** Clients' countries (`[geoip]` and the overrides). */
  readonly geoip: Geoip;
  /** gRPC server and peers from `[grpc]`; undefined when `[grpc]` is empty. */
  readonly cluster: ClusterNode | undefined;
  /** What this node answers to its gRPC peers (with `cluster`). */
  readonly #clusterAnswers: ClusterAnswers | undefined;
  readonly #log: Logger;
  readonly #hubMetrics: ReturnType<typeof createHubMetrics>;
  readonly #throttler: Throttler;
  readonly #backendClient: BackendClient;
  readonly #roomPing: RoomPing;
  /** `[mcu] type = proxy`: applies a reloaded configuration (SIGHUP). */
  #reloadMcu: ((config: Readonly<ServerConfig>) => void) | undefined;
  /** Closers registered as the parts are built; run in reverse by {@link stop}. */
  readonly #shutdown: ShutdownRegistry;

  constructor(config: Readonly<ServerConfig>, opts: SignalingServerOptions) {
    this.config = config;
    this.#log = opts.log;
    this.registry = opts.registry ?? new Registry();
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
    const trustedProxies = new IpAllowList(config.app.trustedproxies.length ? config.app.trustedproxies : DEFAULT_TRUSTED_PROXIES);
    this.backends = new BackendRegistry(config);
    this.#shutdown = new ShutdownRegistry(opts.log.child({ component: 'shutdown' }));
    this.#throttler = new Throttler(this.registry, { sleep: opts.throttleSleep });
    this.#shutdown.add('throttler', () => this.#throttler.close());
    this.#backendClient = new BackendClient({
      timeoutMs: config.backend.timeout * 1000,
      connectionsPerHost: config.backend.connectionsperhost,
      skipVerify: config.backend.skipverify,
      userAgent: SERVER_PRODUCT,
      features: () => [...this.features.client],
      log: opts.log.child({ component: 'backend-client' }),
      registry: this.registry,
      rewriteUrl: (url) => signalingV3Rewriter(this.capabilities)(url),
    });
    this.#shutdown.add('backend client', () => this.#backendClient.close());
    this.capabilities = new Capabilities({ client: this.#backendClient, log: opts.log.child({ component: 'capabilities' }) });
    this.features.add(ServerFeature.HelloV2);
    const metrics = createHubMetrics(this.registry);
    this.#hubMetrics = metrics;
    metrics.backendCurrent.set(this.backends.size);
    this.etcdBackends =
      config.backend.backendtype === 'etcd'
        ? new EtcdBackends({
            registry: this.backends,
            etcd: config.etcd,
            prefix: config.backend.backendprefix,
            log: opts.log.child({ component: 'etcd-backends' }),
            changed: () => metrics.backendCurrent.set(this.backends.size),
          })
        : undefined;
    if (this.etcdBackends) this.#shutdown.add('etcd backends', () => this.etcdBackends?.stop());
    // gRPC mesh (`[grpc]`): the hub and the room handler ask peers; peers exist after start().
    this.cluster = ClusterNode.configured(config) ? new ClusterNode({ config, version: SERVER_VERSION, registry: this.registry, log: opts.log, ...opts.cluster }) : undefined;
    this.hub = new Hub({
      version: SERVER_VERSION,
      features: this.features,
      codec: new SessionIdCodec(config.sessions.hashkey, config.sessions.blockkey),
      sessions: this.sessions,
      authenticator: new HelloAuthenticator({
        backends: this.backends,
        backendClient: this.#backendClient,
        throttler: this.#throttler,
        internalSecret: config.clients.internalsecret,
        helloV2: new HelloV2TokenVerifier({ capabilities: this.capabilities, log: opts.log.child({ component: 'hello-v2' }) }),
        // Incoming federation (section 9): the room's Nextcloud must have Talk's `federation-v2`.
        federationSupported: (url) => this.capabilities.hasFeature(url, 'federation-v2'),
        log: opts.log.child({ component: 'hello' }),
      }),
      throttler: this.#throttler,
      metrics,
      log: opts.log.child({ component: 'hub' }),
      timeouts: { ...DEFAULT_HUB_TIMEOUTS, ...opts.timeouts },
      maxBufferedBytes: opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
      traffic: new ClientTraffic(this.registry),
      pendingBudget: opts.pendingBudget,
      cluster: this.cluster,
    });

    // Delivery: the only way from a feature to a session, on this node or another.
    // `[nats] url`: nats://loopback keeps everything in this process, anything else is NATS.
    this.bus = createBus(config.nats.url, {
      log: opts.log.child({ component: 'bus' }),
      metrics: createBusMetrics(this.registry),
      onError: (err, subject) => opts.log.error({ err, subject }, 'bus handler failed'),
      ...opts.bus,
    });
    this.#shutdown.add('bus', () => this.bus.close());
    this.geoip = new Geoip(config, { log: opts.log.child({ component: 'geoip' }), registry: this.registry, ...opts.geoip });
    this.hub.addListener(this.geoip);
    this.#shutdown.add('geoip', () => this.geoip.stop());
    const router = (this.router = new Router(this.bus));
    this.hub.addListener({
      sessionCreated: (session) => router.attachSession(session),
      sessionClosed: (session) => router.detachSession(session),
    });
    // What features tell each other about a session (left its room, changed by others).
    const events = new SessionEvents();

    // Rooms: membership, federated rooms, `room` and `transient` requests, pings to Nextcloud.
    this.rooms = new RoomRegistry({
      router,
      metrics: createRoomMetrics(this.registry),
      log: opts.log.child({ component: 'room' }),
      batchMs: opts.roomEventBatchMs ?? DEFAULT_ROOM_EVENT_BATCH_MS,
      remoteInternalSessions: this.cluster ? clusterInternalSessions(this.cluster, this.backends) : undefined,
    });
    const membership = new RoomMembership({ roomSessions: this.roomSessions, backendClient: this.#backendClient, events });
    this.federation = new FederationHandler({
      hub: this.hub,
      router,
      settings: config.federation,
      leaveLocalRoom: (session) => membership.leave(session, true),
      log: opts.log.child({ component: 'federation' }),
      reconnect: opts.federationReconnect,
      budget: opts.federationBudget,
      registry: this.registry,
    });
    this.features.add(ServerFeature.Federation);
    new RoomHandler({
      hub: this.hub,
      rooms: this.rooms,
      roomSessions: this.roomSessions,
      router,
      membership,
      backendClient: this.#backendClient,
      federation: this.federation,
      anonymousJoinTimeoutMs: opts.anonymousJoinTimeoutMs ?? ANONYMOUS_JOIN_TIMEOUT_MS,
      cluster: this.cluster,
    });
    new TransientHandler({ hub: this.hub, router });
    this.features.add(ServerFeature.TransientData);
    this.#roomPing = new RoomPing({
      // Federated sessions are pinged to their local Nextcloud (upstream `publishFederatedSessions`).
      rooms: { all: () => [...this.rooms.all(), ...this.federation.pingRooms()] },
      client: this.#backendClient,
      capabilities: this.capabilities,
      log: opts.log.child({ component: 'room-ping' }),
      intervalMs: opts.roomPingIntervalMs,
    });
    this.#roomPing.start();
    this.#shutdown.add('room pings', () => this.#roomPing.stop());

    // Internal clients: virtual sessions, their in-call flags, dialout.
    this.dialouts = new DialoutRegistry({ hub: this.hub, router, log: opts.log.child({ component: 'dialout' }) });
    this.internal = new InternalHandler({
      hub: this.hub,
      rooms: this.rooms,
      roomSessions: this.roomSessions,
      router,
      backendClient: this.#backendClient,
      dialouts: this.dialouts,
      events,
      log: opts.log.child({ component: 'internal' }),
    });
    // Upstream announces virtual sessions to internal clients only (fact sheet 1.3).
    this.features.add(ServerFeature.VirtualSessions, { welcome: true, internal: true });

    // Nextcloud's backend requests: published by the receiving node, applied by every hosting node.
    new RoomRequests({ rooms: this.rooms, sessions: this.sessions, router, membership, events, log: opts.log.child({ component: 'backend-api' }) });
    this.backendRooms = new BackendRoomHandler({
      hub: this.hub,
      roomSessions: this.roomSessions,
      router,
      dialouts: this.dialouts,
      remoteSessions: this.cluster,
      log: opts.log.child({ component: 'backend-api' }),
    });
    for (const feature of [ServerFeature.IncallAll, ServerFeature.Switchto]) this.features.add(feature);

    // MCU (optional): publishers and subscribers of the sessions that announced `mcu`.
    if (opts.mcu?.sfu || (config.mcu.type === 'janus' && config.mcu.url[0]) || config.mcu.type === 'proxy') {
      const mcuMetrics = createMcuMetrics(this.registry);
      const mcuLog = opts.log.child({ component: 'mcu' });
      // Subscribers to publishers on other nodes' proxies ask the peers (upstream GetPublisherId).
      const cluster = this.cluster;
      const remotePublishers = cluster ? clusterPublisherLookup(() => cluster.peers?.peers() ?? []) : undefined;
      const proxy = !opts.mcu?.sfu && config.mcu.type === 'proxy' ? createProxySfu(config, this.registry, mcuLog, opts.mcu?.proxy, remotePublishers) : undefined;
      this.#reloadMcu = proxy?.reload;
      const sfu = opts.mcu?.sfu ?? proxy?.sfu ?? (new JanusSfu({
        url: config.mcu.url[0] ?? '',
        timeoutMs: config.mcu.timeout * 1000,
        maxStreamBitrate: config.mcu.maxstreambitrate,
        maxScreenBitrate: config.mcu.maxscreenbitrate,
        registry: this.registry,
        mcuMetrics,
        log: opts.log.child({ component: 'mcu' }),
        startRetry: opts.mcu?.startRetry,
        reconnect: opts.mcu?.reconnect,
      }));
      this.sfu = sfu;
      this.#shutdown.add('mcu', () => sfu.stop());
      this.mcu = new McuHandler({
        sfu,
        hub: this.hub,
        router,
        events,
        sessions: this.sessions,
        features: this.features,
        metrics: mcuMetrics,
        allowSubscribeAny: config.app.allowsubscribeany,
        // A publisher on another node: is it in the caller's call? (upstream waits up to the MCU timeout)
        remoteCalls: cluster ? { sessionInCall: (id, roomId, url) => cluster.remoteSessionInCall(id, roomId, url, config.mcu.timeout * 1000) } : undefined,
        log: opts.log.child({ component: 'mcu' }),
        unshareScreenDelayMs: opts.mcu?.unshareScreenDelayMs,
      });
    }

    // Client-to-client messages (MCU signalling inside them goes to the MCU first).
    new MessageHandler({ hub: this.hub, router, sessions: this.sessions, mcu: this.mcu });

    // Cluster (optional): what this node answers its gRPC peers (served from start()).
    if (this.cluster) {
      const cluster = this.cluster;
      const log = opts.log.child({ component: 'cluster' });
      const proxySfu = this.sfu instanceof ProxySfu ? this.sfu : undefined;
      this.#clusterAnswers = new ClusterAnswers({ hub: this.hub, sessions: this.sessions, roomSessions: this.roomSessions, rooms: this.rooms, backends: this.backends, log, publishers: proxySfu });
      this.#shutdown.add('cluster', () => cluster.stop());
    }

    // HTTP last: the front door opens once everything behind it exists, and closes first.
    this.http = new SignalingHttpServer({
      serverHeader: SERVER_PRODUCT,
      features: () => this.features.client,
      trustedProxies,
      log: opts.log.child({ component: 'http' }),
      onWebSocket: (ws, req, ip) =>
        this.hub.accept(ws, { ip, userAgent: String(req.headers['user-agent'] ?? 'unknown user agent'), country: this.geoip.country(ip) }),
    });
    this.#shutdown.add('http', () => this.http.close());
    this.#shutdown.add('clients', () => this.#goodbye());
    this.http.routes.add('GET', '/api/v1/welcome', (_req, res) =>
      sendJson(res, 200, { 'nextcloud-spreed-signaling': 'Welcome', version: SERVER_VERSION }),
    );
    addTurnRoute(this.http.routes, config.turn);
    addBackendApiRoutes(this.http.routes, {
      backends: this.backends,
      throttler: this.#throttler,
      trustedProxies,
      process: this.backendRooms.process,
      log: opts.log.child({ component: 'backend-api' }),
    });
    this.features.add(ServerFeature.Dialout);
    const statsAllowed = new IpAllowList(config.stats.allowed_ips.length ? config.stats.allowed_ips : DEFAULT_STATS_ALLOWED);
    addStatsRoutes(this.http.routes, {
      allowed: statsAllowed,
      trustedProxies,
      registry: this.registry,
      source: {
        stats: () => {
          const stats: Record<string, unknown> = { rooms: this.rooms.size, sessions: this.sessions.size };
          if (this.sfu) stats['mcu'] = this.sfu.stats();
          return stats;
        },
      },
    });
    addServerInfoRoute(this.http.routes, {
      allowed: statsAllowed,
      trustedProxies,
      source: {
        version: SERVER_VERSION,
        features: () => this.features.welcome,
        nats: () => this.bus.info(),
        grpc: () => this.cluster?.serverInfo(),
        sfu: () => this.sfu?.serverInfo?.(),
        dialout: () =>
          [...this.sessions.all()]
            .filter((s) => s.clientType === 'internal' && s.features.has(ClientFeature.StartDialout))
            .map((s) => {
              const conn = s.connection;
              if (!conn) return { sessionid: s.publicId, connected: false };
              return { sessionid: s.publicId, connected: true, address: conn.info.ip, useragent: conn.info.userAgent, features: [...s.features] };
            }),
      },
    });
    // Operators' self-check (`GET /api/v1/selfcheck`, `--check`): every configured part checked.
    registerServerChecks(this.selfCheck, {
      config,
      backends: this.backends,
      backendClient: this.#backendClient,
      bus: this.bus,
      etcdBackends: this.etcdBackends,
      clusterPeers: this.cluster ? () => this.cluster?.peers?.peers() ?? [] : undefined,
      sfu: this.sfu,
      geoip: this.geoip.database,
    });
    addSelfCheckRoute(this.http.routes, { allowed: statsAllowed, trustedProxies, selfCheck: this.selfCheck });
    // Newer protocol features (upstream 2.x) whose behaviour lives in the room, router and handlers.
    for (const feature of [
      ServerFeature.AudioVideoPermissions,
      ServerFeature.JoinFeatures,
      ServerFeature.RecipientCall,
      ServerFeature.ChatRelay,
      ServerFeature.TransientSessiondata,
      ServerFeature.Serverinfo,
    ]) {
      // As upstream: audio-video-permissions is not for internal clients (fact sheet 1.3).
      this.features.add(feature, { welcome: true, client: true, internal: feature !== ServerFeature.AudioVideoPermissions });
    }
  }

  /**
   * Applies a re-read configuration where upstream does on SIGHUP: the static backend sections and
   * the gRPC targets / client TLS files. Everything else needs a restart (logged by the caller).
   */
  reload(config: Readonly<ServerConfig>): { added: string[]; removed: string[] } {
    this.cluster?.reload(config);
    const result = this.backends.reload(config);
    this.#reloadMcu?.(config);
    this.#hubMetrics.backendCurrent.set(this.backends.size);
    this.#log.info({ ...result, backends: this.backends.size }, 'backends reloaded');
    return result;
  }

  /** Binds every configured listener; resolves with the bound addresses. */
  async start(): Promise<string[]> {
    const { http, https } = this.config;
    // A database file that cannot be read is fatal, as upstream; a download runs in the background.
    await this.geoip.start();
    await this.etcdBackends?.start();
    // Like upstream, serve nobody before the bus is up (NATS: first connection retried 1 s → 8 s).
    await this.bus.start();
    this.#log.info({ bus: this.bus.kind, urls: this.bus.info().urls }, this.bus.kind === 'loopback' ? 'message bus: in-process (single node)' : 'message bus: NATS');
    const bound: string[] = [];
    for (const address of http.listen) {
      bound.push(await this.http.listen({ address, readTimeout: http.readtimeout, writeTimeout: http.writetimeout }));
    }
    for (const address of https.listen) {
      const tls = { certificate: https.certificate, key: https.key };
      bound.push(await this.http.listen({ address, readTimeout: https.readtimeout, writeTimeout: https.writetimeout, tls }));
    }
    if (bound.length === 0) this.#log.warn('no [http] or [https] listen address configured');
    if (this.cluster && this.#clusterAnswers) await this.cluster.start(this.#clusterAnswers);
    this.http.setReady(true);
    // Janus may come up later: the SFU keeps retrying in the background (upstream 1 s → 16 s).
    this.sfu?.start();
    return bound;
  }

  /** Graceful stop: every part in reverse start order (clients first, the Nextcloud client last). */
  async stop(): Promise<void> {
    await this.#shutdown.run(STOP_DEADLINE_MS);
  }

  /** Not ready, no new sockets, clients told we are going away. */
  async #goodbye(): Promise<void> {
    this.http.startDraining();
    this.hub.shutdown();
    // Listeners stay open (readiness 503) while clients answer the 1001 close frames.
    const unanswered = await this.http.waitForWebSockets(WEBSOCKET_CLOSE_GRACE_MS);
    if (unanswered > 0) this.#log.info({ unanswered }, 'closed WebSockets that did not answer the close frame');
  }
}
