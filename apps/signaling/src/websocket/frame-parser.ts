import { isUtf8 } from 'node:buffer';
import { Opcode, ProtocolCloseCode, isValidCloseCode } from './frames';

/** What a {@link FrameParser} reports. Every call is synchronous, in wire order. */
export interface FrameSink {
  /** A complete data message (fragments joined); text is valid UTF-8. */
  onMessage(payload: Buffer, binary: boolean): void;
  onPing(payload: Buffer): void;
  onPong(payload: Buffer): void;
  /** A close frame: `code` 1005 when it had no status. Parsing stops here. */
  onCloseFrame(code: number, reason: Buffer): void;
  /** The peer broke the protocol; close with `code`. Parsing stops here. */
  onProtocolError(code: number, message: string): void;
}

/** At most this many frames per message (ws's `maxFragments` default): 1008 beyond. */
export const MAX_FRAGMENTS = 16 * 1024;

/** Longest frame header a client sends: 2 + 8 (64-bit length) + 4 (mask). */
const MAX_HEADER = 14;

/**
 * RFC 6455 server-side frame parser working on the socket's 'data' chunks as they come: no
 * stream in between, no copy of a frame that lies whole in its chunk (it is unmasked in place and
 * handed on as a view). A frame split across chunks is collected in one buffer of its exact
 * length (a header split is joined with the next chunk), so a client sending one byte per
 * segment costs linear time. Client frames must be masked; control frames must be final and at
 * most 125 bytes; a message (all its fragments) may hold at most `maxPayload` bytes. Errors carry
 * the close code ws used for the same fault (1002, 1007, 1008, 1009).
 */
export class FrameParser {
  readonly #sink: FrameSink;
  readonly #maxPayload: number;
  /** The start of a frame header that did not fit in its chunk (< 14 bytes). */
  #head: Buffer | undefined;
  /**
   * The payload of a frame that did not fit in its chunk: copies of what has come so far (joined once complete, so a
   * header announcing 64 KiB reserves nothing until the bytes arrive), and its announced size.
   */
  #payload: Buffer[] | undefined;
  #payloadSize = 0;
  #filled = 0;
  /** Header of the frame in {@link #payload}. */
  #opcode = 0;
  #fin = false;
  #mask = 0;
  /** Opcode of the fragmented message under way (0: none). */
  #fragmentOpcode = 0;
  #fragments: Buffer[] | undefined;
  #messageBytes = 0;
  #fragmentCount = 0;
  #stopped = false;

  constructor(sink: FrameSink, maxPayload: number) {
    this.#sink = sink;
    this.#maxPayload = maxPayload;
  }

  /** True once a close frame or a protocol error ended parsing; later input is ignored. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Ignore all further input (the connection is going away). */
  stop(): void {
    this.#stopped = true;
    this.#head = this.#payload = this.#fragments = undefined;
  }

