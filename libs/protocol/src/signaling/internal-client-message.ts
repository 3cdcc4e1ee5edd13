import { z } from 'zod';
import { invalidFormat } from '../errors';
import { optionalField } from '../optional-field';
import { parseWithSchema } from '../parse-with-schema';
import type { ErrorPayload } from '../errors';
import type { ParseResult } from '../parse-result';

const UINT32_MAX = 0xffff_ffff;

/** `options` of `addsession`: makes the server join the virtual session via a NC `room` request. */
export interface AddSessionOptions {
  actorId?: string;
  actorType?: string;
}

/** `addsession` (fact sheet 1.12.1): create a virtual session. */
export interface AddSessionPayload {
  /** Client-chosen virtual session id. */
  sessionid: string;
  roomid: string;
  userid?: string;
  /** Opaque user data (phone sessions: `{type:"phone",callid,number}`). */
  user?: unknown;
  /** Virtual session flags (uint32). Upstream treats 0 as absent. */
  flags?: number;
  incall?: number;
  options?: AddSessionOptions;
}

/** `updatesession` (1.12.2). */
export interface UpdateSessionPayload {
  sessionid: string;
  roomid: string;
  flags?: number;
  incall?: number;
}

/** `removesession` (1.12.3). */
export interface RemoveSessionPayload {
  sessionid: string;
  roomid: string;
  userid?: string;
}

/** `incall` (1.12.4): the internal session's own flags; `0` when absent. */
export interface InCallPayload {
  incall: number;
}

/** Dialout call states reported by the internal client. */
export const DialoutStatus = {
  Accepted: 'accepted',
  Ringing: 'ringing',
  Connected: 'connected',
  Rejected: 'rejected',
  Cleared: 'cleared',
} as const;

/** Any value of {@link DialoutStatus} (other strings are passed through). */
export type DialoutStatusId = (typeof DialoutStatus)[keyof typeof DialoutStatus];

/** `status` object of a dialout reply / status update. */
export interface DialoutStatusPayload {
  callid: string;
  status: DialoutStatusId | (string & {});
  /** Set for `cleared`/`rejected`. */
  cause?: string;
  code?: number;
  message?: string;
}

/**
 * `dialout` from an internal client (1.12.6): `status` and `error` are the reply types the
 * server understands; other types are broadcast to the room as `dialout` messages.
 */
export interface DialoutClientPayload {
  type: 'status' | 'error' | (string & {});
  roomid?: string;
  /** Required for type `error`. */
  error?: ErrorPayload;
  /** Required for type `status`. */
  status?: DialoutStatusPayload;
}

/** The `internal` payload, discriminated by `type`. */
export type InternalClientPayload =
  | { type: 'addsession'; addsession: AddSessionPayload }
  | { type: 'updatesession'; updatesession: UpdateSessionPayload }
  | { type: 'removesession'; removesession: RemoveSessionPayload }
  | { type: 'incall'; incall: InCallPayload }
  | { type: 'dialout'; dialout: DialoutClientPayload };

/** Sub-types of `internal` that the server processes. */
export type InternalClientPayloadType = InternalClientPayload['type'];

/** `{"type":"internal","internal":{...}}` (internal clients only). */
export interface InternalClientMessage {
  id?: string;
  type: 'internal';
  internal: InternalClientPayload;
}

const Uint32 = z.int().min(0).max(UINT32_MAX);
const sessionAndRoom = {
  sessionid: optionalField(z.string()),
  roomid: optionalField(z.string()),
};

const AddSessionShape = z.object({
  ...sessionAndRoom,
  userid: optionalField(z.string()),
  user: z.unknown().optional(),
  flags: optionalField(Uint32),
  incall: optionalField(z.int()),
  options: optionalField(
    z.object({ actorId: optionalField(z.string()), actorType: optionalField(z.string()) }),
  ),
});
const UpdateSessionShape = z.object({
  ...sessionAndRoom,
  flags: optionalField(Uint32),
  incall: optionalField(z.int()),
});
const RemoveSessionShape = z.object({ ...sessionAndRoom, userid: optionalField(z.string()) });
const InCallShape = z.object({ incall: optionalField(z.int()) });

/** Wire error object as decoded leniently (missing strings become `""`, like Go). */
export const ErrorPayloadShape = z.object({
  code: optionalField(z.string()).transform((v) => v ?? ''),
  message: optionalField(z.string()).transform((v) => v ?? ''),
  details: z.unknown().optional(),
});

