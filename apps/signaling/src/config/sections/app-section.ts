/** `[app]`: process-wide switches. */
import { z } from 'zod';
import { boolOption, ipListOption } from '@talk-signaling/runtime';

/** `[app]` */
export const AppSection = z.object({
  /** Install the debug (profiling) handlers. Default: false. */
  debug: boolOption(false),
  /** Skip the same-call check for `requestoffer` (insecure, testing only). Default: false. */
  allowsubscribeany: boolOption(false),
  /**
   * Comma-separated IPs / CIDR networks allowed to set `X-Real-IP` / `X-Forwarded-For`.
   * Default: empty, meaning the app uses 127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16.
   */
  trustedproxies: ipListOption(),
});
