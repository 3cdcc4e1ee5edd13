import { FrameQueue, type FrameWriter } from './write-coalescer';

/** Records what reaches the "socket": each write, and the writes inside one cork. */
function recorder(): { out: FrameWriter; writes: string[][] } {
  const writes: string[][] = [];
  let corked: string[] | undefined;
  const out: FrameWriter = {
    write: (chunk) => (corked ? corked.push(chunk.toString()) : writes.push([chunk.toString()])),
    cork: () => (corked = []),
    uncork: () => {
      writes.push(corked!);
      corked = undefined;
    },
  };
  return { out, writes };
}

const turnEnd = () => new Promise((resolve) => setImmediate(resolve));

describe('FrameQueue', () => {
  it('writes the first frame of a turn at once and the rest of the turn as one buffer, in order', async () => {
    const { out, writes } = recorder();
    const q = new FrameQueue(out);
    q.push(Buffer.from('a'));
    expect(writes).toEqual([['a']]);
    q.push(Buffer.from('b'));
    q.push(Buffer.from('c'));
    expect(writes).toEqual([['a']]);
    expect(q.bytes).toBe(2);
    await turnEnd();
    expect(writes).toEqual([['a'], ['bc']]);
    expect(q.bytes).toBe(0);
    // A new turn: its first frame goes straight out again.
    q.push(Buffer.from('d'));
    expect(writes).toEqual([['a'], ['bc'], ['d']]);
  });

  it('keeps sockets apart; large batches go out corked (one writev), not copied', async () => {
    const one = recorder();
    const two = recorder();
    const q1 = new FrameQueue(one.out);
    const q2 = new FrameQueue(two.out);
    const big = 'x'.repeat(20 * 1024);
    q1.push(Buffer.from('1'));
    q2.push(Buffer.from('2'));
    q1.push(Buffer.from(big));
    q1.push(Buffer.from('3'));
    await turnEnd();
    expect(one.writes).toEqual([['1'], [big, '3']]);
    expect(two.writes).toEqual([['2']]);
  });

  it('flushes on demand (before a close frame) and forgets frames on clear', async () => {
    const { out, writes } = recorder();
    const q = new FrameQueue(out);
    q.push(Buffer.from('a'));
    q.push(Buffer.from('b'));
    q.flush();
    expect(writes).toEqual([['a'], ['b']]);
    q.push(Buffer.from('c'));
    q.clear();
    await turnEnd();
    expect(writes).toEqual([['a'], ['b']]);
  });
});
