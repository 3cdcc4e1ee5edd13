/** `[stats]`: who may read `/api/v1/stats`, `/metrics` (and server info). */
import { z } from 'zod';
import { ipListOption } from '@talk-signaling/runtime';

/** `[stats]` */
export const StatsSection = z.object({
  /** Comma-separated IPs / CIDR networks. Default: empty, meaning the app allows 127.0.0.1 only. */
  allowed_ips: ipListOption(),
});
