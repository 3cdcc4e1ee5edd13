import fc from 'fast-check';

/**
 * fast-check generators of hostile input for the fuzz specs: plausible shapes with wrong,
 * extreme or nonsensical values, so that generated frames get past the first checks and reach
 * the deeper ones.
 */

/** Strings that have broken parsers elsewhere: empty, huge, control and surrogate characters, look-alikes of ids. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string() },
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '__proto__', 'constructor', 'toJSON', '../..', '%00', '1.0', '2.0', 'null', '[]', '{}'),
  fc.string({ minLength: 2_000, maxLength: 6_000 }),
);

/** Numbers JSON can carry that code may not expect. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, -1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, -1e308, 5e-324),
);

/**
 * JSON nested 50 to 5,000 deep (around the limit of 100, and far beyond), as text
 * (JSON.stringify cannot make the deep ones); two of them stay below the 64 KiB frame limit.
 */
export const deepJsonText: fc.Arbitrary<string> = fc
  .tuple(fc.oneof(fc.integer({ min: 50, max: 150 }), fc.integer({ min: 150, max: 5_000 })), fc.boolean())
  .map(([depth, arrays]) => (arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)));

/** Any JSON value, with hostile leaves. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    hostileNumber,
    hostileString,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 5 }),
  ),
})).value;

/**
 * An object shaped like `shape`: mostly with every key and a plausible value (so that frames get
 * past validation), sometimes with keys missing or holding any hostile value.
 */
export function partialRecord(shape: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(shape).map(([key, arb]) => [key, fc.oneof({ weight: 8, arbitrary: arb }, { weight: 1, arbitrary: hostileValue })] as const);
  const model = Object.fromEntries(entries);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record(model) },
    { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) },
  ) as fc.Arbitrary<Record<string, unknown>>;
}

/** A payload that is either shaped like `shape` or anything at all. */
export function payload(shape: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 8, arbitrary: partialRecord(shape) }, { weight: 1, arbitrary: hostileValue });
}

/** Mostly `good`, sometimes `bad`. */
function mostly<T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>): fc.Arbitrary<T | U> {
  return fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: bad });
}

/** A plausible opaque payload: mostly a small object. */
const data: fc.Arbitrary<unknown> = mostly(fc.dictionary(fc.string({ maxLength: 8 }), hostileValue, { maxKeys: 4 }), hostileValue);

/** In-call and session flags: mostly valid (uint32), sometimes anything. */
const flagNumber: fc.Arbitrary<number> = mostly(fc.integer({ min: 0, max: 2 ** 32 - 1 }), hostileNumber);

/** Client → server message types (fact sheet 1.2). */
export const CLIENT_TYPES = ['hello', 'bye', 'room', 'message', 'control', 'internal', 'transient'] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];

export interface ClientFuzzContext {
  /** Hello `auth.url` values that reach the configured backend (others are `invalid_backend`). */
  backendUrls: string[];
  /** Session ids worth addressing (the bystanders), besides random ones. */
  sessionIds: string[];
  /** Room ids known to the fake Nextcloud. */
  roomIds: string[];
}

const recipient = (ctx: ClientFuzzContext) =>
  payload({
    type: mostly(fc.constantFrom('session', 'user', 'room', 'call'), fc.constant('nonsense')),
    sessionid: fc.oneof(fc.constantFrom(...ctx.sessionIds), hostileString),
    userid: hostileString,
  });

/** The payload under `type` for each client message type. */
export function clientPayload(type: ClientType, ctx: ClientFuzzContext): fc.Arbitrary<unknown> {
  switch (type) {
    case 'hello':
      return payload({
        version: mostly(fc.constantFrom('1.0', '2.0'), fc.constantFrom('3.0', '')),
        resumeid: hostileString,
        features: fc.array(hostileString, { maxLength: 4 }),
        auth: payload({
          type: mostly(fc.constantFrom('client', 'internal', 'federation'), fc.constant('nonsense')),
          url: fc.oneof(fc.constantFrom(...ctx.backendUrls), hostileString),
          params: payload({ userid: hostileString, ticket: hostileString, token: hostileString, random: hostileString, backend: hostileString }),
        }),
      });
    case 'bye':
      return mostly(fc.constant({}), hostileValue);
    case 'room':
      return fc.oneof(
        { weight: 4, arbitrary: payload({ roomid: fc.oneof(fc.constantFrom(...ctx.roomIds, ''), hostileString), sessionid: hostileString }) },
        { weight: 1, arbitrary: payload({
        roomid: fc.oneof(fc.constantFrom(...ctx.roomIds, ''), hostileString),
        sessionid: hostileString,
        federation: payload({
          // Only loopback targets, and the fuzz server refuses them all by its allow-list.
          signaling: fc.constantFrom('http://127.0.0.1:9/', 'https://[::1]:9/', 'not a url', ''),
          url: hostileString,
          roomid: hostileString,
          token: hostileString,
        }),
      }) },
      );
    case 'message':
    case 'control':
      return payload({ recipient: recipient(ctx), data });
    case 'transient':
      return payload({
        type: mostly(fc.constantFrom('set', 'remove'), fc.constantFrom('initial', 'nonsense')),
        key: hostileString,
        value: hostileValue,
        ttl: mostly(fc.integer({ min: 0, max: 2 ** 40 }), hostileNumber),
      });
    case 'internal': {
      const sub = (name: string, shape: Record<string, fc.Arbitrary<unknown>>) =>
        fc.record({ type: fc.constant(name), [name]: payload(shape) }, { requiredKeys: ['type'] });
      return fc.oneof(
        sub('addsession', { sessionid: hostileString, roomid: fc.oneof(fc.constantFrom(...ctx.roomIds), hostileString), userid: hostileString, user: hostileValue, flags: flagNumber, incall: flagNumber, options: hostileValue }),
        sub('updatesession', { sessionid: hostileString, roomid: hostileString, flags: flagNumber, incall: flagNumber }),
        sub('removesession', { sessionid: hostileString, roomid: hostileString, userid: hostileString }),
        sub('incall', { incall: flagNumber }),
        sub('dialout', { roomid: hostileString, type: fc.constantFrom('status', 'error', 'nonsense'), error: hostileValue, status: payload({ callid: hostileString, status: hostileString, cause: hostileString, code: hostileNumber, message: hostileString }) }),
        payload({ type: hostileString }),
      );
    }
  }
}

