/** `[sessions]`: keys for the session id cookies (gorilla/securecookie in upstream). */
import { z } from 'zod';
import { stringOption } from '@talk-signaling/runtime';

/** Hash key lengths (bytes) upstream accepts without a warning. */
export const RECOMMENDED_HASH_KEY_BYTES: readonly number[] = Object.freeze([32, 64]);
/** Block key lengths (bytes) allowed; 0 disables encryption of session ids. */
export const ALLOWED_BLOCK_KEY_BYTES: readonly number[] = Object.freeze([0, 16, 24, 32]);

/** `[sessions]` */
export const SessionsSection = z.object({
  /**
   * HMAC key for session ids; should be 32 or 64 bytes (other lengths warn, as upstream).
   * Default: none. `$(VAR)` references are resolved.
   */
  hashkey: stringOption(),
  /**
   * AES key for session ids: 16, 24 or 32 bytes, or empty for no encryption (not recommended).
   * Other lengths are an error. Default: empty. `$(VAR)` references are resolved.
   */
  blockkey: stringOption().superRefine((value, ctx) => {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (!ALLOWED_BLOCK_KEY_BYTES.includes(bytes)) {
      ctx.addIssue({ code: 'custom', message: `must be 16, 24 or 32 bytes (or empty) but is ${bytes} bytes` });
    }
  }),
});
