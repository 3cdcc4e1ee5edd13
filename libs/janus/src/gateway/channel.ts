import type { Logger } from '@talk-signaling/runtime';
import type { JanusMessage } from './janus-types';
import type { TransactionOptions } from './transaction-table';

/**
 * What a session or handle needs from its parent: a way to send a request and wait for its
 * answer (the parent adds `session_id`/`handle_id`), plus shared settings. Internal; lets the
 * children stay ignorant of the WebSocket.
 */
export interface JanusChannel {
  request(msg: Record<string, unknown>, options: TransactionOptions): Promise<JanusMessage>;
  /** Fails the pending requests `owner` started (it closed). */
  cancel(owner: object, err: Error): void;
  readonly logger: Logger;
  /** Default deadline for requests (ms). */
  readonly requestTimeoutMs: number;
}

/** Request options with the parent's default timeout filled in. */
export function withTimeout(
  channel: JanusChannel,
  request: string,
  ackIsFinal: boolean,
  owner: object,
  timeoutMs?: number,
): TransactionOptions {
  return { request, ackIsFinal, owner, timeoutMs: timeoutMs ?? channel.requestTimeoutMs };
}
