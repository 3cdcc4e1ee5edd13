import { ClosedError, JanusError, JanusTimeoutError } from './errors';
import { TransactionTable } from './transaction-table';

describe('TransactionTable', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('resolves with the final answer and uses a decimal counter', async () => {
    const table = new TransactionTable();
    const a = table.create({ request: 'info', timeoutMs: 1_000, ackIsFinal: false });
    const b = table.create({ request: 'info', timeoutMs: 1_000, ackIsFinal: false });
    expect([a.id, b.id]).toEqual(['1', '2']);
    expect(table.deliver({ janus: 'server_info', transaction: b.id })).toBe(true);
    await expect(b.result).resolves.toEqual({ janus: 'server_info', transaction: '2' });
    expect(table.size).toBe(1);
    table.rejectAll(new ClosedError('x'));
    await expect(a.result).rejects.toBeInstanceOf(ClosedError);
  }, 2_000);

  it('skips the ack of an asynchronous request, ends with it for keepalive', async () => {
    const table = new TransactionTable();
    const msg = table.create({ request: 'join', timeoutMs: 1_000, ackIsFinal: false });
    const ka = table.create({ request: 'keepalive', timeoutMs: 1_000, ackIsFinal: true });
    expect(table.deliver({ janus: 'ack', transaction: msg.id })).toBe(true);
    expect(table.deliver({ janus: 'ack', transaction: ka.id })).toBe(true);
    await expect(ka.result).resolves.toMatchObject({ janus: 'ack' });
    expect(table.size).toBe(1);
    table.deliver({ janus: 'event', transaction: msg.id, plugindata: { plugin: 'p', data: {} } });
    await expect(msg.result).resolves.toMatchObject({ janus: 'event' });
    expect(table.size).toBe(0);
  }, 2_000);

  it('rejects Janus errors as JanusError with code and reason', async () => {
    const table = new TransactionTable();
    const t = table.create({ request: 'attach', timeoutMs: 1_000, ackIsFinal: false });
    table.deliver({ janus: 'error', transaction: t.id, error: { code: 458, reason: 'No such session 1' } });
    const err = (await t.result.catch((e: unknown) => e)) as JanusError;
    expect(err).toBeInstanceOf(JanusError);
    expect(err).toMatchObject({ name: 'JanusError', code: 458, reason: 'No such session 1', request: 'attach', retryable: true });
  }, 2_000);

  it('times out and ignores late answers', async () => {
    jest.useFakeTimers();
    const table = new TransactionTable();
    const t = table.create({ request: 'create', timeoutMs: 500, ackIsFinal: false });
    const outcome = t.result.catch((e: unknown) => e);
    jest.advanceTimersByTime(500);
    const err = await outcome;
    expect(err).toBeInstanceOf(JanusTimeoutError);
    expect(err).toMatchObject({ request: 'create', timeoutMs: 500, retryable: true });
    expect(table.deliver({ janus: 'success', transaction: t.id })).toBe(false);
    expect(table.size).toBe(0);
  }, 2_000);

  it('rejects only the transactions of one owner', async () => {
    const table = new TransactionTable();
    const owner = {};
    const mine = table.create({ request: 'a', timeoutMs: 1_000, ackIsFinal: false, owner });
    const other = table.create({ request: 'b', timeoutMs: 1_000, ackIsFinal: false, owner: {} });
    table.rejectOwner(owner, new ClosedError('handle closed'));
    await expect(mine.result).rejects.toThrow('handle closed');
    expect(table.size).toBe(1);
    table.reject(other.id, new Error('send failed'));
    await expect(other.result).rejects.toThrow('send failed');
    expect(table.deliver({ janus: 'success' })).toBe(false);
  }, 2_000);
});
