import { Counter, Gauge, type Registry } from 'prom-client';

/** The proxy's own metrics, upstream names (`cmd/proxy/proxy_stats_prometheus.go`, fact sheet 7.4). */
export function createProxyMetrics(registry: Registry) {
  const registers = [registry];
  return {
    sessions: new Gauge({ name: 'signaling_proxy_sessions', help: 'The current number of sessions', registers }),
    sessionsTotal: new Counter({ name: 'signaling_proxy_sessions_total', help: 'The total number of created sessions', registers }),
    sessionsResumedTotal: new Counter({ name: 'signaling_proxy_sessions_resumed_total', help: 'The total number of resumed sessions', registers }),
    publishers: new Gauge({ name: 'signaling_proxy_publishers', help: 'The current number of publishers', labelNames: ['type'], registers }),
    publishersTotal: new Counter({ name: 'signaling_proxy_publishers_total', help: 'The total number of created publishers', labelNames: ['type'], registers }),
    subscribers: new Gauge({ name: 'signaling_proxy_subscribers', help: 'The current number of subscribers', labelNames: ['type'], registers }),
    subscribersTotal: new Counter({ name: 'signaling_proxy_subscribers_total', help: 'The total number of created subscribers', labelNames: ['type'], registers }),
    commandMessagesTotal: new Counter({ name: 'signaling_proxy_command_messages_total', help: 'The total number of command messages', labelNames: ['type'], registers }),
    payloadMessagesTotal: new Counter({ name: 'signaling_proxy_payload_messages_total', help: 'The total number of payload messages', labelNames: ['type'], registers }),
    tokenErrorsTotal: new Counter({ name: 'signaling_proxy_token_errors_total', help: 'The total number of token errors', labelNames: ['reason'], registers }),
    load: new Gauge({ name: 'signaling_proxy_load', help: 'The current load of the signaling proxy', registers }),
  };
}

export type ProxyMetrics = ReturnType<typeof createProxyMetrics>;
