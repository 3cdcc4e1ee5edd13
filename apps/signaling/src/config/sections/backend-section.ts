/** `[backend]`: which Nextcloud instances may use this server (upstream `backend_*.go`). */
import { z } from 'zod';
import { boolOption, enumOption, intOption, listOption, stringOption } from '@talk-signaling/runtime';

/** Backend configuration types (`[backend] backendtype`). */
export const BACKEND_TYPES = ['static', 'etcd'] as const;
/** Default backend configuration type. */
export const DEFAULT_BACKEND_TYPE = 'static';
/** Default timeout for requests to Nextcloud in seconds (upstream `defaultBackendTimeoutSeconds`). */
export const DEFAULT_BACKEND_TIMEOUT_SECONDS = 10;
/** Default concurrent requests per Nextcloud host (upstream `defaultMaxConcurrentRequestsPerHost`). */
export const DEFAULT_BACKEND_CONNECTIONS_PER_HOST = 8;
/** Default session limit: 0 = unlimited. */
export const DEFAULT_BACKEND_SESSION_LIMIT = 0;

/** `[backend]` */
export const BackendSection = z.object({
  /** `static` (this file) or `etcd` (entries below `backendprefix`). Default: `static`. */
  backendtype: enumOption(BACKEND_TYPES, DEFAULT_BACKEND_TYPE, 'backend type'),
  /**
   * Comma-separated ids of the per-backend sections (duplicates ignored, order kept).
   * Default: none.
   */
  backends: listOption('comma').transform((ids) => [...new Set(ids)]),
  /** etcd key prefix of backend entries; required for `backendtype = etcd`. Default: none. */
  backendprefix: stringOption(),
  /** Accept any backend host with the common `secret` (benchmarks / development only). Default: false. */
  allowall: boolOption(false),
  /** Allow `http://` for the compat backend (`allowall` / `allowed`). Default: false. */
  allowhttp: boolOption(false),
  /**
   * Deprecated: comma-separated host names sharing the common `secret`; anything from the first
   * `/` is cut, hosts are lower-cased. Default: none.
   */
  allowed: listOption('comma').transform((hosts) =>
    [...new Set(hosts.map((host) => host.split('/')[0]?.trim().toLowerCase() ?? '').filter((host) => host !== ''))],
  ),
  /**
   * Common shared secret: for `allowall` / `allowed`, and for backends without their own.
   * Default: none. `$(VAR)` references are resolved.
   */
  secret: stringOption(),
  /** Session limit of the compat backend; < 0 means 0. Default: 0 (unlimited). */
  sessionlimit: intOption(DEFAULT_BACKEND_SESSION_LIMIT, 'nonNegative'),
  /** Timeout for requests to Nextcloud in seconds; ≤ 0 means the default. Default: 10. */
  timeout: intOption(DEFAULT_BACKEND_TIMEOUT_SECONDS, 'positive'),
  /** Concurrent requests per Nextcloud host; ≤ 0 means the default. Default: 8. */
  connectionsperhost: intOption(DEFAULT_BACKEND_CONNECTIONS_PER_HOST, 'positive'),
  /** Skip TLS certificate validation towards Nextcloud (development only). Default: false. */
  skipverify: boolOption(false),
});
