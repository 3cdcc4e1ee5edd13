import { BlockList, isIP } from 'node:net';
import { unmapIpv4 } from '@talk-signaling/runtime';

/** Pseudo-countries of upstream: never counted in metrics nor used for proxy placement. */
export const LOOPBACK_COUNTRY = 'loopback';
export const NO_COUNTRY = 'no-country';
export const UNKNOWN_COUNTRY = 'unknown-country';

/** Where countries come from: a loaded database, or nothing yet. */
export interface CountryDatabase {
  /** The ISO code for `ip`, undefined when the database has no record (or none is loaded). */
  country(ip: string): string | undefined;
}

/**
 * A client's country as upstream decides it (fact sheet 7.7): `[geoip-overrides]` first, then
 * loopback, then the database. Pseudo-countries: `loopback`, `no-country` (not an address),
 * `unknown-country` (no database or no record).
 */
export class CountryLookup {
  readonly #overrides: { list: BlockList; country: string }[] = [];
  readonly #database: CountryDatabase | undefined;

  /** `overrides`: `[geoip-overrides]` as parsed (`ip or cidr` → upper-case country), in file order. */
  constructor(overrides: Readonly<Record<string, string>>, database?: CountryDatabase) {
    for (const [network, country] of Object.entries(overrides)) {
      const [addr, bits] = network.split('/') as [string, string | undefined];
      const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      const list = new BlockList();
      if (bits === undefined) list.addAddress(addr, family);
      else list.addSubnet(addr, Number(bits), family);
      this.#overrides.push({ list, country });
    }
    this.#database = database;
  }

  country(address: string): string {
    const ip = unmapIpv4(address);
    const family = isIP(ip);
    if (family === 0) return NO_COUNTRY;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    for (const override of this.#overrides) if (override.list.check(ip, type)) return override.country;
    if (isLoopback(ip, family)) return LOOPBACK_COUNTRY;
    return this.#database?.country(ip) || UNKNOWN_COUNTRY;
  }
}

function isLoopback(ip: string, family: number): boolean {
  return family === 4 ? ip.startsWith('127.') : ip === '::1';
}
