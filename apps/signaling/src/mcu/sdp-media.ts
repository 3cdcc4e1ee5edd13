/** Media type bits (fact sheet 5.1): what a publisher sends. */
export const MediaType = { Audio: 1, Video: 2, Screen: 4 } as const;

/** A session description that failed to parse; `message` goes to the client as details. */
export class SdpError extends Error {
  override readonly name = 'SdpError';
}

/**
 * The media a WebRTC SDP offers, as `MediaType` bits (`m=audio` -> Audio, `m=video` -> Video;
 * a port of 0 is a rejected section and does not count). Throws `SdpError` for text that is not
 * an SDP: every line must be `<letter>=<value>`, starting with `v=0`.
 */
export function sdpMediaTypes(sdp: string): number {
  const lines = sdp.split(/\r?\n/);
  if (lines[0] !== 'v=0') throw new SdpError('sdp: invalid syntax `v=` must be the first line');
  let types = 0;
  for (const [index, line] of lines.entries()) {
    if (line === '') {
      if (index === lines.length - 1) continue; // trailing newline
      throw new SdpError(`sdp: empty line ${index + 1}`);
    }
    if (!/^[a-z]=/.test(line)) throw new SdpError(`sdp: invalid syntax \`${line.slice(0, 40)}\``);
    if (!line.startsWith('m=')) continue;
    const [kind, port] = line.slice(2).split(' ');
    if (port === '0') continue;
    if (kind === 'audio') types |= MediaType.Audio;
    else if (kind === 'video') types |= MediaType.Video;
  }
  return types;
}
