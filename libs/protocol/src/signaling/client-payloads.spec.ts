import { parseClientMessage } from './parse-client-message';
import type { ClientMessage, UnknownClientMessage } from './parse-client-message';

const json = (value: unknown): string => JSON.stringify(value);

function ok(value: unknown): ClientMessage | UnknownClientMessage {
  const result = parseClientMessage(json(value));
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.reason ?? ''}`);
  return result.value;
}

function err(value: unknown): { code: string; id?: string; reason?: string } {
  const result = parseClientMessage(json(value));
  if (result.ok) throw new Error(`expected failure for ${json(value)}`);
  return { code: result.error.code, id: result.id, reason: result.error.reason };
}

describe('room', () => {
  it('parses join, leave and the federation variant (1.6.1, section 9)', () => {
    expect(ok({ id: '1', type: 'room', room: { roomid: 'abc', sessionid: 'nc-sid' } })).toEqual({
      id: '1',
      type: 'room',
      room: { roomid: 'abc', sessionid: 'nc-sid' },
    });
    expect(ok({ type: 'room', room: { roomid: '' } })).toEqual({ type: 'room', room: { roomid: '' } });
    expect(ok({ type: 'room', room: {} })).toEqual({ type: 'room', room: { roomid: '' } });
    expect(
      ok({
        type: 'room',
        room: { roomid: 'abc', federation: { signaling: 'wss://remote/spreed', url: 'https://remote-nc/', token: 'jwt', roomid: 'r2' } },
      }),
    ).toEqual({
      type: 'room',
      room: { roomid: 'abc', federation: { signaling: 'wss://remote/spreed/', url: 'https://remote-nc/', token: 'jwt', roomid: 'r2' } },
    });
  });

  it.each([
    [{ signaling: '', url: 'https://nc/', token: 't' }, 'room.federation.signaling'],
    [{ signaling: 'wss://x/', token: 't' }, 'room.federation.url'],
    [{ signaling: 'wss://x/', url: 'https://nc/' }, 'room.federation.token'],
    [{ signaling: 'not a url', url: 'https://nc/', token: 't' }, 'room.federation.signaling'],
  ])('rejects federation %j', (federation, path) => {
    expect(err({ id: 'f', type: 'room', room: { roomid: 'a', federation } })).toMatchObject({
      code: 'invalid_format',
      id: 'f',
      reason: expect.stringContaining(path),
    });
  });

  it('rejects a non-string roomid as undecodable', () => {
    expect(err({ id: 'x', type: 'room', room: { roomid: 5 } })).toMatchObject({ code: 'invalid_format', id: undefined });
  });
});

describe('message and control', () => {
  it.each(['message', 'control'] as const)('parses %s for every recipient type (1.8, 1.10, section 9)', (type) => {
    const data = { type: 'offer', payload: { sdp: 'v=0' } };
    const cases = [
      { type: 'session', sessionid: 'pub' },
      { type: 'user', userid: 'alice' },
      { type: 'room' },
      { type: 'call' },
    ];
    for (const recipient of cases) {
      const msg = ok({ id: 'm', type, [type]: { recipient, data } });
      expect(msg).toEqual({ id: 'm', type, [type]: { recipient, data } });
      // The opaque data is the very object JSON.parse produced (not re-serialised).
      const payload = (msg as unknown as Record<string, { data: unknown }>)[type];
      expect(payload?.data).toEqual(data);
    }
  });

  it('keeps data by reference (no copy)', () => {
    const text = json({ type: 'message', message: { recipient: { type: 'room' }, data: { big: [1, 2, 3] } } });
    const original = JSON.parse;
    let parsed: unknown;
    JSON.parse = (t: string) => (parsed = original(t));
    try {
      const result = parseClientMessage(text);
      expect(result.ok).toBe(true);
      if (!result.ok || result.value.type !== 'message' || 'unknown' in result.value) return;
      const msg = result.value as Extract<ClientMessage, { type: 'message' }>;
      expect(msg.message.data).toBe((parsed as { message: { data: unknown } }).message.data);
    } finally {
      JSON.parse = original;
    }
  });

  it('accepts any non-null data, including strings and empty objects', () => {
    expect(ok({ type: 'message', message: { recipient: { type: 'room' }, data: 'x' } })).toBeTruthy();
    expect(ok({ type: 'message', message: { recipient: { type: 'room' }, data: {} } })).toBeTruthy();
    expect(ok({ type: 'message', message: { recipient: { type: 'room' }, data: 0 } })).toBeTruthy();
  });

  it.each([
    [{ recipient: { type: 'room' } }, 'message.data'],
    [{ recipient: { type: 'room' }, data: null }, 'message.data'],
    [{ data: {} }, 'message.recipient.type'],
    [{ recipient: { type: 'session' }, data: {} }, 'message.recipient.sessionid'],
    [{ recipient: { type: 'user', userid: '' }, data: {} }, 'message.recipient.userid'],
    [{ recipient: { type: 'group' }, data: {} }, 'message.recipient.type'],
  ])('rejects %j with invalid_format and the id', (payload, path) => {
    expect(err({ id: 'q', type: 'message', message: payload })).toEqual({
      code: 'invalid_format',
      id: 'q',
      reason: expect.stringContaining(path),
    });
  });

  it('rejects a mistyped recipient as undecodable', () => {
    expect(err({ id: 'q', type: 'control', control: { recipient: 'room', data: {} } }).id).toBeUndefined();
    expect(err({ id: 'q', type: 'control', control: { recipient: { type: 'session', sessionid: 1 }, data: {} } }).id).toBeUndefined();
  });
});

describe('transient', () => {
  it('parses set/remove/unknown types (1.11)', () => {
    expect(ok({ type: 'transient', transient: { type: 'set', key: 'k', value: { a: 1 }, ttl: 5_000_000_000 } })).toEqual({
      type: 'transient',
      transient: { type: 'set', key: 'k', value: { a: 1 }, ttl: 5_000_000_000 },
    });
    expect(ok({ type: 'transient', transient: { type: 'set', key: 'k' } })).toEqual({
      type: 'transient',
      transient: { type: 'set', key: 'k' },
    });
    expect(ok({ type: 'transient', transient: { type: 'remove', key: 'k' } })).toEqual({
      type: 'transient',
      transient: { type: 'remove', key: 'k' },
    });
    expect(ok({ id: 'i', type: 'transient', transient: { type: 'frobnicate' } })).toEqual({
      id: 'i',
      type: 'transient',
      transient: { type: 'frobnicate' },
    });
  });

  it.each([
    [{ key: 'k' }, 'transient.type'],
    [{ type: 'set' }, 'transient.key'],
    [{ type: 'remove', key: '' }, 'transient.key'],
  ])('rejects %j', (payload, path) => {
    expect(err({ id: 't', type: 'transient', transient: payload })).toEqual({
      code: 'invalid_format',
      id: 't',
      reason: expect.stringContaining(path),
    });
  });

  it('rejects a fractional ttl as undecodable', () => {
    expect(err({ id: 't', type: 'transient', transient: { type: 'set', key: 'k', ttl: 1.5 } }).id).toBeUndefined();
  });
});

describe('internal', () => {
  it('parses addsession with every field (1.12.1)', () => {
    const addsession = {
      sessionid: 'virt',
      roomid: 'room',
      userid: 'phone',
      user: { type: 'phone', callid: 'c', number: '+49' },
      flags: 3,
      incall: 9,
      options: { actorId: 'a', actorType: 'phones' },
    };
    expect(ok({ id: 'a', type: 'internal', internal: { type: 'addsession', addsession } })).toEqual({
      id: 'a',
      type: 'internal',
      internal: { type: 'addsession', addsession },
    });
    expect(ok({ type: 'internal', internal: { type: 'addsession', addsession: { sessionid: 's', roomid: 'r' } } })).toEqual({
      type: 'internal',
      internal: { type: 'addsession', addsession: { sessionid: 's', roomid: 'r' } },
    });
  });

  it('parses updatesession, removesession and incall (1.12.2–1.12.4)', () => {
    expect(
      ok({ type: 'internal', internal: { type: 'updatesession', updatesession: { sessionid: 's', roomid: 'r', flags: 0, incall: 1 } } }),
    ).toEqual({ type: 'internal', internal: { type: 'updatesession', updatesession: { sessionid: 's', roomid: 'r', flags: 0, incall: 1 } } });
    expect(
      ok({ type: 'internal', internal: { type: 'removesession', removesession: { sessionid: 's', roomid: 'r', userid: 'u' } } }),
    ).toEqual({ type: 'internal', internal: { type: 'removesession', removesession: { sessionid: 's', roomid: 'r', userid: 'u' } } });
    expect(ok({ type: 'internal', internal: { type: 'incall', incall: { incall: 7 } } })).toEqual({
      type: 'internal',
      internal: { type: 'incall', incall: { incall: 7 } },
    });
    expect(ok({ type: 'internal', internal: { type: 'incall', incall: {} } })).toEqual({
      type: 'internal',
      internal: { type: 'incall', incall: { incall: 0 } },
    });
    expect(ok({ type: 'internal', internal: { type: 'incall', incall: { incall: -1 } } })).toMatchObject({
      internal: { incall: { incall: -1 } },
    });
  });

  it('parses dialout replies and status updates (1.12.6)', () => {
    const accepted = { type: 'status', roomid: '42', status: { callid: 'c1', status: 'accepted' } };
    expect(ok({ id: 'x'.repeat(32), type: 'internal', internal: { type: 'dialout', dialout: accepted } })).toEqual({
      id: 'x'.repeat(32),
      type: 'internal',
      internal: { type: 'dialout', dialout: accepted },
    });
    const cleared = { type: 'status', roomid: '42', status: { callid: 'c1', status: 'cleared', cause: 'busy', code: 486, message: 'Busy' } };
    expect(ok({ type: 'internal', internal: { type: 'dialout', dialout: cleared } })).toMatchObject({ internal: { dialout: cleared } });
    const error = { type: 'error', error: { code: 'failed', message: 'Nope' } };
    expect(ok({ type: 'internal', internal: { type: 'dialout', dialout: error } })).toMatchObject({ internal: { dialout: error } });
    expect(ok({ type: 'internal', internal: { type: 'dialout', dialout: { type: 'other', roomid: '1' } } })).toMatchObject({
      internal: { dialout: { type: 'other', roomid: '1' } },
    });
  });

  it('passes unknown internal types through as unknown (ignored upstream)', () => {
    expect(ok({ id: 'u', type: 'internal', internal: { type: 'future' } })).toEqual({
      id: 'u',
      type: 'internal',
      unknown: true,
      subtype: 'future',
    });
  });

  it.each([
    [{}, 'internal.type'],
    [{ type: 'addsession' }, 'internal.addsession'],
    [{ type: 'addsession', addsession: { roomid: 'r' } }, 'internal.addsession.sessionid'],
    [{ type: 'addsession', addsession: { sessionid: 's' } }, 'internal.addsession.roomid'],
    [{ type: 'updatesession', updatesession: { sessionid: 's' } }, 'internal.updatesession.roomid'],
    [{ type: 'removesession', removesession: { roomid: 'r' } }, 'internal.removesession.sessionid'],
    [{ type: 'incall' }, 'internal.incall'],
    [{ type: 'dialout' }, 'internal.dialout'],
    [{ type: 'dialout', dialout: {} }, 'internal.dialout.type'],
    [{ type: 'dialout', dialout: { type: 'error' } }, 'internal.dialout.error'],
    [{ type: 'dialout', dialout: { type: 'status' } }, 'internal.dialout.status'],
  ])('rejects %j', (internal, path) => {
    expect(err({ id: 'i', type: 'internal', internal })).toEqual({
      code: 'invalid_format',
      id: 'i',
      reason: expect.stringContaining(path),
    });
  });

  it('rejects out-of-range flags as undecodable', () => {
    const r = err({ id: 'i', type: 'internal', internal: { type: 'addsession', addsession: { sessionid: 's', roomid: 'r', flags: -1 } } });
    expect(r).toMatchObject({ code: 'invalid_format', reason: expect.stringContaining('internal.addsession.flags') });
    expect(r.id).toBeUndefined();
  });
});
