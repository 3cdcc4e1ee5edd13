import { parseClientMessage } from './parse-client-message';
import type { HelloClientMessage } from './hello-client-message';

const json = (value: unknown): string => JSON.stringify(value);

function hello(payload: unknown, id = 'h1'): ReturnType<typeof parseClientMessage> {
  return parseClientMessage(json({ id, type: 'hello', hello: payload }));
}

function helloOk(payload: unknown): HelloClientMessage {
  const result = hello(payload);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.reason ?? ''}`);
  if (result.value.type !== 'hello' || 'unknown' in result.value) throw new Error('not a hello');
  return result.value as HelloClientMessage;
}

function helloError(payload: unknown): { code: string; id?: string; reason?: string } {
  const result = hello(payload);
  if (result.ok) throw new Error('expected failure');
  return { code: result.error.code, id: result.id, reason: result.error.reason };
}

const URL_V3 = 'https://cloud.example.com/ocs/v2.php/apps/spreed/api/v3/signaling/backend';

describe('hello', () => {
  it('parses a v1 client hello and keeps params by reference', () => {
    const text = json({
      id: 'h1',
      type: 'hello',
      hello: { version: '1.0', features: ['chat-relay'], auth: { url: URL_V3, params: { userid: 'u', ticket: 't', extra: { x: 1 } } } },
    });
    const result = parseClientMessage(text);
    expect(result).toEqual({
      ok: true,
      value: {
        id: 'h1',
        type: 'hello',
        hello: {
          version: '1.0',
          features: ['chat-relay'],
          auth: { type: 'client', url: URL_V3, params: { userid: 'u', ticket: 't', extra: { x: 1 } } },
        },
      },
    });
  });

  it('keeps the original params object (no copy, no stripping)', () => {
    const msg = helloOk({ version: '1.0', auth: { type: 'client', url: URL_V3, params: { a: 1, nested: { b: [1] } } } });
    expect(msg.hello.resumeid).toBeUndefined();
    if (msg.hello.resumeid !== undefined) return;
    expect(msg.hello.auth.params).toEqual({ a: 1, nested: { b: [1] } });
  });

  it('parses a v2 client hello', () => {
    const msg = helloOk({ version: '2.0', auth: { type: 'client', url: URL_V3, params: { token: 'jwt' } } });
    expect(msg.hello).toEqual({ version: '2.0', auth: { type: 'client', url: URL_V3, params: { token: 'jwt' } } });
  });

  it('parses a federation hello (v2 token, v1 ticket)', () => {
    const v2 = helloOk({ version: '2.0', features: ['f'], auth: { type: 'federation', url: URL_V3, params: { token: 'jwt' } } });
    expect(v2.hello).toEqual({ version: '2.0', features: ['f'], auth: { type: 'federation', url: URL_V3, params: { token: 'jwt' } } });
    const v1 = helloOk({ version: '1.0', auth: { type: 'federation', url: URL_V3, params: { ticket: 't' } } });
    expect(v1.hello.auth).toEqual({ type: 'federation', url: URL_V3, params: { ticket: 't' } });
  });

  it('strips explicit default ports from auth.url', () => {
    const a = helloOk({ version: '1.0', auth: { url: 'https://cloud.example.com:443/ocs/x', params: { t: 1 } } });
    const b = helloOk({ version: '1.0', auth: { url: 'http://cloud.example.com:80/x', params: { t: 1 } } });
    const c = helloOk({ version: '1.0', auth: { url: 'https://cloud.example.com:8443/x', params: { t: 1 } } });
    expect(a.hello.auth).toMatchObject({ url: 'https://cloud.example.com/ocs/x' });
    expect(b.hello.auth).toMatchObject({ url: 'http://cloud.example.com/x' });
    expect(c.hello.auth).toMatchObject({ url: 'https://cloud.example.com:8443/x' });
  });

  it('parses an internal hello and normalises the backend', () => {
    const msg = helloOk({
      version: '1.0',
      features: ['internal-incall', 'start-dialout'],
      auth: { type: 'internal', params: { random: 'r'.repeat(32), token: 'abc', backend: 'https://cloud.example.com:443/' } },
    });
    expect(msg.hello).toEqual({
      version: '1.0',
      features: ['internal-incall', 'start-dialout'],
      auth: { type: 'internal', params: { random: 'r'.repeat(32), token: 'abc', backend: 'https://cloud.example.com/' } },
    });
  });

  it('defaults missing internal random/token to empty strings (rejected later as invalid_token)', () => {
    const msg = helloOk({ version: '2.0', auth: { type: 'internal', params: { backend: 'https://nc/' } } });
    expect(msg.hello.auth).toEqual({ type: 'internal', params: { random: '', token: '', backend: 'https://nc/' } });
  });

  it('parses a resume hello without auth', () => {
    expect(helloOk({ version: '1.0', resumeid: 'private-id' }).hello).toEqual({ version: '1.0', resumeid: 'private-id' });
    expect(helloOk({ version: '2.0', resumeid: 'p', auth: { url: 'x' } }).hello).toEqual({
      version: '2.0',
      resumeid: 'p',
      auth: { url: 'x' },
    });
  });

  it('treats an empty resumeid as a new session', () => {
    expect(helloError({ version: '1.0', resumeid: '' })).toMatchObject({ code: 'invalid_format', id: 'h1' });
    const msg = helloOk({ version: '1.0', resumeid: '', auth: { url: URL_V3, params: { a: 1 } } });
    expect('resumeid' in msg.hello).toBe(false);
  });

  it.each([[undefined], ['3.0'], [''], ['1']])('rejects version %p with invalid_hello_version', (version) => {
    expect(helloError({ version, auth: { url: URL_V3, params: { a: 1 } } })).toMatchObject({
      code: 'invalid_hello_version',
      id: 'h1',
    });
  });

  it('checks the version before auth', () => {
    expect(helloError({ version: '3.0' }).code).toBe('invalid_hello_version');
    expect(helloError({ version: '3.0', resumeid: 'x' }).code).toBe('invalid_hello_version');
  });

  it.each([
    ['missing auth', { version: '1.0' }, 'hello.auth'],
    ['missing params', { version: '1.0', auth: { url: URL_V3 } }, 'hello.auth.params'],
    ['null params', { version: '1.0', auth: { url: URL_V3, params: null } }, 'hello.auth.params'],
    ['string params', { version: '1.0', auth: { url: URL_V3, params: 'x' } }, 'hello.auth.params'],
    ['missing url', { version: '1.0', auth: { params: { a: 1 } } }, 'hello.auth.url'],
    ['relative url', { version: '1.0', auth: { url: '/ocs/v2.php', params: { a: 1 } } }, 'hello.auth.url'],
    ['non-http url', { version: '1.0', auth: { url: 'ftp://nc/', params: { a: 1 } } }, 'hello.auth.url'],
    ['v2 without token', { version: '2.0', auth: { url: URL_V3, params: { a: 1 } } }, 'hello.auth.params.token'],
    ['v2 empty token', { version: '2.0', auth: { url: URL_V3, params: { token: '' } } }, 'hello.auth.params.token'],
    ['v2 numeric token', { version: '2.0', auth: { url: URL_V3, params: { token: 1 } } }, 'hello.auth.params.token'],
    ['internal without backend', { version: '1.0', auth: { type: 'internal', params: { random: 'r', token: 't' } } }, 'hello.auth.params.backend'],
    ['internal with bad backend', { version: '1.0', auth: { type: 'internal', params: { backend: 'nope' } } }, 'hello.auth.params.backend'],
    ['internal numeric random', { version: '1.0', auth: { type: 'internal', params: { random: 1, backend: 'https://nc/' } } }, 'hello.auth.params.random'],
    ['federation without url', { version: '2.0', auth: { type: 'federation', params: { token: 'jwt' } } }, 'hello.auth.url'],
    ['federation without token', { version: '2.0', auth: { type: 'federation', url: URL_V3, params: {} } }, 'hello.auth.params.token'],
    ['unknown auth type', { version: '1.0', auth: { type: 'admin', url: URL_V3, params: { a: 1 } } }, 'hello.auth.type'],
  ])('rejects %s with invalid_format', (_name, payload, path) => {
    const error = helloError(payload);
    expect(error.code).toBe('invalid_format');
    expect(error.id).toBe('h1');
    expect(error.reason).toContain(path);
  });

  it.each([
    ['numeric version', { version: 1 }],
    ['numeric resumeid', { version: '1.0', resumeid: 5 }],
    ['features not a list', { version: '1.0', features: 'x' }],
    ['auth not an object', { version: '1.0', auth: [] }],
    ['url not a string', { version: '1.0', auth: { url: 1, params: {} } }],
  ])('rejects %s as undecodable (invalid_format, no id)', (_name, payload) => {
    const error = helloError(payload);
    expect(error.code).toBe('invalid_format');
    expect(error.id).toBeUndefined();
  });

  it('accepts null for optional fields like the Go decoder', () => {
    const msg = helloOk({ version: '1.0', resumeid: null, features: null, auth: { type: null, url: URL_V3, params: { a: 1 } } });
    expect(msg.hello).toEqual({ version: '1.0', auth: { type: 'client', url: URL_V3, params: { a: 1 } } });
  });
});
