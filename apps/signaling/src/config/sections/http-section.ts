/** `[http]` and `[https]`: the client/backend listeners (upstream `server/main.go`). */
import { z } from 'zod';
import { intOption, listOption, stringOption } from '@talk-signaling/runtime';

/** Default socket read timeout in seconds (upstream `defaultReadTimeout`). */
export const DEFAULT_HTTP_READ_TIMEOUT_SECONDS = 15;
/** Default socket write timeout in seconds (upstream `defaultWriteTimeout`). */
export const DEFAULT_HTTP_WRITE_TIMEOUT_SECONDS = 30;

/** `[http]` */
export const HttpSection = z.object({
  /**
   * Space-separated `ip:port` addresses or unix socket paths (starting with `/`).
   * Default: none (no plain HTTP listener). `$(VAR)` references are resolved.
   */
  listen: listOption('space'),
  /** Read timeout in seconds; ≤ 0 means the default. Default: 15. */
  readtimeout: intOption(DEFAULT_HTTP_READ_TIMEOUT_SECONDS, 'positive'),
  /** Write timeout in seconds; ≤ 0 means the default. Default: 30. */
  writetimeout: intOption(DEFAULT_HTTP_WRITE_TIMEOUT_SECONDS, 'positive'),
});

/** `[https]` */
export const HttpsSection = HttpSection.extend({
  /** PEM certificate (chain) file; required when `listen` is set. Default: none. */
  certificate: stringOption(),
  /** PEM private key file; required when `listen` is set. Default: none. */
  key: stringOption(),
});