/** One frame as text: a client message of `type` with a hostile payload, or broken framing. */
export function clientFrame(type: ClientType, ctx: ClientFuzzContext): fc.Arbitrary<string> {
  const envelope = fc
    .record(
      {
        id: fc.oneof({ weight: 8, arbitrary: fc.string({ maxLength: 12 }).map((s) => `f-${s}`) }, { weight: 1, arbitrary: hostileValue }),
        type: fc.oneof({ weight: 9, arbitrary: fc.constant<unknown>(type) }, { weight: 1, arbitrary: hostileValue }),
        payload: clientPayload(type, ctx),
      },
      { requiredKeys: ['type', 'payload'] },
    )
    .map(({ id, type: t, payload: p }) => JSON.stringify(id === undefined ? { type: t, [type]: p } : { id, type: t, [type]: p }));
  const deepInside = deepJsonText.map((deep) => `{"id":"deep","type":"${type}","${type}":{"data":${deep},"value":${deep}}}`);
  return fc.oneof(
    { weight: 24, arbitrary: envelope },
    { weight: 1, arbitrary: deepInside },
    { weight: 1, arbitrary: hostileString },
    { weight: 1, arbitrary: hostileValue.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: envelope.map((text) => text.slice(0, Math.max(1, text.length - 3))) },
  );
}

/** Backend API request types (fact sheet 2.3). */
export const BACKEND_TYPES = ['invite', 'disinvite', 'update', 'delete', 'participants', 'incall', 'message', 'switchto', 'dialout', 'transient'] as const;
export type BackendType = (typeof BACKEND_TYPES)[number];

/** A backend API body of `type`, with hostile values; as text, or broken text. */
export function backendBody(type: BackendType): fc.Arbitrary<string> {
  const userList = fc.array(hostileString, { maxLength: 4 });
  const participant = payload({ sessionId: hostileString, userId: hostileString, inCall: flagNumber, lastPing: hostileNumber, participantType: hostileNumber, participantPermissions: hostileNumber, internal: fc.boolean(), actorType: hostileString, actorId: hostileString });
  const users = fc.array(participant, { maxLength: 4 });
  const shapes: Record<BackendType, Record<string, fc.Arbitrary<unknown>>> = {
    invite: { userids: userList, alluserids: userList, properties: hostileValue },
    disinvite: { userids: userList, sessionids: userList, alluserids: userList, properties: hostileValue },
    update: { userids: userList, properties: hostileValue },
    delete: { userids: userList },
    participants: { changed: users, users },
    incall: { incall: flagNumber, all: fc.boolean(), changed: users, users },
    message: { data: hostileValue },
    switchto: { roomid: hostileString, sessions: fc.oneof(userList, fc.dictionary(hostileString, hostileValue, { maxKeys: 3 })) },
    dialout: { number: fc.oneof(fc.constantFrom('+4912345', '+1', ''), hostileString), options: hostileValue },
    transient: { action: fc.constantFrom('set', 'delete'), key: hostileString, value: hostileValue, ttl: hostileNumber },
  };
  const body = fc
    .record({ type: fc.oneof({ weight: 9, arbitrary: fc.constant<unknown>(type) }, { weight: 1, arbitrary: hostileValue }), payload: payload(shapes[type]) })
    .map(({ type: t, payload: p }) => JSON.stringify({ type: t, [type]: p }));
  return fc.oneof(
    { weight: 24, arbitrary: body },
    { weight: 1, arbitrary: deepJsonText.map((deep) => `{"type":"${type}","${type}":${deep}}`) },
    { weight: 1, arbitrary: hostileString },
    { weight: 1, arbitrary: body.map((text) => text.slice(0, Math.max(1, text.length - 2))) },
  );
}
