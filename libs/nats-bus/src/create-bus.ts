import type { Logger } from '@talk-signaling/runtime';
import type { Bus } from './bus';
import type { BusLimits } from './bus-limits';
import { LOOPBACK_URL, LoopbackBus } from './loopback-bus';
import type { BusMetrics } from './metrics';
import { NatsBus } from './nats-bus';

/** Deprecated spelling of `nats://loopback` that upstream still accepts. */
export const DEPRECATED_LOOPBACK_URL = ':loopback:';

export interface CreateBusOptions {
  log: Logger;
  metrics?: BusMetrics;
  limits?: Partial<BusLimits>;
  onError?: (err: unknown, subject: string) => void;
  connectBackoff?: { initialMs: number; maxMs: number };
  reconnectWaitMs?: number;
}

/**
 * The bus `[nats] url` asks for: `nats://loopback` (or `:loopback:`) keeps everything in this
 * process; anything else is a list of NATS servers. Call `start()` on the result.
 */
export function createBus(urls: readonly string[], opts: CreateBusOptions): Bus {
  const servers = urls.map((u) => u.trim()).filter((u) => u !== '');
  const loopback = servers.length === 1 && (servers[0] === LOOPBACK_URL || servers[0] === DEPRECATED_LOOPBACK_URL);
  if (loopback) {
    if (servers[0] === DEPRECATED_LOOPBACK_URL) {
      opts.log.warn(`[nats] url ${DEPRECATED_LOOPBACK_URL} is deprecated, use ${LOOPBACK_URL}`);
    }
    return new LoopbackBus({ onError: opts.onError, limits: opts.limits, metrics: opts.metrics });
  }
  if (servers.some((u) => u === LOOPBACK_URL || u === DEPRECATED_LOOPBACK_URL)) {
    opts.log.warn({ servers }, `[nats] url mixes ${LOOPBACK_URL} with servers: the loopback entry is ignored`);
  }
  return new NatsBus({
    servers: servers.filter((u) => u !== LOOPBACK_URL && u !== DEPRECATED_LOOPBACK_URL),
    log: opts.log,
    metrics: opts.metrics,
    limits: opts.limits,
    onError: opts.onError,
    connectBackoff: opts.connectBackoff,
    reconnectWaitMs: opts.reconnectWaitMs,
  });
}
