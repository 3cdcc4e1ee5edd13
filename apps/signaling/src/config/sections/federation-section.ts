/** `[federation]` (upstream 2.0.0): connections to remote signaling servers. */
import { z } from 'zod';
import { boolOption, intOption, listOption } from '@talk-signaling/runtime';

/** Default timeout for requests to federation targets (upstream `defaultFederationTimeoutSeconds`). */
export const DEFAULT_FEDERATION_TIMEOUT_SECONDS = 10;

/** `[federation]` */
export const FederationSection = z.object({
  /** Skip TLS certificate validation of federation targets (development only). Default: false. */
  skipverify: boolOption(false),
  /** Timeout in seconds for requests to federation targets; ≤ 0 means the default. Default: 10. */
  timeout: intOption(DEFAULT_FEDERATION_TIMEOUT_SECONDS, 'positive'),
  /**
   * Our addition (not upstream): comma-separated host names (optionally `host:port`) that
   * federated sessions may connect to. Default: empty, meaning any host.
   */
  allowedhosts: listOption('comma'),
});
