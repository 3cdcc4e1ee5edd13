/**
 * Serialises `AsyncMessage`s for NATS. The server message inside (`message`) is often published
 * several times in a row as the same object — a room's member list to each joiner, one event to
 * each session of a user — so from its second publish on, its JSON is kept and only the small
 * envelope (`type`, `sendtime`) is serialised again. A message published once costs exactly one
 * `JSON.stringify`. Relies on the bus contract: published messages are not changed afterwards.
 */
export class AsyncMessageEncoder {
  #lastInner: object | undefined;
  #lastJson: string | undefined;

  /** Throws what `JSON.stringify` throws (cycles, BigInt). */
  encode(message: object): string {
    const inner = (message as { message?: unknown }).message;
    if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return JSON.stringify(message);
    if (inner !== this.#lastInner) {
      this.#lastInner = undefined; // stays unset if stringify throws
      const json = JSON.stringify(message);
      this.#lastInner = inner;
      this.#lastJson = undefined;
      return json;
    }
    this.#lastJson ??= JSON.stringify(inner);
    const { message: _inner, ...envelope } = message as Record<string, unknown>;
    const head = JSON.stringify(envelope);
    return head.length === 2 ? `{"message":${this.#lastJson}}` : `${head.slice(0, -1)},"message":${this.#lastJson}}`;
  }
}
