import { continentsOf, isValidCountry } from './continents';

/** Bandwidth usage a proxy reports in `update-load` (percent of its `[bandwidth]` targets). */
export interface ProxyBandwidth {
  incoming?: number;
  outgoing?: number;
  /** bit/s received and sent (v2.1.1 proxies). */
  received?: number;
  sent?: number;
}

/** What placement looks at on a proxy connection. */
export interface Placeable {
  readonly load: number;
  /** Country from the proxy's hello ('' when none or invalid). */
  readonly country: string;
  readonly bandwidth: ProxyBandwidth | undefined;
}

/** Upstream `AllowIncoming`: no report, no limit, or below 100 %. */
export function allowsIncoming(p: Placeable): boolean {
  const v = p.bandwidth?.incoming;
  return v === undefined || v < 100;
}

export function allowsOutgoing(p: Placeable): boolean {
  const v = p.bandwidth?.outgoing;
  return v === undefined || v < 100;
}

/** Ascending load (stable: equal loads keep the configured order). */
export function sortByLoad<T extends Placeable>(proxies: readonly T[]): T[] {
  return [...proxies].sort((a, b) => a.load - b.load);
}

/**
 * Proxies in the client's country first, then those on its continent or a continent it is
 * mapped to (`[continent-overrides]`), then the rest; each group keeps the order it had (by
 * load). Without a valid country the order is unchanged (fact sheet 5.7).
 */
export function sortForCountry<T extends Placeable>(proxies: readonly T[], country: string | undefined, overrides: Readonly<Record<string, readonly string[]>>): T[] {
  if (!isValidCountry(country)) return [...proxies];
  const same: T[] = [];
  const continent: T[] = [];
  const rest: T[] = [];
  const wanted = new Set(continentsOf(country));
  for (const c of [...wanted]) for (const mapped of overrides[c] ?? []) wanted.add(mapped);
  for (const p of proxies) {
    if (p.country === country) same.push(p);
    else if (isValidCountry(p.country) && continentsOf(p.country).some((c) => wanted.has(c))) continent.push(p);
    else rest.push(p);
  }
  return [...same, ...continent, ...rest];
}

/**
 * Fallback when every proxy is at its bandwidth limit: those that report a usage, least used
 * first (upstream retries among these).
 */
export function sortByUsage<T extends Placeable>(proxies: readonly T[], direction: 'incoming' | 'outgoing'): T[] {
  return proxies
    .filter((p) => p.bandwidth !== undefined)
    .sort((a, b) => (a.bandwidth?.[direction] ?? -1) - (b.bandwidth?.[direction] ?? -1));
}