const DialoutStatusShape = z.object({
  callid: optionalField(z.string()).transform((v) => v ?? ''),
  status: optionalField(z.string()).transform((v) => v ?? ''),
  cause: optionalField(z.string()),
  code: optionalField(z.int()),
  message: optionalField(z.string()),
});
const DialoutShape = z.object({
  type: optionalField(z.string()),
  roomid: optionalField(z.string()),
  error: optionalField(ErrorPayloadShape),
  status: optionalField(DialoutStatusShape),
});

const InternalShape = z.object({
  type: optionalField(z.string()),
  addsession: optionalField(AddSessionShape),
  updatesession: optionalField(UpdateSessionShape),
  removesession: optionalField(RemoveSessionShape),
  incall: optionalField(InCallShape),
  dialout: optionalField(DialoutShape),
});

/** Result of {@link parseInternalPayload}: `unknown: true` for a sub-type the server ignores. */
export type InternalPayloadParse = { payload: InternalClientPayload } | { unknown: true; type: string };

/** Removes keys whose value is `undefined` so the parsed object has only what was sent. */
function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}

/** Validates an `internal` payload (fact sheet 1.12). */
export function parseInternalPayload(raw: unknown, id?: string): ParseResult<InternalPayloadParse> {
  const shape = parseWithSchema(InternalShape, raw, 'internal');
  if (!shape.ok) return shape;
  const msg = shape.value;
  const fail = (reason: string): ParseResult<InternalPayloadParse> => {
    const error = invalidFormat(reason);
    return id === undefined ? { ok: false, error } : { ok: false, error, id };
  };
  const requireSessionAndRoom = (
    key: string,
    p: { sessionid?: string | undefined; roomid?: string | undefined },
  ): string | undefined => {
    if (!p.sessionid) return `internal.${key}.sessionid: required`;
    if (!p.roomid) return `internal.${key}.roomid: required`;
    return undefined;
  };

  switch (msg.type) {
    case undefined:
    case '':
      return fail('internal.type: required');
    case 'addsession': {
      const p = msg.addsession;
      if (p === undefined) return fail('internal.addsession: required');
      const missing = requireSessionAndRoom('addsession', p);
      if (missing !== undefined) return fail(missing);
      const addsession = compact({ ...p, sessionid: p.sessionid as string, roomid: p.roomid as string });
      if (addsession.user === null) delete addsession.user;
      if (addsession.options !== undefined) compact(addsession.options);
      return { ok: true, value: { payload: { type: 'addsession', addsession } } };
    }
    case 'updatesession': {
      const p = msg.updatesession;
      if (p === undefined) return fail('internal.updatesession: required');
      const missing = requireSessionAndRoom('updatesession', p);
      if (missing !== undefined) return fail(missing);
      const updatesession = compact({ ...p, sessionid: p.sessionid as string, roomid: p.roomid as string });
      return { ok: true, value: { payload: { type: 'updatesession', updatesession } } };
    }
    case 'removesession': {
      const p = msg.removesession;
      if (p === undefined) return fail('internal.removesession: required');
      const missing = requireSessionAndRoom('removesession', p);
      if (missing !== undefined) return fail(missing);
      const removesession = compact({ ...p, sessionid: p.sessionid as string, roomid: p.roomid as string });
      return { ok: true, value: { payload: { type: 'removesession', removesession } } };
    }
    case 'incall': {
      const p = msg.incall;
      if (p === undefined) return fail('internal.incall: required');
      return { ok: true, value: { payload: { type: 'incall', incall: { incall: p.incall ?? 0 } } } };
    }
    case 'dialout': {
      const p = msg.dialout;
      if (p === undefined) return fail('internal.dialout: required');
      if (!p.type) return fail('internal.dialout.type: required');
      if (p.type === 'error' && p.error === undefined) return fail('internal.dialout.error: required for type error');
      if (p.type === 'status' && p.status === undefined) return fail('internal.dialout.status: required for type status');
      const dialout: DialoutClientPayload = { type: p.type };
      if (p.roomid) dialout.roomid = p.roomid;
      if (p.error !== undefined) dialout.error = compact(p.error);
      if (p.status !== undefined) dialout.status = compact(p.status);
      return { ok: true, value: { payload: { type: 'dialout', dialout } } };
    }
    default:
      // Upstream ignores (logs) unknown internal message types.
      return { ok: true, value: { unknown: true, type: msg.type } };
  }
}
