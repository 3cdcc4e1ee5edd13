import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Metrics of `[mcu] type = proxy` (fact sheet 7.4; names as upstream v2.1.1 `sfu/proxy`): the
 * common MCU set (publishers, subscribers, waits for a publisher) plus the proxy backends'
 * connections, load, usage and bandwidth. `signaling_mcu_backend_invalid_messages_total` is
 * ours: frames from a proxy that were dropped (bad JSON, unknown types, wrong shapes).
 */
export interface ProxyMetrics {
  publishers: Gauge<'type'>;
  publishersTotal: Counter<'type'>;
  subscribers: Gauge<'type'>;
  subscribersTotal: Counter<'type'>;
  noPublisherTotal: Counter<'type'>;
  backendConnections: Gauge<'country'>;
  backendLoad: Gauge<'url'>;
  backendUsage: Gauge<'url' | 'direction'>;
  backendBandwidth: Gauge<'url' | 'direction'>;
  noBackendAvailableTotal: Counter<'type'>;
  invalidMessagesTotal: Counter<'url'>;
}

export function createProxyMetrics(registry: Registry): ProxyMetrics {
  const registers = [registry];
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]) => new Gauge<L>({ name, help, labelNames, registers });
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) => new Counter<L>({ name, help, labelNames, registers });
  return {
    publishers: gauge('signaling_mcu_publishers', 'The current number of publishers', ['type']),
    publishersTotal: counter('signaling_mcu_publishers_total', 'The total number of created publishers', ['type']),
    subscribers: gauge('signaling_mcu_subscribers', 'The current number of subscribers', ['type']),
    subscribersTotal: counter('signaling_mcu_subscribers_total', 'The total number of created subscribers', ['type']),
    noPublisherTotal: counter('signaling_mcu_nopublisher_total', 'The total number of subscribe requests where no publisher exists', ['type']),
    backendConnections: gauge('signaling_mcu_backend_connections', 'Current number of connections to signaling proxy backends', ['country']),
    backendLoad: gauge('signaling_mcu_backend_load', 'Current load of signaling proxy backends', ['url']),
    backendUsage: gauge('signaling_mcu_backend_usage', 'The current usage of signaling proxy backends in percent', ['url', 'direction']),
    backendBandwidth: gauge('signaling_mcu_backend_bandwidth', 'The current bandwidth of signaling proxy backends in bytes per second', ['url', 'direction']),
    noBackendAvailableTotal: counter('signaling_mcu_no_backend_available_total', 'Total number of publishing requests where no backend was available', ['type']),
    invalidMessagesTotal: counter('signaling_mcu_backend_invalid_messages_total', 'Frames from signaling proxy backends that were dropped as invalid', ['url']),
  };
}
