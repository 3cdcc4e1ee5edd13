/**
 * Coalesces the frames one socket gets within one event-loop turn into one write.
 *
 * The first frame a socket gets in a turn is written at once (the common case on the session
 * message path: one frame per receiver per turn, no added latency or copy). Later frames in the
 * same turn are queued and go out together from one `setImmediate` per turn for all sockets:
 * small batches as one concatenated buffer (one `write`), larger ones under cork/uncork (one
 * `writev`). Room broadcasts and join storms, where a receiver gets a frame from each of many
 * senders handled in the same turn, thus cost one syscall per receiver per turn instead of one
 * per frame.
 */

/** Sockets (or anything that can take buffers) a batch is written to. */
export interface FrameWriter {
  write(chunk: Buffer): unknown;
  cork(): void;
  uncork(): void;
}

/** Up to this many queued bytes are concatenated into one buffer; above, they go out as a writev. */
const CONCAT_MAX_BYTES = 16 * 1024;

/** The current turn; bumped by the flush that ends it. */
let turn = 0;
let flushScheduled = false;
const queued: FrameQueue[] = [];

function flushAll(): void {
  flushScheduled = false;
  turn++;
  // Queues added while flushing (a write callback sending more) are flushed in this loop too.
  for (let i = 0; i < queued.length; i++) queued[i]!.flush();
  queued.length = 0;
}

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flushAll);
}

/** One socket's queue. */
export class FrameQueue {
  readonly #out: FrameWriter;
  /** The turn of the last frame written or queued; -1 before any. */
  #lastTurn = -1;
  #frames: Buffer[] = [];
  #bytes = 0;

  constructor(out: FrameWriter) {
    this.#out = out;
  }

  /** Bytes queued here and not yet handed to the socket. */
  get bytes(): number {
    return this.#bytes;
  }

  push(frame: Buffer): void {
    if (this.#lastTurn !== turn) {
      // First frame this turn: straight out. The flush also ends the turn for the next check.
      this.#lastTurn = turn;
      scheduleFlush();
      if (this.#frames.length === 0) {
        this.#out.write(frame);
        return;
      }
    }
    if (this.#frames.length === 0) queued.push(this);
    this.#frames.push(frame);
    this.#bytes += frame.length;
  }

  /** Hands every queued frame to the socket now (before a close frame, or at the end of the turn). */
  flush(): void {
    const frames = this.#frames;
    const count = frames.length;
    if (count === 0) return;
    const bytes = this.#bytes;
    this.#frames = [];
    this.#bytes = 0;
    const out = this.#out;
    if (count === 1) out.write(frames[0]!);
    else if (bytes <= CONCAT_MAX_BYTES) out.write(Buffer.concat(frames, bytes));
    else {
      out.cork();
      for (const frame of frames) out.write(frame);
      out.uncork();
    }
  }

  /** Forgets queued frames (the socket is being destroyed). */
  clear(): void {
    this.#frames = [];
    this.#bytes = 0;
  }
}
