/**
 * Errors of the Janus client. Everything Janus answers with an error (a core `error` message or a
 * plugin reply carrying `error_code`) is turned into a {@link JanusError} by {@link toJanusError};
 * callers branch on the class or on `code`, never on message text.
 */

/** Janus core error codes (janus/apierror.h), as upstream's `JANUS_ERROR_*` constants. */
export const JanusErrorCode = {
  Unauthorized: 403,
  UnauthorizedPlugin: 405,
  TransportSpecific: 450,
  MissingRequest: 452,
  UnknownRequest: 453,
  InvalidJson: 454,
  InvalidJsonObject: 455,
  MissingMandatoryElement: 456,
  InvalidRequestPath: 457,
  SessionNotFound: 458,
  HandleNotFound: 459,
  PluginNotFound: 460,
  PluginAttach: 461,
  PluginMessage: 462,
  PluginDetach: 463,
  JsepUnknownType: 464,
  JsepInvalidSdp: 465,
  TrickleInvalidStream: 466,
  InvalidElementType: 467,
  SessionConflict: 468,
  UnexpectedAnswer: 469,
  TokenNotFound: 470,
  Unknown: 490,
} as const;

/** VideoRoom plugin error codes (plugins/janus_videoroom.c), upstream's `JANUS_VIDEOROOM_ERROR_*`. */
export const VideoRoomErrorCode = {
  UnknownError: 499,
  NoMessage: 421,
  InvalidJson: 422,
  InvalidRequest: 423,
  JoinFirst: 424,
  AlreadyJoined: 425,
  NoSuchRoom: 426,
  RoomExists: 427,
  NoSuchFeed: 428,
  MissingElement: 429,
  InvalidElement: 430,
  InvalidSdpType: 431,
  PublishersFull: 432,
  Unauthorized: 433,
  AlreadyPublished: 434,
  NotPublished: 435,
  IdExists: 436,
  InvalidSdp: 437,
} as const;

/**
 * Codes where repeating the operation (after re-attaching, or once the publisher exists) can
 * succeed: upstream re-joins on 425 and waits for the publisher on 426/428; 458/459 mean the
 * session or handle went away and is re-created by its owner.
 */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  VideoRoomErrorCode.AlreadyJoined,
  VideoRoomErrorCode.NoSuchRoom,
  VideoRoomErrorCode.NoSuchFeed,
  JanusErrorCode.SessionNotFound,
  JanusErrorCode.HandleNotFound,
]);

/** An error reply from Janus or from one of its plugins. */
export class JanusError extends Error {
  override readonly name = 'JanusError';

  /**
   * @param code Janus core (4xx/490) or plugin error code.
   * @param reason Janus's own text.
   * @param request The Janus verb or plugin request that failed (`attach`, `join`, …).
   */
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly request?: string,
    options?: ErrorOptions,
  ) {
    super(`janus error ${code}${request ? ` on ${request}` : ''}: ${reason}`, options);
  }

  /** True for codes where a retry (after re-attach or waiting for the publisher) may succeed. */
  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }
}

/** A request got no final answer within its deadline. */
export class JanusTimeoutError extends Error {
  override readonly name = 'JanusTimeoutError';

  constructor(
    readonly request: string,
    readonly timeoutMs: number,
  ) {
    super(`janus request ${request} timed out after ${timeoutMs} ms`);
  }

  /** Timeouts are transient by nature. */
  get retryable(): boolean {
    return true;
  }
}

/**
 * The object (connection, session, handle, publisher, subscriber) is closed or its parent went
 * away; pending requests fail with this, as do new ones.
 */
export class ClosedError extends Error {
  override readonly name = 'ClosedError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }

  /** The owner re-creates the object after a reconnect; the operation itself is not repeated. */
  get retryable(): boolean {
    return false;
  }
}

/** Janus's wire shape of a core error (`{"janus":"error","error":{code,reason}}`). */
export interface RawJanusError {
  code?: unknown;
  reason?: unknown;
}

/**
 * The one boundary mapping from Janus replies to errors: a core `error` body, or plugin data
 * with `error_code`/`error`. Returns undefined when `value` carries no error.
 */
export function toJanusError(value: unknown, request?: string): JanusError | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v['error_code'] === 'number') {
    return new JanusError(v['error_code'], typeof v['error'] === 'string' ? v['error'] : 'plugin error', request);
  }
  if (typeof v['code'] === 'number') {
    return new JanusError(v['code'], typeof v['reason'] === 'string' ? v['reason'] : 'error', request);
  }
  return undefined;
}
