import { FrameParser, MAX_FRAGMENTS, type FrameSink } from './frame-parser';

type Event = [kind: string, ...values: unknown[]];

/** Records what the parser reports, payloads as strings (latin1 for binary). */
function recorder(): { sink: FrameSink; events: Event[] } {
  const events: Event[] = [];
  const sink: FrameSink = {
    onMessage: (payload, binary) => events.push(binary ? ['binary', payload.toString('latin1')] : ['text', payload.toString()]),
    onPing: (payload) => events.push(['ping', payload.toString()]),
    onPong: (payload) => events.push(['pong', payload.toString()]),
    onCloseFrame: (code, reason) => events.push(['close', code, reason.toString()]),
    onProtocolError: (code, message) => events.push(['error', code, message]),
  };
  return { sink, events };
}

interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  masked?: boolean;
  rsv?: number;
  mask?: number[];
  /** Force a 16- or 64-bit length field whatever the size. */
  lengthField?: 16 | 64;
  /** Claim this length in the header instead of the payload's. */
  claimedLength?: number;
}

/** A client frame as a browser would send it (masked unless told otherwise). */
function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const size = spec.claimedLength ?? payload.length;
  const masked = spec.masked ?? true;
  const mask = spec.mask ?? [0x37, 0xfa, 0x21, 0x3d];
  const b0 = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode;
  let header: Buffer;
  if (spec.lengthField === 64 || size > 0xffff) {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeUInt32BE(Math.floor(size / 2 ** 32), 2);
    header.writeUInt32BE(size >>> 0, 6);
  } else if (spec.lengthField === 16 || size > 125) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(size, 2);
  } else {
    header = Buffer.alloc(2);
    header[1] = size;
  }
  header[0] = b0;
  if (!masked) return Buffer.concat([header, payload]);
  header[1] = header[1]! | 0x80;
  const body = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([header, Buffer.from(mask), body]);
}

const TEXT = 0x1;
const BINARY = 0x2;
const CONT = 0x0;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

function closePayload(code: number, reason = ''): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

/** Parses `wire` cut into the given chunk sizes (the rest in one last chunk). */
function parse(wire: Buffer, cuts: number[] = [], maxPayload = 64 * 1024): Event[] {
  const { sink, events } = recorder();
  const parser = new FrameParser(sink, maxPayload);
  let offset = 0;
  for (const cut of cuts) {
    parser.push(Buffer.from(wire.subarray(offset, offset + cut)));
    offset += cut;
  }
  if (offset < wire.length) parser.push(Buffer.from(wire.subarray(offset)));
  return events;
}

