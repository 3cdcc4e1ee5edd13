/**
 * Client-visible error codes and their upstream message texts (fact sheet 1.14, section 9,
 * and the backend dialout codes of 2.3.10). Codes and texts are sent verbatim on the wire.
 */
export const ERROR_MESSAGES = {
  invalid_format: 'Invalid data format.',
  hello_expected: 'Expected Hello request.',
  invalid_hello_version: 'The hello version is not supported.',
  invalid_client_type: 'The client type is not supported.',
  invalid_backend: 'The backend URL is not supported.',
  auth_failed: 'The user could not be authenticated.',
  invalid_token: 'The passed token is invalid.',
  token_not_valid_yet: 'The token is not valid yet.',
  token_expired: 'The token is expired.',
  too_many_requests: 'Too many requests.',
  no_such_session: 'The session to resume does not exist.',
  session_limit_exceeded: 'Too many sessions connected for this backend.',
  room_join_failed: 'Could not join the room.',
  already_joined: 'Already joined this room.',
  not_in_room: 'No room joined yet.',
  // Upstream uses several texts for not_allowed; this is the publish one. Use
  // `new SignalingError('not_allowed', NOT_ALLOWED_MESSAGES.x)` for the others.
  not_allowed: 'Not allowed to publish.',
  client_not_found: 'No MCU client found to send message to.',
  processing_failed: 'Processing of the message failed, please check server logs.',
  no_sdp: 'Payload does not contain a SDP.',
  invalid_sdp: 'Payload does not contain a valid SDP.',
  // Added upstream after v1.3.0 (candidate validation).
  no_candidate: 'Payload does not contain a candidate.',
  invalid_candidate: 'Payload does not contain a valid candidate.',
  ignored: 'Unsupported message type.',
  add_failed: 'Could not create virtual session.',
  remove_failed: 'Could not remove virtual session from backend.',
  // Upstream puts the Go error text here; this is only a generic fallback.
  internal_error: 'Internal server error.',
  duplicate_client: 'Client already registered.',
  // Section 9 (federation, since upstream 2.0.0).
  federation_unsupported: 'The target server does not support federation.',
  federation_error: 'Failed to create federation client.',
  // Backend API dialout (2.3.10).
  number_missing: 'No number provided',
  invalid_number: 'Expected E.164 number.',
  invalid_roomid: 'The room id must be numeric.',
  no_client_available: 'No available client found to trigger dialout.',
  error_notify: 'Could not notify about new dialout.',
  timeout: 'Timeout while waiting for dialout to start.',
  unsupported_status: 'Unsupported dialout status received.',
  unsupported_type: 'Unsupported dialout type received.',
} as const satisfies Record<string, string>;

/** Every error code this server itself produces. Errors relayed from Nextcloud may carry others. */
export type KnownErrorCode = keyof typeof ERROR_MESSAGES;

/** The alternative upstream texts for codes that have more than one. */
export const NOT_ALLOWED_MESSAGES = {
  publish: 'Not allowed to publish.',
  requestOffer: 'Not allowed to request offer.',
  sendOffer: 'Not allowed to send offer',
  sendCandidate: 'Not allowed to send candidate.',
  transientData: 'Not allowed to update transient data.',
} as const;

/** Alternative upstream texts for `add_failed`, `remove_failed` and `invalid_sdp`. */
export const ALTERNATIVE_ERROR_MESSAGES = {
  addFailedCreate: 'Could not create virtual session.',
  addFailedJoin: 'Could not join virtual session.',
  addFailedAdd: 'Could not add virtual session.',
  removeFailed: 'Could not remove virtual session from backend.',
  invalidSdpParse: 'Error parsing SDP from payload.',
  noDialoutResponse: 'No dialout response received.',
} as const;

/** Wire shape of an error object (`{"type":"error","error":{...}}`, NC error replies, dialout errors). */
export interface ErrorPayload {
  code: string;
  message: string;
  details?: unknown;
}

/**
 * A client-visible protocol error. `code`, `message` and `details` go on the wire via
 * {@link SignalingError.toPayload}; `reason` is for logs and developers only (e.g. the path of the
 * field that failed validation) and is never sent.
 */
export class SignalingError extends Error {
  override readonly name = 'SignalingError';
  readonly code: string;
  readonly details?: unknown;
  /** Developer-facing explanation (validation path etc.), never part of the wire payload. */
  reason?: string;

  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.code = code;
    if (details !== undefined) this.details = details;
  }

  /** The wire object; `details` is omitted when undefined (Go `omitempty`). */
  toPayload(): ErrorPayload {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  /** Builds an error from a wire payload (e.g. an error Nextcloud returned). */
  static fromPayload(payload: ErrorPayload): SignalingError {
    return new SignalingError(payload.code, payload.message, payload.details);
  }
}

/** Creates a catalogue error with the upstream message text for `code`. */
export function signalingError(code: KnownErrorCode, details?: unknown): SignalingError {
  return new SignalingError(code, ERROR_MESSAGES[code], details);
}

/** `invalid_format` with a developer-facing `reason` (not sent to the client). */
export function invalidFormat(reason: string): SignalingError {
  const error = signalingError('invalid_format');
  error.reason = reason;
  return error;
}

/** Type guard for {@link KnownErrorCode}. */
export function isKnownErrorCode(code: string): code is KnownErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_MESSAGES, code);
}
