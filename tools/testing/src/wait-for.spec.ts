import { EventEmitter } from 'node:events';
import { waitFor, waitForEvent } from './wait-for';

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? n : undefined), { timeout: 1_000, name: 'n', interval: 1 })).resolves.toBe(3);
  }, 2_000);

  it('accepts async checks', async () => {
    await expect(waitFor(async () => 'ok', { timeout: 100, name: 'async' })).resolves.toBe('ok');
  }, 2_000);

  it('names what it waited for and the last error', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('still wrong');
        },
        { timeout: 50, name: 'the thing' },
      ),
    ).rejects.toThrow('timed out after 50 ms waiting for the thing: last error: still wrong');
    await expect(waitFor(() => false, { timeout: 30, name: 'x' })).rejects.toThrow(/^timed out after 30 ms waiting for x$/);
  }, 2_000);
});

describe('waitForEvent', () => {
  it('resolves with the event arguments', async () => {
    const e = new EventEmitter();
    const p = waitForEvent<[number, string]>(e, 'thing', { timeout: 100 });
    e.emit('thing', 1, 'a');
    await expect(p).resolves.toEqual([1, 'a']);
    expect(e.listenerCount('thing')).toBe(0);
    expect(e.listenerCount('error')).toBe(0);
  }, 2_000);

  it('rejects on error and on timeout', async () => {
    const e = new EventEmitter();
    const p = waitForEvent(e, 'thing', { timeout: 100 });
    e.emit('error', new Error('boom'));
    await expect(p).rejects.toThrow('boom');
    await expect(waitForEvent(e, 'thing', { timeout: 20 })).rejects.toThrow("timed out after 20 ms waiting for event 'thing'");
  }, 2_000);
});
