import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Kept local: libs/protocol's checksum helpers were not available when this tool was written,
// and the fake should check requests independently of the code under test anyway.

/** Header carrying the random string of a signed request. */
export const RANDOM_HEADER = 'spreed-signaling-random';
/** Header carrying hex HMAC-SHA256(secret, random ‖ body). */
export const CHECKSUM_HEADER = 'spreed-signaling-checksum';
/** Header naming the Nextcloud instance on Nextcloud → signaling requests. */
export const BACKEND_HEADER = 'spreed-signaling-backend';

/** Lowercase hex HMAC-SHA256 with key `secret` over `random` immediately followed by `body`. */
export function checksum(random: string, body: string | Buffer, secret: string): string {
  return createHmac('sha256', secret).update(random).update(body).digest('hex');
}

/** 64 lowercase hex chars (32 random bytes), like the Go server and Talk send. */
export function newRandom(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Talk's `SignalingController::validateBackendRequest`: both headers present, random at least 32
 * characters, and `hash_equals(hmac, strtolower(checksum))`.
 */
export function talkValidates(
  random: string | undefined,
  given: string | undefined,
  body: Buffer,
  secret: string,
): boolean {
  if (!random || random.length < 32 || !given) return false;
  const expected = Buffer.from(checksum(random, body, secret));
  const actual = Buffer.from(given.toLowerCase());
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
