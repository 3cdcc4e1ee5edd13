import { isIP } from 'node:net';
import { IpAllowList } from '@talk-signaling/runtime';

/**
 * `[mcu] allowedcandidates` / `blockedcandidates` (upstream `FilterCandidate`): which ICE
 * candidates of a signaling server's client are passed to Janus. A candidate whose address is
 * not an IP (e.g. an mDNS `.local` name) or is unspecified is dropped, as upstream does; the
 * allowed list wins over the blocked one. The empty end-of-candidates marker passes.
 */
export class CandidateFilter {
  readonly #allowed: IpAllowList;
  readonly #blocked: IpAllowList;

  constructor(allowed: readonly string[], blocked: readonly string[]) {
    this.#allowed = new IpAllowList(allowed);
    this.#blocked = new IpAllowList(blocked);
  }

  /** True when the candidate (`candidate:…` string or bare attribute value) must be dropped. */
  filtered(candidate: string): boolean {
    const value = candidate.startsWith('candidate:') ? candidate.slice('candidate:'.length) : candidate;
    if (value.trim() === '') return false;
    const address = value.trim().split(/\s+/)[4] ?? '';
    if (isIP(address) === 0 || address === '0.0.0.0' || /^::0*$/.test(address) || address === '0:0:0:0:0:0:0:0') return true;
    if (!this.#allowed.empty && this.#allowed.has(address)) return false;
    return !this.#blocked.empty && this.#blocked.has(address);
  }

  /** The SDP without the `a=candidate:` lines that are filtered. */
  filterSdp(sdp: string): string {
    if (!sdp.includes('a=candidate:')) return sdp;
    const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
    return sdp
      .split(eol)
      .filter((line) => !(line.startsWith('a=candidate:') && this.filtered(line.slice(2))))
      .join(eol);
  }
}
