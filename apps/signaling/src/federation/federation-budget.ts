import { Counter, type Registry } from 'prom-client';

/**
 * What one federation connection may hold of its local client's messages (issue 10): while the
 * remote server is unreachable, messages wait in a queue (oldest dropped past either bound, as
 * the remote room moves on meanwhile anyway); while connected, a remote server that stops
 * reading is cut off once this much is unsent, and the connection is re-established and the
 * remote session resumed, as after any interruption.
 */
export interface FederationBudget {
  /** Messages waiting while not connected. */
  maxPendingMessages: number;
  /** Bytes (serialised) of those messages. */
  maxPendingBytes: number;
  /** Unsent bytes towards the remote server before it counts as not reading. */
  maxBufferedBytes: number;
}

export const DEFAULT_FEDERATION_BUDGET: Readonly<FederationBudget> = {
  maxPendingMessages: 1024,
  maxPendingBytes: 1024 * 1024, // 1 MiB
  maxBufferedBytes: 2 * 1024 * 1024, // 2 MiB, like a client socket
};

/** Counters of what federation connections dropped or cut off (our own metrics). */
export function createFederationMetrics(registry: Registry) {
  const registers = [registry];
  return {
    pendingDroppedMessagesTotal: new Counter({
      name: 'signaling_federation_pending_dropped_messages_total',
      help: 'The total number of client messages dropped while a federation connection was down and its queue was full',
      registers,
    }),
    pendingDroppedBytesTotal: new Counter({
      name: 'signaling_federation_pending_dropped_bytes_total',
      help: 'The total number of bytes of client messages dropped while a federation connection was down and its queue was full',
      registers,
    }),
    slowConnectionsTotal: new Counter({
      name: 'signaling_federation_slow_connections_total',
      help: 'The total number of federation connections cut off because the remote server did not read fast enough',
      registers,
    }),
  };
}

export type FederationMetrics = ReturnType<typeof createFederationMetrics>;
