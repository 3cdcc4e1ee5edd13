/**
 * Thrown when a configuration cannot be used. Carries every problem found, not just the first
 * (fastify `FST_ERR_INIT_OPTS_INVALID` style), so an operator fixes the file in one round.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** One human-readable line per problem, each naming section, key and line where known. */
  readonly issues: string[];

  constructor(issues: readonly string[], options?: ErrorOptions) {
    const list = issues.length > 0 ? issues : ['unknown configuration problem'];
    super(`invalid configuration (${list.length} problem${list.length === 1 ? '' : 's'}):\n  - ${list.join('\n  - ')}`, options);
    this.issues = [...list];
  }
}
