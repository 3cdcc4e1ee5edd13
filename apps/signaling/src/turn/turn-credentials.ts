import { createHmac, randomBytes } from 'node:crypto';

/** How long issued TURN credentials are valid (upstream: fixed 24 h). */
export const TURN_CREDENTIALS_TTL_SECONDS = 24 * 60 * 60;

/** Length of the random user name when the client sends none (upstream: 32 characters). */
const RANDOM_USERNAME_CHARS = 32;

/** The JSON answer of `GET /turn/credentials` (draft-uberti-behave-turn-rest-00). */
export interface TurnCredentials {
  username: string;
  password: string;
  ttl: number;
  uris: string[];
}

/**
 * Time-limited TURN credentials as a coturn-style TURN server checks them with its
 * `static-auth-secret`: the user name is `<expiry unix seconds>:<name>`, the password the
 * base64 HMAC-SHA1 of that user name under the shared secret.
 */
export function turnCredentials(opts: {
  secret: string;
  servers: readonly string[];
  username?: string;
  nowMs?: number;
  ttlSeconds?: number;
}): TurnCredentials {
  const ttl = opts.ttlSeconds ?? TURN_CREDENTIALS_TTL_SECONDS;
  const expires = Math.floor((opts.nowMs ?? Date.now()) / 1000) + ttl;
  const name = opts.username || randomBytes(RANDOM_USERNAME_CHARS / 2).toString('hex');
  const username = `${expires}:${name}`;
  const password = createHmac('sha1', opts.secret).update(username).digest('base64');
  return { username, password, ttl, uris: [...opts.servers] };
}
