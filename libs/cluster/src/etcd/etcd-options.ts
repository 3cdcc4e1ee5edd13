/**
 * The `[etcd]` options of server.conf / proxy.conf, by their upstream key names. The app's config
 * loader produces this shape (structural typing: libs/cluster never imports the app).
 */
export interface EtcdOptions {
  /** `host:port` or `http(s)://host:port` entries; wins over DNS SRV discovery. */
  readonly endpoints?: readonly string[];
  /** Domain for DNS SRV discovery (used only when `endpoints` is empty). */
  readonly discoverysrv?: string;
  /** Optional service name suffix for DNS SRV discovery (`_etcd-client-<name>._tcp`). */
  readonly discoveryservice?: string;
  /** Client private key PEM file (TLS needs all three of key, cert and CA). */
  readonly clientkey?: string;
  /** Client certificate PEM file. */
  readonly clientcert?: string;
  /** CA certificate PEM file the etcd server's certificate is checked against. */
  readonly cacert?: string;
  /**
   * Upstream's zap log level of the Go etcd client. Accepted and ignored: etcd3 has no log
   * output of its own; our own lines go through the logger.
   */
  readonly loglevel?: string;
}

/** Per-request deadline for unary etcd calls (upstream: 1 s dial timeout and 1 s `Get`). */
export const ETCD_CALL_TIMEOUT_MS = 1_000;
