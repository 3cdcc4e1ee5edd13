/** `[turn]`: the TURN credentials REST API (`/turn/credentials`). */
import { z } from 'zod';
import { listOption, stringOption } from '@talk-signaling/runtime';

/** `[turn]` */
export const TurnSection = z.object({
  /** API key clients must send; required if `servers` is set. Default: none. `$(VAR)` resolved. */
  apikey: stringOption(),
  /** Shared secret with the TURN server; required if `servers` is set. Default: none. `$(VAR)` resolved. */
  secret: stringOption(),
  /** Comma-separated TURN URIs. Default: empty, meaning the TURN API answers 404. */
  servers: listOption('comma'),
});
