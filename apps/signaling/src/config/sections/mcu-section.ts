/** `[mcu]`: the SFU — one Janus, or mcu-proxies (upstream `mcu_*.go`, `proxy_config_*.go`). */
import { z } from 'zod';
import { boolOption, enumOption, intOption, listOption, stringOption } from '@talk-signaling/runtime';

/** MCU types; empty disables the MCU. */
export const MCU_TYPES = ['', 'janus', 'proxy'] as const;
/** How proxy URLs are configured. */
export const MCU_URL_TYPES = ['static', 'etcd'] as const;
/** Default proxy URL configuration. */
export const DEFAULT_MCU_URL_TYPE = 'static';
/** Default max bitrate per published stream in bit/s (1024 × 1024). */
export const DEFAULT_MCU_MAX_STREAM_BITRATE = 1048576;
/** Default max bitrate per screen share in bit/s (2048 × 1024). */
export const DEFAULT_MCU_MAX_SCREEN_BITRATE = 2097152;
/** Default MCU request timeout in seconds (upstream `defaultMcuTimeoutSeconds`). */
export const DEFAULT_MCU_TIMEOUT_SECONDS = 10;
/** Default per-proxy request / handshake timeout in seconds (upstream `defaultProxyTimeoutSeconds`). */
export const DEFAULT_MCU_PROXY_TIMEOUT_SECONDS = 2;

/** `[mcu]` */
export const McuSection = z.object({
  /**
   * `janus`, `proxy`, or empty for no MCU. Default: empty. (Upstream compatibility: a `url`
   * without `type` means `janus`; `janus` without `url` means no MCU — both with a warning.)
   */
  type: enumOption(MCU_TYPES, '', 'MCU type'),
  /**
   * `janus`: the Janus WebSocket URL. `proxy` with `urltype = static`: space-separated proxy
   * URLs. Default: none. `$(VAR)` references are resolved.
   */
  url: listOption('space'),
  /** Max bitrate per published stream in bit/s; ≤ 0 means the default. Default: 1048576. */
  maxstreambitrate: intOption(DEFAULT_MCU_MAX_STREAM_BITRATE, 'positive'),
  /** Max bitrate per screen share in bit/s; ≤ 0 means the default. Default: 2097152. */
  maxscreenbitrate: intOption(DEFAULT_MCU_MAX_SCREEN_BITRATE, 'positive'),
  /** MCU request timeout in seconds; ≤ 0 means the default. Default: 10. */
  timeout: intOption(DEFAULT_MCU_TIMEOUT_SECONDS, 'positive'),
  /** `proxy`: timeout per proxy request / handshake in seconds; ≤ 0 means the default. Default: 2. */
  proxytimeout: intOption(DEFAULT_MCU_PROXY_TIMEOUT_SECONDS, 'positive'),
  /** `proxy`: `static` (`url`) or `etcd` (`keyprefix`). Default: `static`. */
  urltype: enumOption(MCU_URL_TYPES, DEFAULT_MCU_URL_TYPE, 'MCU URL type'),
  /** `proxy`: skip TLS certificate validation of proxies (development only). Default: false. */
  skipverify: boolOption(false),
  /** `proxy`: token id (issuer) this server uses towards proxies; required for `proxy`. Default: none. */
  token_id: stringOption(),
  /** `proxy`: RSA private key PEM file for the tokens; required for `proxy`. Default: none. */
  token_key: stringOption(),
  /** `proxy` + `static`: one connection per resolved IP of each proxy host. Default: false. */
  dnsdiscovery: boolOption(false),
  /**
   * `proxy` + `etcd`: key prefix of proxy entries, e.g. `/signaling/proxy/server`.
   * Default: none (upstream then watches the literal prefix `/%s`).
   */
  keyprefix: stringOption(),
});
