import fc from 'fast-check';
import { fuzzParameters } from '@talk-signaling/testing';
import { MAX_JSON_DEPTH } from '../json-limits';
import { parseProxyClientMessage } from './proxy-client-message';
import { parseProxyServerMessage } from './proxy-server-message';

/**
 * Property-based fuzzing of the proxy protocol parsers (issue 10, item 4), both directions:
 * frames shaped like every message type with hostile values, deep nesting and broken text.
 * The parsers never throw; failures are `invalid_format` (signaling → proxy) or a reason
 * (proxy → signaling), the request id is echoed when there was a usable one, and whatever
 * they accept serialises and parses again to the same value.
 */
const str = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 20 }) }, fc.constantFrom('', '__proto__', 'toJSON', '\u0000', '\ud800'), fc.string({ minLength: 1_000, maxLength: 3_000 }));
const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 2 ** 53, 1e308));
const anything: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 });
const field = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: arb }, { weight: 1, arbitrary: anything });
const shaped = (shape: Record<string, fc.Arbitrary<unknown>>) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record(Object.fromEntries(Object.entries(shape).map(([k, a]) => [k, field(a)]))) },
    { weight: 1, arbitrary: fc.record(Object.fromEntries(Object.entries(shape).map(([k, a]) => [k, field(a)])), { requiredKeys: [] }) },
    { weight: 1, arbitrary: anything },
  );

const commandTypes = fc.constantFrom('create-publisher', 'create-subscriber', 'delete-publisher', 'delete-subscriber', 'publish-remote', 'get-publisher-streams', 'nonsense');
const clientPayloads: Record<string, fc.Arbitrary<unknown>> = {
  hello: shaped({ version: fc.constantFrom('1.0', '2.0'), resumeid: str, features: fc.array(str, { maxLength: 3 }), token: str }),
  bye: shaped({}),
  command: shaped({
    type: commandTypes, sid: str, streamType: fc.constantFrom('video', 'screen', ''), publisherId: str, clientId: str, bitrate: num, mediatypes: num,
    publisherSettings: shaped({ bitrate: num, mediatypes: num, audiocodec: str, videocodec: str }), remoteUrl: str, remoteToken: str, hostname: str, port: num, rtcpPort: num,
  }),
  payload: shaped({ type: fc.constantFrom('offer', 'answer', 'candidate', 'endOfCandidates', 'requestoffer', ''), clientId: str, sid: str, payload: fc.oneof(fc.dictionary(str, anything, { maxKeys: 3 }), anything) }),
};
const serverPayloads: Record<string, fc.Arbitrary<unknown>> = {
  hello: shaped({ version: fc.constantFrom('1.0', '2.0'), sessionid: str, server: shaped({ version: str, features: fc.array(str, { maxLength: 3 }), country: str }) }),
  bye: shaped({ reason: str }),
  command: shaped({ id: str, sid: str, bitrate: num, streams: fc.array(shaped({ type: str, mid: str, mindex: num, codec: str }), { maxLength: 2 }) }),
  payload: shaped({ type: str, clientId: str, payload: fc.oneof(fc.dictionary(str, anything, { maxKeys: 3 }), fc.constant(null), anything) }),
  event: shaped({ type: fc.constantFrom('update-load', 'backend-connected', 'shutdown-scheduled', 'publisher-closed', 'nonsense'), clientId: str, load: num, sid: str, bandwidth: shaped({ incoming: num, outgoing: num }) }),
  error: shaped({ code: str, message: str, details: anything }),
};

const deep = fc.integer({ min: MAX_JSON_DEPTH + 1, max: 20_000 }).map((d) => '['.repeat(d) + ']'.repeat(d));

function frames(payloads: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> {
  const types = Object.keys(payloads);
  const envelope = fc
    .constantFrom(...types)
    .chain((type) => fc.record({ id: field(str), type: fc.oneof({ weight: 9, arbitrary: fc.constant<unknown>(type) }, { weight: 1, arbitrary: anything }), body: payloads[type]! }, { requiredKeys: ['type', 'body'] }).map((r) => ({ ...r, key: type })))
    .map(({ id, type, body, key }) => JSON.stringify(id === undefined ? { type, [key]: body } : { id, type, [key]: body }));
  return fc.oneof(
    { weight: 12, arbitrary: envelope },
    { weight: 1, arbitrary: deep.map((d) => `{"id":"x","type":"payload","payload":{"type":"offer","clientId":"c","payload":{"sdp":${d}}}}`) },
    { weight: 1, arbitrary: fc.string() },
    { weight: 1, arbitrary: anything.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: envelope.map((t) => t.slice(0, -2)) },
  );
}

describe('proxy protocol parsers under fuzzing', () => {
  it('signaling → proxy: never throws, invalid_format with the id, accepted messages round-trip', () => {
    fc.assert(
      fc.property(frames(clientPayloads), (text) => {
        const result = parseProxyClientMessage(text);
        if (!result.ok) {
          expect(result.error.code).toBe('invalid_format');
          if (result.id !== undefined) expect(typeof result.id === 'string' && result.id !== '').toBe(true);
          return;
        }
        expect(['hello', 'bye', 'command', 'payload']).toContain(result.value.type);
        expect(parseProxyClientMessage(JSON.stringify(result.value))).toEqual(result);
      }),
      fuzzParameters(500),
    );
  });

  it('proxy → signaling: never throws, a reason for what it refuses, accepted messages round-trip', () => {
    fc.assert(
      fc.property(frames(serverPayloads), (text) => {
        const result = parseProxyServerMessage(text);
        if (!result.ok) {
          expect(typeof result.reason).toBe('string');
          return;
        }
        expect(['hello', 'bye', 'command', 'payload', 'event', 'error']).toContain(result.value.type);
        expect(parseProxyServerMessage(JSON.stringify(result.value))).toEqual(result);
      }),
      fuzzParameters(500),
    );
  });

  it('refuses nesting deeper than the limit in either direction', () => {
    fc.assert(
      fc.property(deep, (d) => {
        expect(parseProxyClientMessage(`{"type":"bye","bye":{"x":${d}}}`)).toMatchObject({ ok: false, error: { code: 'invalid_format' } });
        expect(parseProxyServerMessage(`{"type":"bye","bye":{"x":${d}}}`)).toMatchObject({ ok: false, reason: expect.stringContaining('deeper') });
      }),
      fuzzParameters(20),
    );
  });
});