  push(chunk: Buffer): void {
    if (this.#stopped) return;
    let offset = 0;
    if (this.#payload !== undefined) {
      offset = this.#fill(chunk);
      if (offset < 0) return;
    } else if (this.#head !== undefined) {
      chunk = Buffer.concat([this.#head, chunk]);
      this.#head = undefined;
    }
    const length = chunk.length;
    while (offset < length && !this.#stopped) offset = this.#frame(chunk, offset, length);
  }

  /**
   * Parses the frame starting at `offset`; returns where the next one starts, or `length` when
   * the rest of the chunk was kept for later (an incomplete header or payload) or parsing stopped.
   */
  #frame(chunk: Buffer, offset: number, length: number): number {
    const available = length - offset;
    if (available < 2) return this.#keepHead(chunk, offset);
    const b0 = chunk[offset]!;
    const b1 = chunk[offset + 1]!;
    const fin = (b0 & 0x80) !== 0;
    let opcode = b0 & 0x0f;
    let size = b1 & 0x7f;
    // Checked in ws's order, so the same fault gets the same code and message.
    if ((b0 & 0x30) !== 0) return this.#fail(ProtocolCloseCode.ProtocolError, 'RSV2 and RSV3 must be clear');
    if ((b0 & 0x40) !== 0) return this.#fail(ProtocolCloseCode.ProtocolError, 'RSV1 must be clear');
    if (opcode === Opcode.Continuation) {
      if (this.#fragmentOpcode === 0) return this.#fail(ProtocolCloseCode.ProtocolError, 'invalid opcode 0');
      opcode = this.#fragmentOpcode;
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      if (this.#fragmentOpcode !== 0) return this.#fail(ProtocolCloseCode.ProtocolError, `invalid opcode ${opcode}`);
    } else if (opcode === Opcode.Close || opcode === Opcode.Ping || opcode === Opcode.Pong) {
      if (!fin) return this.#fail(ProtocolCloseCode.ProtocolError, 'FIN must be set');
      if (size > 125 || (opcode === Opcode.Close && size === 1)) return this.#fail(ProtocolCloseCode.ProtocolError, `invalid payload length ${size}`);
    } else {
      return this.#fail(ProtocolCloseCode.ProtocolError, `invalid opcode ${opcode}`);
    }
    if ((b1 & 0x80) === 0) return this.#fail(ProtocolCloseCode.ProtocolError, 'MASK must be set');
    let headerLength = 2;
    if (size === 126) {
      if (available < 4) return this.#keepHead(chunk, offset);
      size = chunk.readUInt16BE(offset + 2);
      headerLength = 4;
    } else if (size === 127) {
      if (available < 10) return this.#keepHead(chunk, offset);
      const high = chunk.readUInt32BE(offset + 2);
      if (high > 2 ** 21 - 1) return this.#fail(ProtocolCloseCode.TooBig, 'payload length > 2^53 - 1', false);
      size = high * 2 ** 32 + chunk.readUInt32BE(offset + 6);
      headerLength = 10;
    }
    if (size > 0 && opcode < Opcode.Close && this.#messageBytes + size > this.#maxPayload) {
      return this.#fail(ProtocolCloseCode.TooBig, 'Max payload size exceeded', false);
    }
    if (available < headerLength + 4) return this.#keepHead(chunk, offset);
    const mask = chunk.readUInt32BE(offset + headerLength);
    const start = offset + headerLength + 4;
    if (opcode < Opcode.Close) this.#messageBytes += size;
    if (length - start >= size) {
      const payload = chunk.subarray(start, start + size);
      if (mask !== 0) unmask(payload, mask);
      this.#complete(opcode, fin, payload);
      return start + size;
    }
    // The payload continues in later chunks: keep a copy of this part (a view would pin the chunk).
    this.#payload = [Buffer.from(chunk.subarray(start, length))];
    this.#payloadSize = size;
    this.#filled = length - start;
    this.#opcode = opcode;
    this.#fin = fin;
    this.#mask = mask;
    return length;
  }

  /** Adds `chunk` to the split payload; returns where the rest of the chunk starts, or -1 if all went in. */
  #fill(chunk: Buffer): number {
    const parts = this.#payload!;
    const wanted = this.#payloadSize - this.#filled;
    if (chunk.length < wanted) {
      parts.push(Buffer.from(chunk));
      this.#filled += chunk.length;
      return -1;
    }
    parts.push(chunk.subarray(0, wanted));
    const payload = Buffer.concat(parts, this.#payloadSize);
    this.#payload = undefined;
    if (this.#mask !== 0) unmask(payload, this.#mask);
    this.#complete(this.#opcode, this.#fin, payload);
    return wanted;
  }

  #keepHead(chunk: Buffer, offset: number): number {
    // A copy: a view would pin the whole chunk (up to 64 KiB) for a few header bytes.
    this.#head = Buffer.from(chunk.subarray(offset, offset + MAX_HEADER));
    return chunk.length;
  }

  #complete(opcode: number, fin: boolean, payload: Buffer): void {
    if (opcode >= Opcode.Close) {
      this.#control(opcode, payload);
      return;
    }
    if (++this.#fragmentCount > MAX_FRAGMENTS) {
      this.#fail(ProtocolCloseCode.PolicyViolation, 'Too many message fragments', false);
      return;
    }
    if (!fin || this.#fragmentOpcode !== 0) {
      // Fragments are copied: views would pin their chunks until the message completes.
      if (payload.length > 0) (this.#fragments ??= []).push(Buffer.from(payload));
      if (!fin) {
        this.#fragmentOpcode = opcode;
        return;
      }
      const fragments = this.#fragments;
      payload = fragments === undefined ? Buffer.alloc(0) : fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments, this.#messageBytes);
    }
    this.#fragmentOpcode = 0;
    this.#fragments = undefined;
    this.#messageBytes = 0;
    this.#fragmentCount = 0;
    const binary = opcode === Opcode.Binary;
    if (!binary && !isUtf8(payload)) {
      this.#fail(ProtocolCloseCode.InvalidPayload, 'invalid UTF-8 sequence');
      return;
    }
    this.#sink.onMessage(payload, binary);
  }

  #control(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Ping) {
      this.#sink.onPing(payload);
      return;
    }
    if (opcode === Opcode.Pong) {
      this.#sink.onPong(payload);
      return;
    }
    if (payload.length === 0) {
      this.stop();
      this.#sink.onCloseFrame(1005, payload);
      return;
    }
    const code = payload.readUInt16BE(0);
    if (!isValidCloseCode(code)) {
      this.#fail(ProtocolCloseCode.ProtocolError, `invalid status code ${code}`);
      return;
    }
    const reason = payload.subarray(2);
    if (!isUtf8(reason)) {
      this.#fail(ProtocolCloseCode.InvalidPayload, 'invalid UTF-8 sequence');
      return;
    }
    this.stop();
    this.#sink.onCloseFrame(code, reason);
  }

  /** Stops parsing and reports; returns an offset that ends the caller's loop. */
  #fail(code: number, message: string, framePrefix = true): number {
    this.stop();
    this.#sink.onProtocolError(code, framePrefix ? `Invalid WebSocket frame: ${message}` : message);
    return Number.MAX_SAFE_INTEGER;
  }
}

/** Below this many payload bytes a byte loop beats setting up a word view. */
const WORD_UNMASK_MIN = 32;

/** XORs `payload` in place with the 32-bit masking key (RFC 6455 5.3). */
function unmask(payload: Buffer, mask: number): void {
  const length = payload.length;
  const m0 = mask >>> 24;
  const m1 = (mask >>> 16) & 0xff;
  const m2 = (mask >>> 8) & 0xff;
  const m3 = mask & 0xff;
  let i = 0;
  if (length >= WORD_UNMASK_MIN) {
    // Bytes up to a 4-byte boundary, then whole 32-bit words with the mask rotated to match.
    const lead = (4 - (payload.byteOffset & 3)) & 3;
    for (; i < lead; i++) payload[i] = payload[i]! ^ maskByte(mask, i);
    const words = (length - lead) >>> 2;
    const rotated = lead === 0 ? mask : ((mask << (8 * lead)) | (mask >>> (32 - 8 * lead))) >>> 0;
    // Int32Array is host order; the mask is big-endian on the wire.
    const m = HOST_LITTLE_ENDIAN ? swap32(rotated) : rotated | 0;
    const view = new Int32Array(payload.buffer, payload.byteOffset + lead, words);
    for (let w = 0; w < words; w++) view[w] = view[w]! ^ m;
    i = lead + words * 4;
  } else {
    for (; i + 3 < length; i += 4) {
      payload[i] = payload[i]! ^ m0;
      payload[i + 1] = payload[i + 1]! ^ m1;
      payload[i + 2] = payload[i + 2]! ^ m2;
      payload[i + 3] = payload[i + 3]! ^ m3;
    }
  }
  for (; i < length; i++) payload[i] = payload[i]! ^ maskByte(mask, i);
}

function maskByte(mask: number, i: number): number {
  return (mask >>> (24 - 8 * (i & 3))) & 0xff;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function swap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}
