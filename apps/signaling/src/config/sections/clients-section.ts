/** `[clients]`: internal clients (SIP bridge, recording server, ...). */
import { z } from 'zod';
import { stringOption } from '@talk-signaling/runtime';

/** `[clients]` */
export const ClientsSection = z.object({
  /**
   * Shared secret internal clients prove with their hello. Default: empty, meaning internal
   * clients are rejected. `$(VAR)` references are resolved.
   */
  internalsecret: stringOption(),
});
