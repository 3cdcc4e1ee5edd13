import type { Registry } from 'prom-client';
import type { Logger } from '@talk-signaling/runtime';
import type { ServerConfig } from '../../config';
import { EtcdProxyTargets } from './proxy-etcd-targets';
import { createProxyMetrics } from './proxy-metrics';
import { ProxySfu, type ProxySfuOptions, type RemotePublisherLookup } from './proxy-sfu';
import { StaticProxyTargets } from './proxy-targets';
import { loadProxyTokenKey } from './proxy-token';

/** Test tuning of the proxy MCU. */
export type ProxySfuTuning = ProxySfuOptions['connection'] & { dnsIntervalMs?: number };

/**
 * `[mcu] type = proxy`: the proxy SFU with its list of proxies from the configuration
 * (`urltype = static`, optionally with DNS discovery, or `urltype = etcd`), and what a SIGHUP
 * changes of it.
 */
export function createProxySfu(
  config: Readonly<ServerConfig>,
  registry: Registry,
  log: Logger,
  tuning: ProxySfuTuning = {},
  remotePublishers?: RemotePublisherLookup,
): { sfu: ProxySfu; reload: (config: Readonly<ServerConfig>) => void } {
  const mcu = config.mcu;
  const { dnsIntervalMs, ...connection } = tuning;
  let staticTargets: StaticProxyTargets | undefined;
  const sfu = new ProxySfu({
    tokenId: mcu.token_id,
    tokenKey: loadProxyTokenKey(mcu.token_key),
    timeoutMs: mcu.timeout * 1000,
    proxyTimeoutMs: mcu.proxytimeout * 1000,
    maxStreamBitrate: mcu.maxstreambitrate,
    maxScreenBitrate: mcu.maxscreenbitrate,
    continentOverrides: config.continentOverrides,
    skipVerify: mcu.skipverify,
    metrics: createProxyMetrics(registry),
    log,
    connection,
    ...(remotePublishers ? { remotePublishers } : {}),
    targetSource: (onTargets) =>
      mcu.urltype === 'etcd'
        ? new EtcdProxyTargets({ etcd: config.etcd, prefix: mcu.keyprefix, onTargets, log })
        : (staticTargets = new StaticProxyTargets({ urls: mcu.url, dnsDiscovery: mcu.dnsdiscovery, onTargets, log, ...(dnsIntervalMs ? { intervalMs: dnsIntervalMs } : {}) })),
  });
  return {
    sfu,
    // SIGHUP (upstream): continent overrides, and the static proxy list / DNS discovery (an etcd
    // list follows etcd itself).
    reload: (next) => {
      sfu.setContinentOverrides(next.continentOverrides);
      if (next.mcu.type === 'proxy' && next.mcu.urltype === 'static') staticTargets?.update(next.mcu.url, next.mcu.dnsdiscovery);
    },
  };
}
