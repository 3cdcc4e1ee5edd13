import { buildOcsResponse, isThrottledOcsError, unwrapOcs } from './ocs';
import { parseCapabilities } from './capabilities';

describe('unwrapOcs (3.1)', () => {
  it('returns data', () => {
    const data = { type: 'auth', auth: { version: '1.0', userid: 'u' } };
    const result = unwrapOcs({ ocs: { meta: { status: 'ok', statuscode: 200, message: 'OK' }, data } });
    expect(result).toEqual({ ok: true, value: data });
    if (result.ok) expect(result.value).toBe(data);
  });

  it.each([
    [{ ocs: { meta: { status: 'ok', statuscode: 200, message: 'OK' } } }],
    [{ ocs: { meta: { statuscode: 200 }, data: null } }],
    [{ ocs: { meta: { statuscode: 200 }, data: '' } }],
    [{}],
    [{ type: 'auth' }],
    ['text'],
  ])('rejects %j as incomplete', (body) => {
    const result = unwrapOcs(body);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.toPayload()).toEqual({ code: 'internal_error', message: 'incomplete OCS response' });
      expect(isThrottledOcsError(result.error)).toBe(false);
    }
  });

  it('reports 429 as throttled', () => {
    const result = unwrapOcs({ ocs: { meta: { status: 'failure', statuscode: 429, message: '' }, data: { x: 1 } } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.toPayload()).toEqual({ code: 'internal_error', message: 'throttled OCS response' });
      expect(isThrottledOcsError(result.error)).toBe(true);
    }
  });

  it('builds OCS bodies that unwrap again', () => {
    expect(buildOcsResponse({ a: 1 })).toEqual({ ocs: { meta: { status: 'ok', statuscode: 200, message: 'OK' }, data: { a: 1 } } });
    expect(unwrapOcs(JSON.parse(JSON.stringify(buildOcsResponse({ a: 1 }))))).toEqual({ ok: true, value: { a: 1 } });
    expect(buildOcsResponse({}, 429).ocs.meta).toMatchObject({ status: 'failure', statuscode: 429 });
  });
});

describe('parseCapabilities (3.4)', () => {
  const body = buildOcsResponse({
    version: { major: 28, minor: 0, micro: 4, string: '28.0.4', edition: '', extendedSupport: false },
    capabilities: {
      spreed: {
        features: ['audio', 'signaling-v3', 42],
        config: { signaling: { 'hello-v2-token-key': '-----BEGIN PUBLIC KEY-----\n...', 'session-ping-limit': 200 }, chat: { 'max-length': 32000 } },
      },
    },
  });

  it('reads features, config, token key and ping limit', () => {
    const caps = parseCapabilities(body);
    expect(caps.features).toEqual(['audio', 'signaling-v3']);
    expect(caps.helloV2TokenKey).toBe('-----BEGIN PUBLIC KEY-----\n...');
    expect(caps.sessionPingLimit).toBe(200);
    expect(caps.config).toHaveProperty('chat');
  });

  it('accepts already unwrapped data', () => {
    expect(parseCapabilities(body.ocs.data).features).toEqual(['audio', 'signaling-v3']);
  });

  it('is tolerant of missing pieces', () => {
    expect(parseCapabilities(undefined)).toEqual({ features: [], config: {} });
    expect(parseCapabilities(buildOcsResponse({ capabilities: {} }))).toEqual({ features: [], config: {} });
    expect(parseCapabilities(buildOcsResponse({ capabilities: { spreed: { features: 'x', config: { signaling: { 'session-ping-limit': '5' } } } } }))).toEqual({
      features: [],
      config: { signaling: { 'session-ping-limit': '5' } },
    });
  });
});
