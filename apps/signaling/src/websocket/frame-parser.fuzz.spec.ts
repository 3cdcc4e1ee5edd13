import fc from 'fast-check';
import WebSocket from 'ws';
import { FrameParser, type FrameSink } from './frame-parser';

/**
 * Differential fuzzing: random client byte streams — mostly well-formed frames with hostile
 * details (reserved bits, bad opcodes, unmasked frames, fragment misuse, oversized and
 * 64-bit lengths, invalid UTF-8, any close code), cut into random chunks — must give the same
 * messages, control frames and final close code from our parser as from ws's own `Receiver`,
 * which served `/spreed` before.
 */

const MAX_PAYLOAD = 1024;

type Event = string;

/** Our parser's events, chunk by chunk; stops at the first close or error. */
function ours(chunks: Buffer[]): Event[] {
  const events: Event[] = [];
  const sink: FrameSink = {
    onMessage: (payload, binary) => events.push(`${binary ? 'binary' : 'text'}:${payload.toString('hex')}`),
    onPing: (payload) => events.push(`ping:${payload.toString('hex')}`),
    onPong: (payload) => events.push(`pong:${payload.toString('hex')}`),
    onCloseFrame: (code, reason) => events.push(`close:${code}:${reason.toString('hex')}`),
    onProtocolError: (code) => events.push(`error:${code}`),
  };
  const parser = new FrameParser(sink, MAX_PAYLOAD);
  for (const chunk of chunks) parser.push(Buffer.from(chunk));
  return events;
}

interface WsReceiver {
  on(event: string, listener: (...args: never[]) => void): void;
  _write(chunk: Buffer, encoding: unknown, cb: (err?: Error) => void): void;
}
type ReceiverClass = new (opts: { isServer: boolean; maxPayload: number; binaryType: string; extensions: object; skipUTF8Validation: boolean }) => WsReceiver;

/** ws's receiver (synchronous events, as ws 8 emits them by default), fed the same chunks. */
function theirs(chunks: Buffer[]): Event[] {
  const events: Event[] = [];
  const Receiver = (WebSocket as unknown as { Receiver: ReceiverClass }).Receiver;
  const receiver = new Receiver({ isServer: true, maxPayload: MAX_PAYLOAD, binaryType: 'nodebuffer', extensions: {}, skipUTF8Validation: false });
  let done = false;
  receiver.on('message', (data: Buffer, binary: boolean) => events.push(`${binary ? 'binary' : 'text'}:${data.toString('hex')}`));
  receiver.on('ping', (data: Buffer) => events.push(`ping:${data.toString('hex')}`));
  receiver.on('pong', (data: Buffer) => events.push(`pong:${data.toString('hex')}`));
  receiver.on('conclude', (code: number, reason: Buffer) => {
    events.push(`close:${code}:${reason.toString('hex')}`);
    done = true;
  });
  receiver.on('error', () => undefined);
  for (const chunk of chunks) {
    if (done) break;
    // Called directly: ws processes a chunk synchronously and reports a fault through the callback.
    receiver._write(Buffer.from(chunk), null, (err) => {
      if (err === undefined || err === null) return;
      const code = Object.getOwnPropertySymbols(err)
        .filter((s) => s.description === 'status-code')
        .map((s) => (err as unknown as Record<symbol, number>)[s])[0];
      events.push(`error:${code}`);
      done = true;
    });
  }
  return events;
}

const utf8Text = fc.string({ maxLength: 60 }).map((s) => Buffer.from(s));
const anyBytes = fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a));
const invalidUtf8 = fc.constantFrom(Buffer.from([0xc3, 0x28]), Buffer.from([0xe2, 0x82]), Buffer.from([0xff]), Buffer.from([0xed, 0xa0, 0x80]));
const closeBody = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.constant(Buffer.from([3])),
  fc.tuple(fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(1000, 1001, 1005, 1006, 1015, 2999, 3000, 4999, 5000)), fc.oneof(utf8Text, invalidUtf8)).map(([code, reason]) => {
    const b = Buffer.alloc(2 + Math.min(reason.length, 20));
    b.writeUInt16BE(code, 0);
    reason.copy(b, 2, 0, 20);
    return b;
  }),
);

interface FrameSpec {
  opcode: number;
  payload: Buffer;
  fin: boolean;
  rsv: number;
  masked: boolean;
  mask: number[];
  length: 'natural' | '16' | '64' | 'huge';
}

const frameSpec: fc.Arbitrary<FrameSpec> = fc.record({
  opcode: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 1, 2, 8, 9, 10) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
  payload: fc.oneof({ weight: 4, arbitrary: utf8Text }, anyBytes, invalidUtf8, closeBody, fc.integer({ min: 100, max: 1100 }).map((n) => Buffer.alloc(n, 0x61))),
  fin: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
  rsv: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 7 })),
  masked: fc.oneof({ weight: 12, arbitrary: fc.constant(true) }, fc.constant(false)),
  mask: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
  length: fc.oneof({ weight: 10, arbitrary: fc.constant('natural' as const) }, fc.constantFrom('16' as const, '64' as const, 'huge' as const)),
});

function encode(spec: FrameSpec): Buffer {
  const size = spec.payload.length;
  let header: Buffer;
  if (spec.length === 'huge') {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeUInt32BE(0x80000000, 2); // 2^63: beyond 2^53 - 1
  } else if (spec.length === '64' || size > 0xffff) {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeUInt32BE(size >>> 0, 6);
  } else if (spec.length === '16' || size > 125) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(size, 2);
  } else {
    header = Buffer.from([0, size]);
  }
  header[0] = (spec.fin ? 0x80 : 0) | (spec.rsv << 4) | spec.opcode;
  if (!spec.masked) return Buffer.concat([header, spec.payload]);
  header[1] = header[1]! | 0x80;
  return Buffer.concat([header, Buffer.from(spec.mask), Buffer.from(spec.payload.map((b, i) => b ^ spec.mask[i % 4]!))]);
}

/** Cuts `wire` at the given fractions of its length. */
function cut(wire: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((f) => Math.floor(f * wire.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) chunks.push(wire.subarray(from, p));
    from = Math.max(from, p);
  }
  if (from < wire.length) chunks.push(wire.subarray(from));
  return chunks;
}

describe('FrameParser against ws’s receiver (differential fuzzing)', () => {
  it('reports the same messages, control frames and close code for random client streams cut anywhere', () => {
    fc.assert(
      fc.property(fc.array(frameSpec, { minLength: 1, maxLength: 8 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), (specs, at) => {
        const chunks = cut(Buffer.concat(specs.map(encode)), at);
        expect(ours(chunks)).toEqual(theirs(chunks));
      }),
      { numRuns: 2000 },
    );
  });
});
