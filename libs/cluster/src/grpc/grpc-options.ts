/**
 * The `[grpc]` options of server.conf, by their upstream key names. The app's config loader
 * produces this shape (libs/cluster never imports the app).
 */
export interface GrpcOptions extends GrpcTlsOptions {
  /** `host:port` the server listens on; empty = no server (this node only asks others). */
  readonly listen?: string;
  /** `static` (default): `targets`; `etcd`: keys under `targetprefix`. */
  readonly targettype?: 'static' | 'etcd';
  /** `static`: `host:port` entries. */
  readonly targets?: readonly string[];
  /** `static`: one connection per resolved IP of hostname targets, re-resolved every second. */
  readonly dnsdiscovery?: boolean;
  /** `etcd`: key prefix whose values are `{"address": "host:port"}`. */
  readonly targetprefix?: string;
}

/** TLS files of `[grpc]`; missing files mean an unencrypted side (upstream warns). */
export interface GrpcTlsOptions {
  /** Server side: certificate presented to peers. */
  readonly servercertificate?: string;
  readonly serverkey?: string;
  /** Client side: CA the peers' server certificates are checked against. */
  readonly serverca?: string;
  /** Client side: certificate presented to peers that require one. */
  readonly clientcertificate?: string;
  readonly clientkey?: string;
  /** Server side: CA that issued the peers' client certificates; set = clients must present one. */
  readonly clientca?: string;
}

/**
 * Deadlines (ms) upstream's hub puts on its cluster calls. `GetServerId` is the self check
 * (retried 1 s doubling to 8 s on failure).
 */
export const GRPC_TIMEOUTS = Object.freeze({
  getServerId: 1_000,
  getSessionCount: 1_000,
  getInternalSessions: 1_000,
  getTransientData: 1_000,
  lookupResumeId: 5_000,
  /** Upstream uses the backend timeout (`[backend] timeout`, default 10 s) for room joins. */
  lookupSessionId: 10_000,
  /** Upstream uses the MCU timeout (`[mcu] timeout`, default 10 s). */
  isSessionInCall: 10_000,
  getPublisherId: 10_000,
});

/** How often hostname targets are re-resolved with `dnsdiscovery` (upstream: 1 s). */
export const DNS_DISCOVERY_INTERVAL_MS = 1_000;
