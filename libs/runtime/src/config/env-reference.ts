/**
 * `$(VAR)` environment references in INI values, as upstream's `config.GetStringOptionWithEnv`:
 * every `$(NAME)` with `NAME` matching `[A-Za-z][A-Za-z0-9_]*` is replaced by the variable's
 * value; a variable that is not set at all is replaced by its bare name (`$(FOO)` → `FOO`); a
 * variable set to the empty string yields the empty string. Nothing else (`$FOO`, `${FOO}`) is
 * special. Which options are substituted is up to each app's config reader.
 */

/** Matches one reference; group 1 is the variable name. */
export const ENV_REFERENCE_PATTERN = /\$\(([A-Za-z][A-Za-z0-9_]*)\)/g;

/** Result of {@link substituteEnv}. */
export interface SubstitutionResult {
  /** The value with every reference replaced. */
  readonly value: string;
  /** Names of referenced variables that are not set (replaced by their bare name). */
  readonly missing: string[];
}

/** Replaces every `$(VAR)` in `value` from `env` (see the module comment). */
export function substituteEnv(value: string, env: NodeJS.ProcessEnv): SubstitutionResult {
  const missing: string[] = [];
  const result = value.replace(ENV_REFERENCE_PATTERN, (_match, name: string) => {
    const resolved = env[name];
    if (resolved === undefined) {
      missing.push(name);
      return name;
    }
    return resolved;
  });
  return { value: result, missing };
}
