import { CandidateFilter } from './candidate-filter';

const cand = (address: string): string => `candidate:1 1 udp 2122260223 ${address} 50000 typ host`;

describe('CandidateFilter', () => {
  it('passes IPs by default, drops names and unspecified addresses, keeps the end marker', () => {
    const filter = new CandidateFilter([], []);
    expect(filter.filtered(cand('192.0.2.10'))).toBe(false);
    expect(filter.filtered(cand('2001:db8::1'))).toBe(false);
    expect(filter.filtered(cand('4f1d2c3a-0e9b.local'))).toBe(true);
    expect(filter.filtered(cand('0.0.0.0'))).toBe(true);
    expect(filter.filtered(cand('::'))).toBe(true);
    expect(filter.filtered('garbage')).toBe(true);
    expect(filter.filtered('')).toBe(false);
  });

  it('blocks listed networks, the allowed list wins', () => {
    const filter = new CandidateFilter(['10.1.0.0/16'], ['10.0.0.0/8', '192.0.2.7']);
    expect(filter.filtered(cand('10.2.3.4'))).toBe(true);
    expect(filter.filtered(cand('10.1.3.4'))).toBe(false);
    expect(filter.filtered(cand('192.0.2.7'))).toBe(true);
    expect(filter.filtered(cand('192.0.2.8'))).toBe(false);
  });

  it('removes filtered candidate lines from an SDP', () => {
    const filter = new CandidateFilter([], ['10.0.0.0/8']);
    const sdp = ['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', `a=${cand('10.0.0.1')}`, `a=${cand('192.0.2.1')}`, 'a=mid:0', ''].join('\r\n');
    expect(filter.filterSdp(sdp)).toBe(['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', `a=${cand('192.0.2.1')}`, 'a=mid:0', ''].join('\r\n'));
  });
});
