/** `[nats]`: the message bus between signaling nodes. */
import { z } from 'zod';
import { listOption } from '@talk-signaling/runtime';

/** Default NATS server (nats.go `DefaultURL`). */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
/** Selects the in-process bus instead of a NATS server (single node / development). */
export const NATS_LOOPBACK_URL = 'nats://loopback';
/** Deprecated spelling of {@link NATS_LOOPBACK_URL}, still accepted upstream. */
export const DEPRECATED_NATS_LOOPBACK_URL = ':loopback:';

/** `[nats]` */
export const NatsSection = z.object({
  /**
   * Comma-separated NATS server URLs (nats.go splits the URL string at commas), or
   * `nats://loopback` for the in-process bus. Default: `nats://127.0.0.1:4222`.
   * `$(VAR)` references are resolved.
   */
  url: listOption('comma', [DEFAULT_NATS_URL]),
});
