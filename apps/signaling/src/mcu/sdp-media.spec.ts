import { MediaType, SdpError, sdpMediaTypes } from './sdp-media';

const offer = (...media: string[]) =>
  ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', ...media.flatMap((m) => [m, 'c=IN IP4 0.0.0.0', 'a=sendonly'])].join('\r\n') + '\r\n';

describe('sdpMediaTypes', () => {
  it('reports audio and video sections', () => {
    expect(sdpMediaTypes(offer('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'm=video 9 UDP/TLS/RTP/SAVPF 96'))).toBe(MediaType.Audio | MediaType.Video);
    expect(sdpMediaTypes(offer('m=audio 9 UDP/TLS/RTP/SAVPF 111'))).toBe(MediaType.Audio);
    expect(sdpMediaTypes(offer('m=application 9 UDP/DTLS/SCTP webrtc-datachannel'))).toBe(0);
  });

  it('ignores rejected sections (port 0)', () => {
    expect(sdpMediaTypes(offer('m=audio 0 UDP/TLS/RTP/SAVPF 111', 'm=video 9 UDP/TLS/RTP/SAVPF 96'))).toBe(MediaType.Video);
  });

  it('rejects text that is not an SDP', () => {
    expect(() => sdpMediaTypes('hello')).toThrow(SdpError);
    expect(() => sdpMediaTypes('v=0\r\nthis is not sdp\r\n')).toThrow(/invalid syntax/);
    expect(() => sdpMediaTypes('v=0\r\n\r\nm=audio 9 X 0\r\n')).toThrow(/empty line/);
  });
});
