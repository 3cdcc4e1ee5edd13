/** `[geoip]`, `[geoip-overrides]`, `[continent-overrides]`. */
import { z } from 'zod';
import { stringOption } from '@talk-signaling/runtime';

/** `[geoip] url` values that mean "no URL" (upstream hub.go). */
export const GEOIP_URL_NONE_VALUES: readonly string[] = Object.freeze(['default', 'none']);

/** Continent codes known upstream (`IsValidContinent`). */
export const CONTINENT_CODES: readonly string[] = Object.freeze(['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA']);

/** `[geoip]` */
export const GeoipSection = z.object({
  /**
   * MaxMind license key; when set and `url` is empty the app downloads GeoLite2-Country with it.
   * Default: none (no GeoIP unless `url` is set).
   */
  license: stringOption(),
  /**
   * http(s) URL or `file://` path of a GeoIP database. `default` and `none` mean empty.
   * Default: none.
   */
  url: stringOption().transform((value) => (GEOIP_URL_NONE_VALUES.includes(value) ? '' : value)),
});

/** One option of a free-form section, after unfolding and `$(VAR)` substitution. */
export interface FreeformOption {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

/** Problems and notes found while reading a free-form section. */
export interface FreeformResult<T> {
  readonly value: T;
  readonly errors: string[];
  readonly warnings: string[];
}

/**
 * `[geoip-overrides]`: `<ip or cidr> = <country>` (upstream hub.go). An unparsable key is fatal
 * upstream, so it is an error here; the country is trimmed and upper-cased; an empty country is
 * skipped with a warning. Note that goconf splits a line at the first `:` too, so IPv6 keys cannot
 * be written here (upstream has the same limit).
 */
export function parseGeoipOverrides(options: readonly FreeformOption[], isIpOrCidr: (s: string) => boolean): FreeformResult<Record<string, string>> {
  const value: Record<string, string> = {};
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const option of options) {
    const where = `[geoip-overrides] ${option.key} (line ${option.line})`;
    if (!isIpOrCidr(option.key)) {
      errors.push(`${where}: "${option.key}" is not an IP address or CIDR network`);
      continue;
    }
    const country = option.value.trim().toUpperCase();
    if (country === '') {
      warnings.push(`${where}: no country assigned, skipping`);
      continue;
    }
    value[option.key] = country;
  }
  return { value, errors, warnings };
}

/**
 * `[continent-overrides]`: `<continent> = <continent>, ...` (upstream `loadContinentsMap`). Keys
 * and values are trimmed and upper-cased; unknown continents are skipped with a warning, as are
 * overrides left without any valid value.
 */
export function parseContinentOverrides(options: readonly FreeformOption[]): FreeformResult<Record<string, string[]>> {
  const value: Record<string, string[]> = {};
  const warnings: string[] = [];
  for (const option of options) {
    const continent = option.key.trim().toUpperCase();
    const where = `[continent-overrides] ${option.key} (line ${option.line})`;
    if (!CONTINENT_CODES.includes(continent)) {
      warnings.push(`${where}: unknown continent "${continent}", ignored (known: ${CONTINENT_CODES.join(', ')})`);
      continue;
    }
    const targets: string[] = [];
    for (const entry of option.value.split(',')) {
      const target = entry.trim().toUpperCase();
      if (CONTINENT_CODES.includes(target)) targets.push(target);
      else warnings.push(`${where}: unknown continent "${target}" in the value, ignored`);
    }
    if (targets.length === 0) {
      warnings.push(`${where}: no valid continents in the value, override ignored`);
      continue;
    }
    value[continent] = targets;
  }
  return { value, errors: [], warnings };
}
