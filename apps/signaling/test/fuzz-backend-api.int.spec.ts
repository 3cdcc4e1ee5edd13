import fc from 'fast-check';
import { parseBackendRoomRequest, parseJsonLimited } from '@talk-signaling/protocol';
import { fuzzParameters, fuzzTimeout, TestClient } from '@talk-signaling/testing';
import { BACKEND_TYPES, backendBody } from './fuzz-arbitraries';
import { startTestSetup, type TestSetup } from './test-server';

/** Runs per request type in `npm test`; `FUZZ_RUNS` overrides (README, "Fuzzing"). */
const RUNS = 25;
jest.setTimeout(fuzzTimeout(RUNS * BACKEND_TYPES.length, 50));

/** What the backend API must answer `body` with: an exact 400 text, or any non-error status. */
function expectedAnswer(body: string): { status: 400; text: string } | 'processed' {
  const json = parseJsonLimited(body);
  if (!json.ok) return { status: 400, text: 'Could not read body\n' };
  const parsed = parseBackendRoomRequest(json.value);
  if (!parsed.ok) {
    const text = parsed.error.code === 'unsupported_request_type' ? parsed.error.message : 'Could not read body';
    return { status: 400, text: `${text}\n` };
  }
  if (parsed.value.type === 'transient') return { status: 400, text: 'Unsupported request type: transient\n' };
  return 'processed';
}

/**
 * Property-based fuzzing of the backend API (issue 10, item 4): every request type with hostile
 * payloads, broken and deep JSON, each correctly checksummed so it reaches the parser, sent
 * over HTTP to the real server. Refused bodies get exactly the 400 upstream sends; accepted
 * ones are processed without a server error; two bystanders in their room are served throughout.
 */
describe('fuzzing the backend API', () => {
  let setup: TestSetup;
  let a: { client: TestClient; sessionid: string };
  let b: { client: TestClient; sessionid: string };
  let markers = 0;

  beforeAll(async () => {
    setup = await startTestSetup({ roomEventBatchMs: 5 });
    setup.nextcloud.setRoom('bystanders', {});
    a = await user('api-bystander-a');
    b = await user('api-bystander-b');
  });
  afterAll(async () => {
    a.client.close();
    b.client.close();
    await setup.stop();
  });

  async function user(userid: string) {
    const client = await TestClient.connect(setup.wsUrl);
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
    expect((await client.joinRoom('bystanders', `nc-${userid}`)).type).toBe('room');
    return { client, sessionid: reply.hello.sessionid as string };
  }

  /**
   * Room ids of the fuzzed requests: a fixed one, or anything but the bystanders' room (and the
   * dot segments, which the HTTP client itself removes from the path).
   */
  const roomId = fc.oneof(fc.constant('fuzz-api'), fc.string({ minLength: 1, maxLength: 40 }).filter((r) => !['bystanders', '.', '..'].includes(r)));

  it.each(BACKEND_TYPES)('answers every hostile %s request as upstream and goes on', async (type) => {
    await fc.assert(
      fc.asyncProperty(roomId, backendBody(type), async (room, body) => {
        const res = await setup.nextcloud.backendRequest(setup.baseUrl, room, body);
        const expected = expectedAnswer(body);
        if (expected === 'processed') {
          expect(res.status).toBeLessThan(500);
          if (type !== 'dialout') expect(res.status).toBe(200);
        } else {
          expect({ status: res.status, text: res.body }).toEqual({ status: expected.status, text: expected.text });
        }
      }),
      fuzzParameters(RUNS),
    );
    const marker = `api-${markers++}`;
    a.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: b.sessionid }, data: { marker } } });
    await b.client.waitForMessage((m) => m.type === 'message' && m.message.data?.marker === marker);
    const res = await setup.nextcloud.backendRequest(setup.baseUrl, 'bystanders', { type: 'message', message: { data: { marker } } });
    expect(res.status).toBe(200);
    await a.client.waitForMessage((m) => m.type === 'event' && m.event.message?.data?.marker === marker);
  });
});
