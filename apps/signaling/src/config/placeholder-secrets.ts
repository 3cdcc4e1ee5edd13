/**
 * Secrets copied unchanged from a sample config. The app refuses to start with them: anyone who
 * has read the sample could forge session ids or backend requests.
 */
import type { ServerConfig } from './server-config-types';

/** Values in upstream's `server.conf.in` (v1.3.0 … 2.1.1). */
export const UPSTREAM_PLACEHOLDER_SECRETS: readonly string[] = Object.freeze([
  'the-secret-for-session-checksums',
  '-encryption-key-',
  'the-shared-secret-for-internal-clients',
  'the-shared-secret-for-allowall',
  'the-shared-secret',
  'the-api-key-for-the-rest-service',
  '6d1c17a7-c736-4e22-b02c-e2955b7ecc64',
]);

/** Every placeholder in our `server.conf.in` starts with this (compared case-insensitively). */
export const PLACEHOLDER_PREFIX = 'change-me';

/** Whether `value` is a sample-config placeholder. */
export function isPlaceholderSecret(value: string): boolean {
  return UPSTREAM_PLACEHOLDER_SECRETS.includes(value) || value.toLowerCase().startsWith(PLACEHOLDER_PREFIX);
}

/**
 * One message per secret (or `[sessions] hashkey` / `blockkey`) that still has a sample-config
 * value. Empty when the configuration is safe to run.
 */
export function placeholderSecretProblems(config: ServerConfig): string[] {
  const candidates: [string, string][] = [
    ['[sessions] hashkey', config.sessions.hashkey],
    ['[sessions] blockkey', config.sessions.blockkey],
    ['[clients] internalsecret', config.clients.internalsecret],
    ['[backend] secret', config.backend.secret],
    ['[turn] apikey', config.turn.apikey],
    ['[turn] secret', config.turn.secret],
  ];
  for (const backend of Object.values(config.backends)) {
    // Inherited secrets are reported once, on [backend] secret.
    if (backend.secret !== config.backend.secret) candidates.push([`[${backend.id}] secret`, backend.secret]);
  }
  return candidates
    .filter(([, value]) => value !== '' && isPlaceholderSecret(value))
    .map(([name, value]) => `${name} still has the sample value "${value}"; replace it with a random secret (e.g. \`openssl rand -hex 16\`)`);
}
