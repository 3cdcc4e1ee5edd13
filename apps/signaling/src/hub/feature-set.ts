import { ServerFeature, sortedFeatures } from '@talk-signaling/protocol';

/** Which list a feature id is announced in (fact sheet 1.3). */
export interface FeatureAudience {
  /** In `welcome` (always, when announced at all). */
  welcome?: boolean;
  /** In hello `server.features` for `client` sessions and the `X-Spreed-Signaling-Features` header. */
  client?: boolean;
  /** In hello `server.features` for `internal` sessions. */
  internal?: boolean;
}

/**
 * The feature ids this server announces. Components add an id only once the behaviour behind
 * it works (and remove it again, e.g. `mcu` while Janus is down), so clients never rely on
 * something we cannot do. Lists are sorted and cached until the next change.
 */
export class FeatureSet {
  readonly #audience = new Map<string, FeatureAudience>();
  #welcome: string[] = [];
  #client: string[] = [];
  #internal: string[] = [];

  constructor() {
    this.add(ServerFeature.Welcome, { welcome: true, client: true, internal: true });
  }

  add(id: string, audience: FeatureAudience = { welcome: true, client: true, internal: true }): void {
    this.#audience.set(id, audience);
    this.#rebuild();
  }

  remove(id: string): void {
    if (this.#audience.delete(id)) this.#rebuild();
  }

  has(id: string): boolean {
    return this.#audience.has(id);
  }

  get welcome(): readonly string[] {
    return this.#welcome;
  }

  get client(): readonly string[] {
    return this.#client;
  }

  get internal(): readonly string[] {
    return this.#internal;
  }

  #rebuild(): void {
    const pick = (key: keyof FeatureAudience) =>
      sortedFeatures([...this.#audience].filter(([, a]) => a[key]).map(([id]) => id));
    this.#welcome = pick('welcome');
    this.#client = pick('client');
    this.#internal = pick('internal');
  }
}
