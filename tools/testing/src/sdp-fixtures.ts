import { randomBytes } from 'node:crypto';

/**
 * Hand-made SDP for tests against a real Janus. Janus accepts an offer without candidates
 * (trickle), as long as ICE credentials, a DTLS fingerprint and per-m-line mids are there; the
 * PeerConnection never comes up, which is fine for signalling tests.
 */

function iceCredentials(): { ufrag: string; pwd: string } {
  return { ufrag: randomBytes(4).toString('hex'), pwd: randomBytes(12).toString('hex') };
}

function fingerprint(): string {
  return [...randomBytes(32)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

function sessionHeader(): string[] {
  const id = BigInt.asUintN(62, randomBytes(8).readBigUInt64BE()).toString();
  return ['v=0', `o=- ${id} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0'];
}

/** A publisher's sendonly offer: opus audio (mid 0) and VP8 video (mid 1), BUNDLEd, rtcp-mux. */
export function publisherOffer(options: { video?: boolean; audio?: boolean } = {}): string {
  const { ufrag, pwd } = iceCredentials();
  const fp = fingerprint();
  const audio = options.audio ?? true;
  const video = options.video ?? true;
  const mids: string[] = [];
  const media: string[] = [];
  const common = (mid: string): string[] => [
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${pwd}`,
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${fp}`,
    'a=setup:actpass',
    `a=mid:${mid}`,
    'a=sendonly',
    `a=msid:stream track${mid}`,
    'a=rtcp-mux',
  ];
  if (audio) {
    const mid = String(mids.length);
    mids.push(mid);
    media.push(
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      ...common(mid),
      'a=rtpmap:111 opus/48000/2',
      'a=fmtp:111 minptime=10;useinbandfec=1',
      'a=ssrc:1001 cname:test',
    );
  }
  if (video) {
    const mid = String(mids.length);
    mids.push(mid);
    media.push(
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      ...common(mid),
      'a=rtpmap:96 VP8/90000',
      'a=rtcp-fb:96 nack',
      'a=rtcp-fb:96 nack pli',
      'a=rtcp-fb:96 ccm fir',
      'a=ssrc:2001 cname:test',
    );
  }
  return [...sessionHeader(), `a=group:BUNDLE ${mids.join(' ')}`, 'a=msid-semantic: WMS stream', ...media, ''].join('\r\n');
}

/**
 * Answers Janus's subscriber offer: every m-line accepted recvonly with its first payload type
 * (data channels accepted as they are), fresh ICE credentials and fingerprint, `setup:active`.
 */
export function recvonlyAnswer(offerSdp: string): string {
  const { ufrag, pwd } = iceCredentials();
  const fp = fingerprint();
  const sections = offerSdp.split(/\r?\n(?=m=)/);
  const mediaSections = sections.slice(1);
  const mids: string[] = [];
  const out: string[] = [];
  for (const section of mediaSections) {
    const lines = section.split(/\r?\n/).filter((l) => l.length > 0);
    const mline = lines[0] ?? '';
    const [kind, port, proto, ...formats] = mline.slice(2).split(' ');
    const mid = lines.find((l) => l.startsWith('a=mid:'))?.slice(6) ?? String(mids.length);
    if (port === '0') {
      out.push(`m=${kind} 0 ${proto} ${formats[0] ?? '0'}`, 'c=IN IP4 0.0.0.0', `a=mid:${mid}`, 'a=inactive');
      continue;
    }
    mids.push(mid);
    const common = ['c=IN IP4 0.0.0.0', `a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`, `a=fingerprint:sha-256 ${fp}`, 'a=setup:active', `a=mid:${mid}`];
    if (kind === 'application') {
      out.push(`m=application 9 ${proto} ${formats.join(' ')}`, ...common, ...lines.filter((l) => l.startsWith('a=sctp-port:') || l.startsWith('a=max-message-size:')));
      continue;
    }
    const pt = formats[0] ?? '0';
    out.push(
      `m=${kind} 9 ${proto} ${pt}`,
      ...common,
      'a=recvonly',
      'a=rtcp-mux',
      ...lines.filter((l) => l.startsWith(`a=rtpmap:${pt} `) || l.startsWith(`a=fmtp:${pt} `) || l.startsWith(`a=rtcp-fb:${pt} `)),
    );
  }
  return [...sessionHeader(), `a=group:BUNDLE ${mids.join(' ')}`, ...out, ''].join('\r\n');
}
