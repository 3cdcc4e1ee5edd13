import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A random id for this process, answered by `GetServerId` so a node recognises itself among its
 * targets: SHA-256 hex over 32 random bytes, the hostname and the pid (upstream's recipe).
 */
export function createServerId(): string {
  return createHash('sha256')
    .update(`${randomBytes(32).toString('base64url')}-${hostname()}-${process.pid}`)
    .digest('hex');
}
