import { Counter, Gauge, type Registry } from 'prom-client';

/** Session and message metrics of the hub, with upstream's names and labels (section 7.4). */
export function createHubMetrics(registry: Registry) {
  const registers = [registry];
  return {
    sessions: new Gauge({
      name: 'signaling_hub_sessions',
      help: 'The current number of sessions',
      labelNames: ['backend', 'clienttype'] as const,
      registers,
    }),
    sessionsTotal: new Counter({
      name: 'signaling_hub_sessions_total',
      help: 'The total number of sessions',
      labelNames: ['backend', 'clienttype'] as const,
      registers,
    }),
    sessionsResumeTotal: new Counter({
      name: 'signaling_hub_sessions_resume_total',
      help: 'The total number of resumed sessions',
      labelNames: ['backend', 'clienttype'] as const,
      registers,
    }),
    sessionsResumeFailedTotal: new Counter({
      name: 'signaling_hub_sessions_resume_failed_total',
      help: 'The total number of failed session resume requests',
      registers,
    }),
    /** Ours: sessions that ended because nobody resumed them within the window. */
    sessionsExpiredTotal: new Counter({
      name: 'signaling_hub_sessions_expired_total',
      help: 'The total number of sessions closed because they were not resumed in time',
      labelNames: ['backend', 'clienttype'] as const,
      registers,
    }),
    serverMessagesTotal: new Counter({
      name: 'signaling_server_messages_total',
      help: 'The total number of signaling messages',
      labelNames: ['type'] as const,
      registers,
    }),
    backendCurrent: new Gauge({
      name: 'signaling_backend_current',
      help: 'The current number of configured backends',
      registers,
    }),
    sessionLimitExceededTotal: new Counter({
      name: 'signaling_backend_session_limit_exceeded_total',
      help: 'The number of times the session limit exceeded',
      labelNames: ['backend'] as const,
      registers,
    }),
    /** Ours: connections closed because they stopped reading (write queue over its bound). */
    slowClientsTotal: new Counter({
      name: 'signaling_client_slow_consumers_total',
      help: 'The total number of client connections closed because they did not read fast enough',
      registers,
    }),
    /** Ours: what those connections had unsent when they were cut off. */
    slowClientBytesTotal: new Counter({
      name: 'signaling_client_slow_consumer_dropped_bytes_total',
      help: 'The total number of unsent bytes dropped with client connections closed for not reading',
      registers,
    }),
    /** Ours: detached sessions ended early because their queue passed its budget (issue 10). */
    pendingOverflowsTotal: new Counter({
      name: 'signaling_client_pending_overflows_total',
      help: 'The total number of detached sessions expired because their pending messages exceeded the budget',
      registers,
    }),
    pendingDroppedMessagesTotal: new Counter({
      name: 'signaling_client_pending_dropped_messages_total',
      help: 'The total number of pending messages dropped with sessions whose queue exceeded the budget',
      registers,
    }),
    pendingDroppedBytesTotal: new Counter({
      name: 'signaling_client_pending_dropped_bytes_total',
      help: 'The total number of bytes of pending messages dropped with sessions whose queue exceeded the budget',
      registers,
    }),
    /** Ours: client messages whose handler threw (answered with `internal_error`; the server went on). */
    messageFailuresTotal: new Counter({
      name: 'signaling_client_message_failures_total',
      help: 'The total number of client messages whose processing failed unexpectedly',
      registers,
    }),
  };
}

export type HubMetrics = ReturnType<typeof createHubMetrics>;
