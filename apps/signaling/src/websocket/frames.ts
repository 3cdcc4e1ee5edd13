/** RFC 6455 opcodes. */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** Close codes the transport itself sends (the connection layer adds its own). */
export const ProtocolCloseCode = {
  /** A frame broke RFC 6455 (bad opcode, unmasked, oversized control frame, ...). */
  ProtocolError: 1002,
  /** A text frame or close reason that is not UTF-8. */
  InvalidPayload: 1007,
  /** Too many fragments in one message (ws's `maxFragments`). */
  PolicyViolation: 1008,
  /** A message above the payload limit. */
  TooBig: 1009,
} as const;

/** Codes a close frame may carry on the wire (RFC 6455 7.4; 1004–1006 and 1015 are reserved). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** Framed copies of fan-out payloads, alive as long as the payload is. */
const framedCache = new WeakMap<Buffer, Buffer>();

/**
 * One unmasked, final text frame holding `payload`, as one buffer: header and payload go out in
 * one `socket.write` (no `writev`, no frame array). A `Buffer` payload is a fan-out frame shared
 * by many receivers (`delivery/frame-cache.ts`): it is framed once and the same framed buffer is
 * written to every socket.
 */
export function textFrame(payload: string | Buffer): Buffer {
  if (typeof payload === 'string') {
    const length = Buffer.byteLength(payload);
    const frame = allocFrame(Opcode.Text, length);
    frame.write(payload, frame.length - length, length, 'utf8');
    return frame;
  }
  const cached = framedCache.get(payload);
  if (cached !== undefined) return cached;
  const frame = allocFrame(Opcode.Text, payload.length);
  payload.copy(frame, frame.length - payload.length);
  framedCache.set(payload, frame);
  return frame;
}

/** A ping or pong frame (payload at most 125 bytes: the caller's ping payloads are short). */
export function controlFrame(opcode: number, payload: Buffer | string): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (length > 125) throw new RangeError('control frame payload over 125 bytes');
  const frame = allocFrame(opcode, length);
  if (typeof payload === 'string') frame.write(payload, 2, length, 'utf8');
  else payload.copy(frame, 2);
  return frame;
}

/** A close frame: empty without `code` (the peer sees 1005), else code and an optional reason. */
export function closeFrame(code?: number, reason: Buffer | string = ''): Buffer {
  if (code === undefined) return allocFrame(Opcode.Close, 0);
  if (!isValidCloseCode(code)) throw new RangeError(`invalid close code ${code}`);
  const reasonLength = typeof reason === 'string' ? Buffer.byteLength(reason) : reason.length;
  if (reasonLength > 123) throw new RangeError('close reason over 123 bytes');
  const frame = allocFrame(Opcode.Close, 2 + reasonLength);
  frame.writeUInt16BE(code, 2);
  if (typeof reason === 'string') frame.write(reason, 4, reasonLength, 'utf8');
  else reason.copy(frame, 4);
  return frame;
}

/** A buffer for a final, unmasked frame of `length` payload bytes, header written. */
function allocFrame(opcode: number, length: number): Buffer {
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | opcode; // FIN + opcode
  if (headerLength === 2) {
    frame[1] = length;
  } else if (headerLength === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  return frame;
}
