/**
 * The validated `server.conf`, as the app receives it (frozen). Field docs and defaults live on
 * the section schemas in `sections/`; this file is only the shape.
 */

/** One Nextcloud instance from a per-backend section listed in `[backend] backends`. */
export interface BackendEntryConfig {
  /** The id as written in `[backend] backends` (its section name is the lower-cased id). */
  id: string;
  /** Normalised base URLs: `/` appended, explicit default port removed; never empty. */
  urls: string[];
  /** Own secret, or `[backend] secret` when the section has none; never empty. */
  secret: string;
  /** Max client sessions, 0 = unlimited. */
  sessionlimit: number;
  /** Max bitrate per published stream (bit/s), 0 = the MCU's. */
  maxstreambitrate: number;
  /** Max bitrate per screen share (bit/s), 0 = the MCU's. */
  maxscreenbitrate: number;
}

/** Everything in `server.conf` the server uses. */
export interface ServerConfig {
  http: { listen: string[]; readtimeout: number; writetimeout: number };
  https: { listen: string[]; readtimeout: number; writetimeout: number; certificate: string; key: string };
  /** `trustedproxies: []` => the app uses the private-range default. */
  app: { debug: boolean; allowsubscribeany: boolean; trustedproxies: string[] };
  sessions: { hashkey: string; blockkey: string };
  clients: { internalsecret: string };
  backend: {
    backendtype: 'static' | 'etcd';
    backends: string[];
    backendprefix: string;
    allowall: boolean;
    allowhttp: boolean;
    allowed: string[];
    secret: string;
    sessionlimit: number;
    timeout: number;
    connectionsperhost: number;
    skipverify: boolean;
  };
  /**
   * Per-backend sections listed in [backend] backends, keyed by id, secret already falling back
   * to [backend] secret; backends without url or without any secret are left out with a warning
   * (upstream skips them).
   */
  backends: Record<string, BackendEntryConfig>;
  /** Default `['nats://127.0.0.1:4222']`; `'nats://loopback'` selects the in-process bus. */
  nats: { url: string[] };
  mcu: {
    type: '' | 'janus' | 'proxy';
    url: string[];
    maxstreambitrate: number;
    maxscreenbitrate: number;
    timeout: number;
    proxytimeout: number;
    urltype: 'static' | 'etcd';
    skipverify: boolean;
    token_id: string;
    token_key: string;
    dnsdiscovery: boolean;
    keyprefix: string;
  };
  turn: { apikey: string; secret: string; servers: string[] };
  geoip: { license: string; url: string };
  /** IP or CIDR → upper-cased country code. */
  geoipOverrides: Record<string, string>;
  /** Continent code → continent codes its clients are mapped to. */
  continentOverrides: Record<string, string[]>;
  /** `allowed_ips: []` => the app uses 127.0.0.1 only. */
  stats: { allowed_ips: string[] };
  etcd: {
    endpoints: string[];
    discoverysrv: string;
    discoveryservice: string;
    clientkey: string;
    clientcert: string;
    cacert: string;
    loglevel: string;
  };
  grpc: {
    listen: string;
    servercertificate: string;
    serverkey: string;
    serverca: string;
    clientcertificate: string;
    clientkey: string;
    clientca: string;
    targettype: 'static' | 'etcd';
    targets: string[];
    dnsdiscovery: boolean;
    targetprefix: string;
  };
  /** `allowedhosts` is our addition (empty = any host). */
  federation: { skipverify: boolean; timeout: number; allowedhosts: string[] };
}

/** Result of loading a configuration. */
export interface LoadedServerConfig {
  config: Readonly<ServerConfig>;
  /** Unknown sections/keys and things upstream accepts but logs a warning for. */
  warnings: string[];
}
