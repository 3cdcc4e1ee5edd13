/** `[etcd]`: the etcd client (backends, proxies and gRPC targets can live in etcd). */
import { z } from 'zod';
import { listOption, stringOption } from '@talk-signaling/runtime';

/** Log levels the etcd client accepts (zap levels, case-insensitive). */
export const ETCD_LOG_LEVELS: readonly string[] = Object.freeze(['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal']);

/**
 * Options upstream also reads from `[mcu]` when missing in `[etcd]` (deprecated, with a
 * warning; `NewEtcdClient(config, "mcu")`).
 */
export const ETCD_MCU_FALLBACK_OPTIONS: readonly string[] = Object.freeze([
  'endpoints', 'discoverysrv', 'discoveryservice', 'clientkey', 'clientcert', 'cacert',
]);

/** `[etcd]` */
export const EtcdSection = z.object({
  /** Comma-separated etcd endpoints (`host:port` or URLs). Default: none. */
  endpoints: listOption('comma'),
  /** Domain for DNS SRV discovery of endpoints (only if `endpoints` is empty). Default: none. */
  discoverysrv: stringOption(),
  /** Service name for DNS SRV discovery. Default: none. */
  discoveryservice: stringOption(),
  /** Client private key PEM file for TLS. Default: none. */
  clientkey: stringOption(),
  /** Client certificate PEM file for TLS. Default: none. */
  clientcert: stringOption(),
  /** CA certificate PEM file for TLS. Default: none. */
  cacert: stringOption(),
  /** etcd client log level (debug, info, warn, error, dpanic, panic, fatal). Default: none. */
  loglevel: stringOption().superRefine((value, ctx) => {
    if (value !== '' && !ETCD_LOG_LEVELS.includes(value.toLowerCase())) {
      ctx.addIssue({ code: 'custom', message: `unsupported etcd log level "${value}" (expected one of ${ETCD_LOG_LEVELS.join(', ')})` });
    }
  }),
});
