/**
 * The streams of a publisher as Janus's `add_remote_publisher` wants them (fact sheet 5.5),
 * derived from the publisher's answer SDP (and the offer, for simulcast). A small line-based
 * SDP reader: only what is needed here.
 */

/** One stream of a (remote) publisher; field names are Janus's. */
export interface PublisherStream {
  mid: string;
  mindex: number;
  type: string;
  description?: string;
  disabled?: boolean;
  codec?: string;
  stereo?: boolean;
  fec?: boolean;
  dtx?: boolean;
  simulcast?: boolean;
  svc?: boolean;
  h264_profile?: string;
  vp9_profile?: string;
  videoorient_ext_id?: number;
  playoutdelay_ext_id?: number;
}

const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';
const VIDEO_ORIENTATION_URI = 'urn:3gpp:video-orientation';

interface MediaSection {
  kind: string;
  formats: string[];
  attributes: { key: string; value: string }[];
}

function mediaSections(sdp: string): MediaSection[] {
  const sections: MediaSection[] = [];
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      const [kind = '', , , ...formats] = line.slice(2).split(/\s+/);
      sections.push({ kind, formats, attributes: [] });
    } else if (line.startsWith('a=') && sections.length > 0) {
      const body = line.slice(2);
      const colon = body.indexOf(':');
      sections[sections.length - 1]!.attributes.push(colon === -1 ? { key: body, value: '' } : { key: body.slice(0, colon), value: body.slice(colon + 1) });
    }
  }
  return sections;
}

function attribute(section: MediaSection, key: string): string | undefined {
  return section.attributes.find((a) => a.key === key)?.value;
}

function fmtpValue(fmtp: string, key: string): string | undefined {
  for (const part of fmtp.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim().toLowerCase() === key) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function isSimulcast(section: MediaSection | undefined): boolean {
  return !!section?.attributes.some((a) => a.key === 'simulcast' || (a.key === 'ssrc-group' && a.value.startsWith('SIM ')));
}

/** Streams of a publisher from its offer and Janus's answer (upstream `GetStreams`). */
export function publisherStreamsFromSdp(offerSdp: string, answerSdp: string): PublisherStream[] {
  const offer = mediaSections(offerSdp);
  const streams: PublisherStream[] = [];
  mediaSections(answerSdp).forEach((m, index) => {
    const mid = attribute(m, 'mid');
    const first = m.formats[0];
    if (mid === undefined || first === undefined) return;
    const stream: PublisherStream = { mid, mindex: index, type: m.kind };
    if (m.kind.toLowerCase() === 'application' && first.toLowerCase() === 'webrtc-datachannel') {
      streams.push({ ...stream, type: 'data' });
      return;
    }
    if (!/^\d+$/.test(first)) return;
    const rtpmap = m.attributes.find((a) => a.key === 'rtpmap' && a.value.startsWith(`${first} `));
    if (!rtpmap) return;
    const codec = rtpmap.value.slice(first.length + 1).split('/')[0] ?? '';
    const fmtp = m.attributes.find((a) => a.key === 'fmtp' && a.value.startsWith(`${first} `))?.value.slice(first.length + 1) ?? '';
    const kind = m.kind.toLowerCase();
    if (kind === 'audio') {
      stream.codec = codec;
      if (fmtpValue(fmtp, 'useinbandfec') === '1') stream.fec = true;
      if (fmtpValue(fmtp, 'usedtx') === '1') stream.dtx = true;
      if (fmtpValue(fmtp, 'stereo') === '1') stream.stereo = true;
    } else if (kind === 'video') {
      stream.codec = codec;
      if (codec.toLowerCase() === 'vp9') {
        const profile = fmtpValue(fmtp, 'profile-id');
        if (profile !== undefined) stream.vp9_profile = profile;
      } else if (codec.toLowerCase() === 'h264') {
        const profile = fmtpValue(fmtp, 'profile-level-id');
        if (profile !== undefined) stream.h264_profile = profile;
      }
      for (const a of m.attributes) {
        if (a.key !== 'extmap') continue;
        const [idPart = '', uri = ''] = a.value.split(/\s+/);
        const id = Number.parseInt(idPart, 10);
        if (uri === PLAYOUT_DELAY_URI) stream.playoutdelay_ext_id = id;
        else if (uri === VIDEO_ORIENTATION_URI) stream.videoorient_ext_id = id;
      }
      if (isSimulcast(m) || isSimulcast(offer[index])) stream.simulcast = true;
    } else {
      return;
    }
    streams.push(stream);
  });
  return streams;
}
