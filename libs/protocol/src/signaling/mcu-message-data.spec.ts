import { classifyMcuMessageData, parseMcuMessageData } from './mcu-message-data';

describe('parseMcuMessageData (1.9)', () => {
  it('parses an offer with codecs and keeps the payload object', () => {
    const payload = { type: 'offer', sdp: 'v=0\r\n' };
    const data = { type: 'offer', sid: '123', roomType: 'video', bitrate: 500000, payload, audiocodec: 'opus', videocodec: 'vp9', vp9profile: '2', h264profile: '42e01f' };
    const result = parseMcuMessageData(data);
    expect(result).toEqual({ ok: true, value: data });
    if (result.ok) expect(result.value.payload).toBe(payload);
  });

  it.each([
    [{ type: 'answer', sid: 's', roomType: 'screen', payload: { type: 'answer', sdp: 'v=0' } }],
    [{ type: 'candidate', sid: 's', roomType: 'video', payload: { candidate: { candidate: 'candidate:1 1 UDP 1 1.2.3.4 5 typ host', sdpMid: '0', sdpMLineIndex: 0 } } }],
    [{ type: 'endOfCandidates', roomType: 'video' }],
    [{ type: 'requestoffer', roomType: 'video', payload: { substream: 1, temporal: 0, audio: true, video: false } }],
    [{ type: 'sendoffer', roomType: 'screen' }],
    [{ type: 'selectStream', roomType: 'video', payload: { substream: 2 } }],
    [{ type: 'unshareScreen', roomType: 'screen' }],
    [{ type: 'nickChanged', name: 'x' }],
  ])('accepts %j', (data) => {
    expect(parseMcuMessageData(data).ok).toBe(true);
  });

  it('maps bad room types and SDPs to upstream errors', () => {
    const bad = parseMcuMessageData({ type: 'offer', roomType: 'data', payload: { sdp: 'v=0' } });
    expect(!bad.ok && bad.error.code).toBe('invalid_format');
    const noSdp = parseMcuMessageData({ type: 'offer', roomType: 'video', payload: {} });
    expect(!noSdp.ok && noSdp.error.toPayload()).toEqual({ code: 'no_sdp', message: 'Payload does not contain a SDP.' });
    const noPayload = parseMcuMessageData({ type: 'answer', roomType: 'video' });
    expect(!noPayload.ok && noPayload.error.code).toBe('no_sdp');
    const badSdp = parseMcuMessageData({ type: 'answer', roomType: 'video', payload: { sdp: 5 } });
    expect(!badSdp.ok && badSdp.error.code).toBe('invalid_sdp');
  });

  it('classifies undecodable data as "forward" like upstream', () => {
    expect(classifyMcuMessageData('text').kind).toBe('forward');
    expect(classifyMcuMessageData([1]).kind).toBe('forward');
    expect(classifyMcuMessageData({ type: 5 }).kind).toBe('forward');
    expect(classifyMcuMessageData({ type: 'offer', bitrate: 1.5 }).kind).toBe('forward');
    expect(classifyMcuMessageData({ type: 'offer', payload: 'x' }).kind).toBe('forward');
    expect(classifyMcuMessageData({ type: 'offer', roomType: 'x' }).kind).toBe('error');
    const failed = parseMcuMessageData('text');
    expect(!failed.ok && failed.error.code).toBe('invalid_format');
  });
});
