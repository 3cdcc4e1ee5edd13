import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Random string header of checksummed backend requests (fact sheet 2.1). */
export const HEADER_RANDOM = 'Spreed-Signaling-Random';
/** HMAC header: lowercase hex of HMAC-SHA256(secret, random ‖ body). */
export const HEADER_CHECKSUM = 'Spreed-Signaling-Checksum';
/** Base URL of the Nextcloud instance making a backend request (only NC → signaling). */
export const HEADER_BACKEND = 'Spreed-Signaling-Backend';
/** Feature list header on backend responses and on outgoing requests to Nextcloud. */
export const HEADER_FEATURES = 'X-Spreed-Signaling-Features';

/** 32 random bytes as 64 lowercase hex characters, like the Go server sends. */
export function newRandom(): string {
  return randomBytes(32).toString('hex');
}

/** Lowercase hex HMAC-SHA256 with key `secret` over the random string's bytes followed by the body. */
export function calculateChecksum(random: string, body: string | Uint8Array, secret: string | Uint8Array): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(random);
  hmac.update(body);
  return hmac.digest('hex');
}

/**
 * Checks a received checksum in constant time. Like upstream, the received string is compared
 * byte-wise with the lowercase hex digest (so uppercase hex does not match); a checksum of the
 * wrong length is rejected without comparing.
 */
export function validateChecksum(
  random: string,
  body: string | Uint8Array,
  secret: string | Uint8Array,
  checksum: string,
): boolean {
  const expected = Buffer.from(calculateChecksum(random, body, secret), 'latin1');
  const received = Buffer.from(checksum, 'utf8');
  if (received.length !== expected.length) return false;
  return timingSafeEqual(expected, received);
}
