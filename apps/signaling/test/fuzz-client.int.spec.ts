import fc from 'fast-check';
import { parseClientMessage } from '@talk-signaling/protocol';
import { fuzzParameters, fuzzTimeout, TestClient } from '@talk-signaling/testing';
import { CLIENT_TYPES, clientFrame, type ClientFuzzContext, type ClientType } from './fuzz-arbitraries';
import { INTERNAL_SECRET, startTestSetup, type TestSetup } from './test-server';

/** Runs per property in `npm test`; `FUZZ_RUNS` overrides (README, "Fuzzing"). */
const RUNS = 40;
jest.setTimeout(fuzzTimeout(RUNS * CLIENT_TYPES.length * 2, 50));

/** The error frame the server must answer a frame with that the parser refuses. */
function expectedParseError(text: string): unknown | undefined {
  const parsed = parseClientMessage(text);
  if (parsed.ok) return undefined;
  const error = JSON.parse(JSON.stringify(parsed.error.toPayload()));
  return parsed.id === undefined ? { type: 'error', error } : { id: parsed.id, type: 'error', error };
}

/**
 * Property-based fuzzing of the client protocol (issue 10, item 4) against the real server over
 * WebSockets: frames of every client message type with hostile payloads, broken framing and
 * deep nesting. Every frame the parser refuses is answered with exactly that error; no frame
 * is answered `internal_error` or drops the connection (except a real `bye`); the server never
 * stops, and two bystanders in another room keep talking throughout.
 */
describe('fuzzing the client protocol', () => {
  let setup: TestSetup;
  let ctx: ClientFuzzContext;
  let bystanders: { a: { client: TestClient; sessionid: string }; b: { client: TestClient; sessionid: string } };
  const open: TestClient[] = [];
  let probes = 0;

  beforeAll(async () => {
    setup = await startTestSetup({
      roomEventBatchMs: 5,
      throttleSleep: async () => undefined,
      // Federated joins in the frames name loopback targets only; none of them is allowed.
      extraConfig: '[federation]\nallowedhosts = 127.0.0.1:1',
    });
    for (const room of ['fuzz-room', 'bystanders']) setup.nextcloud.setRoom(room, {});
    const a = await user('bystander-a', 'bystanders');
    const b = await user('bystander-b', 'bystanders');
    bystanders = { a, b };
    ctx = {
      backendUrls: [setup.nextcloud.backendUrl, setup.nextcloud.url],
      sessionIds: [a.sessionid, b.sessionid],
      roomIds: ['fuzz-room', 'bystanders', 'unknown-room'],
    };
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await setup.stop();
  });

  async function user(userid: string, roomid: string) {
    const client = await TestClient.connect(setup.wsUrl);
    open.push(client);
    const reply = await client.hello({ url: setup.nextcloud.backendUrl, params: setup.nextcloud.addUser(userid) });
    expect(reply.type).toBe('hello');
    expect((await client.joinRoom(roomid, `nc-${userid}`)).type).toBe('room');
    return { client, sessionid: reply.hello.sessionid as string };
  }

  async function internalClient() {
    const client = await TestClient.connect(setup.wsUrl);
    open.push(client);
    expect((await client.helloInternal({ backend: setup.nextcloud.url, secret: INTERNAL_SECRET })).type).toBe('hello');
    expect((await client.joinRoom('fuzz-room')).type).toBe('room');
    return client;
  }

  /** The bystanders still reach each other. */
  async function bystandersServed(): Promise<void> {
    const { a, b } = bystanders;
    const marker = `marker-${probes++}`;
    a.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: b.sessionid }, data: { marker } } });
    await b.client.waitForMessage((m) => m.type === 'message' && m.message.data?.marker === marker);
    b.client.send({ type: 'message', message: { recipient: { type: 'session', sessionid: a.sessionid }, data: { marker } } });
    await a.client.waitForMessage((m) => m.type === 'message' && m.message.data?.marker === marker);
    expect(setup.server.sessions.byPublicId(a.sessionid)?.connection).toBeDefined();
  }

  it('answers every frame before hello: the parser error, hello_expected, or one hello answer', async () => {
    const anyFrame = fc.oneof(...CLIENT_TYPES.map((type) => clientFrame(type, ctx)));
    await fc.assert(
      fc.asyncProperty(anyFrame, async (text) => {
        const client = await TestClient.connect(setup.wsUrl);
        try {
          await client.next('welcome');
          client.sendRaw(text);
          const answer = await client.next();
          const parseError = expectedParseError(text);
          const parsed = parseClientMessage(text);
          if (parseError !== undefined) {
            expect(answer).toEqual(parseError);
          } else if (parsed.ok && (parsed.value.type !== 'hello' || 'unknown' in parsed.value)) {
            const id = parsed.value.id;
            expect(answer).toEqual({ ...(id === undefined ? {} : { id }), type: 'error', error: { code: 'hello_expected', message: 'Expected Hello request.' } });
          } else {
            expect(['hello', 'error']).toContain(answer.type);
            if (answer.type === 'error') expect(answer.error.code).not.toBe('internal_error');
          }
          expect(client.isClosed).toBe(false);
        } finally {
          client.close();
        }
      }),
      fuzzParameters(RUNS * 2),
    );
    await bystandersServed();
  });

  it.each(CLIENT_TYPES.filter((t): t is Exclude<ClientType, 'hello'> => t !== 'hello'))(
    'answers every hostile %s frame of an authenticated client and goes on',
    async (type) => {
      let fuzzer: TestClient | undefined;
      const session = async (): Promise<TestClient> => {
        if (fuzzer === undefined || fuzzer.isClosed) fuzzer = type === 'internal' ? await internalClient() : (await user(`fuzzer-${probes++}`, 'fuzz-room')).client;
        return fuzzer;
      };
      await fc.assert(
        fc.asyncProperty(clientFrame(type, ctx), async (text) => {
          const client = await session();
          const seen = client.messages.length;
          client.sendRaw(text);
          // Room requests run in order, so this answer comes after anything the frame caused
          // that waits for Nextcloud.
          const probe = `probe-${probes++}`;
          client.send({ id: probe, type: 'room', room: { roomid: 'fuzz-room' } });
          let closed = false;
          await client.waitForMessage((m) => m.id === probe).catch(() => {
            closed = true;
          });
          const answers = client.messages.slice(seen);
          const parseError = expectedParseError(text);
          if (parseError !== undefined) expect(answers).toContainEqual(parseError);
          expect(answers.filter((m) => m.type === 'error' && m.error?.code === 'internal_error')).toEqual([]);
          if (closed) {
            // Only a real bye ends the connection.
            const parsed = parseClientMessage(text);
            expect(parsed.ok && parsed.value.type).toBe('bye');
            expect((await client.closed()).code).toBe(1005);
          }
        }),
        fuzzParameters(RUNS),
      );
      await bystandersServed();
    },
  );

  it('closes a connection that sends a frame over 64 KiB (1009) and nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 64 * 1024 + 1, max: 256 * 1024 }), async (size) => {
        const client = await TestClient.connect(setup.wsUrl);
        await client.next('welcome');
        client.sendRaw(`{"type":"message","message":{"data":"${'x'.repeat(size)}"}}`);
        expect((await client.closed()).code).toBe(1009);
      }),
      fuzzParameters(5),
    );
    await bystandersServed();
  });
});
