/**
 * `$(VAR)` environment references, as upstream's `config.GetStringOptionWithEnv`
 * (`config.go`): every `$(NAME)` with `NAME` matching `[A-Za-z][A-Za-z0-9_]*` is replaced by the
 * variable's value; a variable that is not set at all is replaced by its bare name (`$(FOO)` →
 * `FOO`); a variable set to the empty string yields the empty string. Nothing else (`$FOO`,
 * `${FOO}`) is special.
 *
 * Upstream applies this only to some options; {@link usesEnvSubstitution} is that list.
 */

/**
 * Options whose values are substituted, by section. v1.3.0: `[http] listen`, `[https] listen`,
 * `[nats] url`, `[mcu] url`; 1.3.1: `[grpc] listen`; 2.0.3: the secrets (`[sessions] hashkey`,
 * `blockkey`, `[clients] internalsecret`, `[backend] secret`, `[turn] apikey`, `secret`).
 */
export const ENV_SUBSTITUTED_OPTIONS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  http: Object.freeze(['listen']),
  https: Object.freeze(['listen']),
  nats: Object.freeze(['url']),
  mcu: Object.freeze(['url']),
  grpc: Object.freeze(['listen']),
  sessions: Object.freeze(['hashkey', 'blockkey']),
  clients: Object.freeze(['internalsecret']),
  backend: Object.freeze(['secret']),
  turn: Object.freeze(['apikey', 'secret']),
});

/** Sections where every option is substituted (upstream `config.GetStringOptions`). */
export const ENV_SUBSTITUTED_SECTIONS: readonly string[] = Object.freeze([
  'geoip-overrides',
  'continent-overrides',
  'tokens',
]);

/** Options of a per-backend section (`[backend] backends`) that are substituted (2.0.3/2.0.4). */
export const ENV_SUBSTITUTED_BACKEND_OPTIONS: readonly string[] = Object.freeze(['url', 'urls', 'secret']);

/**
 * Whether upstream resolves `$(VAR)` in this option. `backendSections` are the lower-cased
 * section names listed in `[backend] backends`.
 */
export function usesEnvSubstitution(section: string, key: string, backendSections: ReadonlySet<string>): boolean {
  if (ENV_SUBSTITUTED_SECTIONS.includes(section)) return true;
  if (ENV_SUBSTITUTED_OPTIONS[section]?.includes(key)) return true;
  return backendSections.has(section) && ENV_SUBSTITUTED_BACKEND_OPTIONS.includes(key);
}

export { substituteEnv } from '@talk-signaling/runtime';
export type { SubstitutionResult } from '@talk-signaling/runtime';
