import { publisherStreamsFromSdp } from './publisher-streams';

const answer = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:0',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1;stereo=1',
  'm=video 9 UDP/TLS/RTP/SAVPF 98',
  'a=mid:1',
  'a=rtpmap:98 VP9/90000',
  'a=fmtp:98 profile-id=2',
  'a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
  'a=extmap:4 urn:3gpp:video-orientation',
  'm=video 9 UDP/TLS/RTP/SAVPF 104',
  'a=mid:2',
  'a=rtpmap:104 H264/90000',
  'a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=mid:3',
  'm=video 0 UDP/TLS/RTP/SAVPF 96',
  'a=rtpmap:96 VP8/90000',
].join('\r\n');

describe('publisherStreamsFromSdp', () => {
  it('derives codec, fmtp flags, profiles, extension ids, simulcast and data streams', () => {
    const offer = answer.replace('a=mid:2', 'a=mid:2\r\na=simulcast:send h;l');
    expect(publisherStreamsFromSdp(offer, answer)).toEqual([
      { mid: '0', mindex: 0, type: 'audio', codec: 'opus', fec: true, dtx: true, stereo: true },
      { mid: '1', mindex: 1, type: 'video', codec: 'VP9', vp9_profile: '2', playoutdelay_ext_id: 3, videoorient_ext_id: 4 },
      { mid: '2', mindex: 2, type: 'video', codec: 'H264', h264_profile: '42e01f', simulcast: true },
      { mid: '3', mindex: 3, type: 'data' },
    ]);
  });
});
