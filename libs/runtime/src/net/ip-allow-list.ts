import { BlockList, isIP } from 'node:net';

/**
 * A set of addresses and CIDR ranges (`[stats] allowed_ips`, `[app] trustedproxies`).
 * IPv4-mapped IPv6 peers (`::ffff:127.0.0.1`) are matched as IPv4.
 */
export class IpAllowList {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim();
      if (!entry) continue;
      const [addr, bits] = entry.split('/') as [string, string | undefined];
      const family = isIP(addr);
      if (family === 0) throw new Error(`invalid IP address or CIDR: ${entry}`);
      const type = family === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.#list.addAddress(addr, type);
      else this.#list.addSubnet(addr, Number(bits), type);
    }
    this.#empty = entries.every((e) => !e.trim());
  }

  get empty(): boolean {
    return this.#empty;
  }

  has(address: string): boolean {
    const ip = unmapIpv4(address);
    const family = isIP(ip);
    if (family === 0) return false;
    return this.#list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** `::ffff:1.2.3.4` -> `1.2.3.4`; other strings unchanged. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Upstream's trusted-proxy default when `[app] trustedproxies` is empty. */
export const DEFAULT_TRUSTED_PROXIES = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];
/** Upstream's stats/metrics default when `[stats] allowed_ips` is empty. */
export const DEFAULT_STATS_ALLOWED = ['127.0.0.1'];