describe('FrameParser', () => {
  // A little of everything: short and 16-bit-length text, a fragmented message with control
  // frames between its fragments, binary, an empty message, a close frame, and bytes after it.
  const euro = '€'.repeat(100); // 300 bytes: 16-bit length, multi-byte characters
  const stream = Buffer.concat([
    frame({ opcode: TEXT, payload: '{"type":"hello"}' }),
    frame({ opcode: TEXT, payload: euro }),
    frame({ opcode: TEXT, payload: 'frag-', fin: false }),
    frame({ opcode: PING, payload: 'p1' }),
    frame({ opcode: CONT, payload: Buffer.from('€').subarray(0, 2), fin: false }),
    frame({ opcode: PONG, payload: 'p2' }),
    frame({ opcode: CONT, payload: Buffer.concat([Buffer.from('€').subarray(2), Buffer.from('-end')]) }),
    frame({ opcode: BINARY, payload: Buffer.from([0, 1, 2, 255]) }),
    frame({ opcode: TEXT, payload: '' }),
    frame({ opcode: TEXT, payload: 'x'.repeat(70_000 - 65_536), lengthField: 64 }),
    frame({ opcode: CLOSE, payload: closePayload(4000, 'bye') }),
    frame({ opcode: TEXT, payload: 'after close' }),
  ]);
  const expected: Event[] = [
    ['text', '{"type":"hello"}'],
    ['text', euro],
    ['ping', 'p1'],
    ['pong', 'p2'],
    ['text', 'frag-€-end'],
    ['binary', '\x00\x01\x02\xff'],
    ['text', ''],
    ['text', 'x'.repeat(70_000 - 65_536)],
    ['close', 4000, 'bye'],
  ];

  it('reports frames in wire order; fragments are joined, control frames between them come first', () => {
    expect(parse(stream)).toEqual(expected);
  });

  it('holds only the bytes that came for a frame whose header announces more (no 64 KiB reserved per stalled client)', () => {
    const announced = frame({ opcode: TEXT, payload: 'x'.repeat(65_000) });
    const header = announced.subarray(0, 8 + 1); // 16-bit length form: 4 header bytes, 4 mask bytes, 1 payload byte
    const before = process.memoryUsage().arrayBuffers;
    const parsers = Array.from({ length: 500 }, () => {
      const parser = new FrameParser(recorder().sink, 65_536);
      parser.push(Buffer.from(header));
      return parser;
    });
    // Reserving the announced size would be 500 × 65,000 bytes (31 MiB).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 * 1024 * 1024);
    // The rest completes the message as usual.
    const { sink, events } = recorder();
    const parser = new FrameParser(sink, 65_536);
    parser.push(Buffer.from(header));
    parser.push(announced.subarray(header.length));
    expect(events).toEqual([['text', 'x'.repeat(65_000)]]);
    expect(parsers).toHaveLength(500);
  });

  it('gives the same result whichever byte the stream is split at', () => {
    for (let cut = 1; cut < stream.length; cut++) expect([cut, parse(stream, [cut])]).toEqual([cut, expected]);
  });

  it('gives the same result split in two places, and one byte at a time', () => {
    for (let a = 1; a < 60; a++) for (let b = 1; b < 60; b++) expect(parse(stream, [a, b])).toEqual(expected);
    expect(parse(stream, new Array<number>(stream.length).fill(1))).toEqual(expected);
  });

  it('unmasks payloads of every length at every alignment', () => {
    for (let length = 0; length < 80; length++) {
      for (let lead = 0; lead < 4; lead++) {
        const payload = Buffer.from(Array.from({ length }, (_, i) => 0x41 + ((i * 7) % 26)));
        const wire = Buffer.concat([Buffer.alloc(lead), frame({ opcode: BINARY, payload, mask: [0x01, 0x80, 0xfe, 0x5a] })]);
        const { sink, events } = recorder();
        // A chunk whose frame starts `lead` bytes into an aligned buffer: the payload's alignment varies.
        new FrameParser(sink, 1024).push(wire.subarray(lead));
        expect(events).toEqual([['binary', payload.toString('latin1')]]);
      }
    }
  });

  it('takes a zero mask and a payload of exactly the limit', () => {
    expect(parse(frame({ opcode: TEXT, payload: 'abc', mask: [0, 0, 0, 0] }))).toEqual([['text', 'abc']]);
    expect(parse(frame({ opcode: TEXT, payload: 'y'.repeat(100) }), [], 100)).toEqual([['text', 'y'.repeat(100)]]);
  });

  describe('closes with 1009', () => {
    it('on a frame over the limit, as soon as its length is known', () => {
      const wire = frame({ opcode: TEXT, payload: 'y'.repeat(101) });
      expect(parse(wire, [], 100)).toEqual([['error', 1009, 'Max payload size exceeded']]);
      // Only the header has arrived: no need to wait for the payload.
      expect(parse(wire.subarray(0, 4), [], 100)).toEqual([['error', 1009, 'Max payload size exceeded']]);
    });

    it('on a fragmented message whose fragments add up to more than the limit', () => {
      const wire = Buffer.concat([frame({ opcode: TEXT, payload: 'y'.repeat(60), fin: false }), frame({ opcode: CONT, payload: 'y'.repeat(41) })]);
      expect(parse(wire, [], 100)).toEqual([['error', 1009, 'Max payload size exceeded']]);
    });

    it('on a 64-bit length beyond 2^53 - 1', () => {
      const wire = frame({ opcode: BINARY, claimedLength: 2 ** 53, lengthField: 64 });
      expect(parse(wire)).toEqual([['error', 1009, 'payload length > 2^53 - 1']]);
    });
  });

  describe('closes with 1002', () => {
    const cases: [string, Buffer, string][] = [
      ['an unmasked frame', frame({ opcode: TEXT, payload: 'hi', masked: false }), 'MASK must be set'],
      ['opcode 3', frame({ opcode: 0x3, payload: 'hi' }), 'invalid opcode 3'],
      ['opcode 0xb', frame({ opcode: 0xb }), 'invalid opcode 11'],
      ['a continuation with no message under way', frame({ opcode: CONT, payload: 'hi' }), 'invalid opcode 0'],
      ['a new message inside a fragmented one', Buffer.concat([frame({ opcode: TEXT, payload: 'a', fin: false }), frame({ opcode: BINARY, payload: 'b' })]), 'invalid opcode 2'],
      ['RSV1 (no extension was negotiated)', frame({ opcode: TEXT, payload: 'hi', rsv: 4 }), 'RSV1 must be clear'],
      ['RSV2', frame({ opcode: TEXT, payload: 'hi', rsv: 2 }), 'RSV2 and RSV3 must be clear'],
      ['a fragmented ping', frame({ opcode: PING, payload: 'hi', fin: false }), 'FIN must be set'],
      ['a ping over 125 bytes', frame({ opcode: PING, payload: 'p'.repeat(126) }), 'invalid payload length 126'],
      ['a close frame with a 1-byte payload', frame({ opcode: CLOSE, payload: Buffer.from([3]) }), 'invalid payload length 1'],
      ['a close frame with a reserved code', frame({ opcode: CLOSE, payload: closePayload(1005) }), 'invalid status code 1005'],
      ['a close frame with an unassigned code', frame({ opcode: CLOSE, payload: closePayload(2999) }), 'invalid status code 2999'],
    ];
    it.each(cases)('on %s', (_name, wire, message) => {
      expect(parse(wire)).toEqual([['error', 1002, `Invalid WebSocket frame: ${message}`]]);
    });

    it('after the messages before the bad frame, and reports nothing after it', () => {
      const wire = Buffer.concat([frame({ opcode: TEXT, payload: 'ok' }), frame({ opcode: 0x3 }), frame({ opcode: TEXT, payload: 'never' })]);
      for (let cut = 1; cut < wire.length; cut++) expect(parse(wire, [cut])).toEqual([['text', 'ok'], ['error', 1002, 'Invalid WebSocket frame: invalid opcode 3']]);
    });
  });

  describe('closes with 1007', () => {
    it('on a text frame that is not UTF-8', () => {
      expect(parse(frame({ opcode: TEXT, payload: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) }))).toEqual([['error', 1007, 'Invalid WebSocket frame: invalid UTF-8 sequence']]);
    });

    it('on a fragmented text message that is not UTF-8 as a whole', () => {
      const wire = Buffer.concat([frame({ opcode: TEXT, payload: Buffer.from([0xe2, 0x82]), fin: false }), frame({ opcode: CONT, payload: 'x' })]);
      expect(parse(wire)).toEqual([['error', 1007, 'Invalid WebSocket frame: invalid UTF-8 sequence']]);
    });

    it('on a close reason that is not UTF-8', () => {
      const payload = Buffer.concat([closePayload(1000), Buffer.from([0xff])]);
      expect(parse(frame({ opcode: CLOSE, payload }))).toEqual([['error', 1007, 'Invalid WebSocket frame: invalid UTF-8 sequence']]);
    });

    it('but not on binary frames', () => {
      expect(parse(frame({ opcode: BINARY, payload: Buffer.from([0xff, 0xfe]) }))).toEqual([['binary', '\xff\xfe']]);
    });
  });

  it(`closes with 1008 on a message of more than ${MAX_FRAGMENTS} fragments`, () => {
    const empty = frame({ opcode: CONT, fin: false });
    const wire = Buffer.concat([frame({ opcode: TEXT, payload: 'a', fin: false }), ...new Array<Buffer>(MAX_FRAGMENTS).fill(empty)]);
    expect(parse(wire)).toEqual([['error', 1008, 'Too many message fragments']]);
    const fits = Buffer.concat([frame({ opcode: TEXT, payload: 'a', fin: false }), ...new Array<Buffer>(MAX_FRAGMENTS - 2).fill(empty), frame({ opcode: CONT, payload: 'b' })]);
    expect(parse(fits)).toEqual([['text', 'ab']]);
  });

  it('reports an empty close frame as 1005, and nothing after it', () => {
    expect(parse(Buffer.concat([frame({ opcode: CLOSE }), frame({ opcode: PING })]))).toEqual([['close', 1005, '']]);
  });

  it('ignores everything once stopped by its owner', () => {
    const { sink, events } = recorder();
    const parser = new FrameParser(sink, 1024);
    const wire = frame({ opcode: TEXT, payload: 'hello' });
    parser.push(wire.subarray(0, 3));
    parser.stop();
    parser.push(wire.subarray(3));
    parser.push(wire);
    expect(events).toEqual([]);
    expect(parser.stopped).toBe(true);
  });

  it('lets the sink stop it in the middle of a chunk', () => {
    const events: string[] = [];
    const parser: FrameParser = new FrameParser(
      {
        onMessage: (payload) => {
          events.push(payload.toString());
          parser.stop();
        },
        onPing: () => events.push('ping'),
        onPong: () => events.push('pong'),
        onCloseFrame: () => events.push('close'),
        onProtocolError: () => events.push('error'),
      },
      1024,
    );
    parser.push(Buffer.concat([frame({ opcode: TEXT, payload: 'one' }), frame({ opcode: PING }), frame({ opcode: TEXT, payload: 'two' })]));
    expect(events).toEqual(['one']);
  });
});
