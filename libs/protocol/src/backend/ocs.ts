import { z } from 'zod';
import { SignalingError } from '../errors';
import { describeIssue } from '../parse-with-schema';
import type { ParseResult } from '../parse-result';

/** Text of the error for an OCS envelope without `data` (upstream `ErrIncompleteResponse`). */
export const OCS_INCOMPLETE_MESSAGE = 'incomplete OCS response';
/** Text of the error for an OCS envelope with `meta.statuscode` 429 (upstream `ErrThrottledResponse`). */
export const OCS_THROTTLED_MESSAGE = 'throttled OCS response';
/** `reason` of the throttled error, so callers can back off without comparing message text. */
export const OCS_THROTTLED_REASON = 'ocs-throttled';
/** `reason` of the incomplete error. */
export const OCS_INCOMPLETE_REASON = 'ocs-incomplete';

/** `ocs.meta` of an OCS response. */
export const OcsMetaSchema = z.object({
  status: z.string(),
  statuscode: z.int(),
  message: z.string(),
});

/** An OCS envelope `{"ocs":{"meta":{...},"data":...}}` (fact sheet 3.1). */
export const OcsResponseSchema = z.object({
  ocs: z.object({
    meta: OcsMetaSchema.partial().optional(),
    data: z.unknown().optional(),
  }),
});
/** OCS envelope. */
export type OcsResponse = z.infer<typeof OcsResponseSchema>;

function ocsError(message: string, reason: string): SignalingError {
  // Upstream relays such transport-level failures to clients as internal_error with the Go text.
  const error = new SignalingError('internal_error', message);
  error.reason = reason;
  return error;
}

/**
 * Extracts `ocs.data` from a decoded Nextcloud response (fact sheet 3.1): missing, null or
 * empty data → `internal_error` "incomplete OCS response"; `meta.statuscode` 429 →
 * `internal_error` "throttled OCS response" (`reason` {@link OCS_THROTTLED_REASON}). The HTTP
 * status itself is not looked at (upstream does not either).
 */
export function unwrapOcs(body: unknown): ParseResult<unknown> {
  const result = OcsResponseSchema.safeParse(body);
  if (!result.success) {
    const error = ocsError(OCS_INCOMPLETE_MESSAGE, OCS_INCOMPLETE_REASON);
    error.reason = `${OCS_INCOMPLETE_REASON}: ${describeIssue(result.error)}`;
    return { ok: false, error };
  }
  const { meta, data } = result.data.ocs;
  if (data === undefined || data === null || data === '') {
    return { ok: false, error: ocsError(OCS_INCOMPLETE_MESSAGE, OCS_INCOMPLETE_REASON) };
  }
  if (meta?.statuscode === 429) {
    return { ok: false, error: ocsError(OCS_THROTTLED_MESSAGE, OCS_THROTTLED_REASON) };
  }
  return { ok: true, value: data };
}

/** True for the error {@link unwrapOcs} returns for a 429 OCS status. */
export function isThrottledOcsError(error: SignalingError): boolean {
  return error.reason === OCS_THROTTLED_REASON;
}

/**
 * Builds an OCS response body as Nextcloud sends it (for the fake Nextcloud):
 * `{"ocs":{"meta":{"status":"ok","statuscode":200,"message":"OK"},"data":...}}`.
 */
export function buildOcsResponse(data: unknown, statuscode = 200): OcsResponse {
  const okStatus = statuscode >= 100 && statuscode < 300;
  return {
    ocs: {
      meta: { status: okStatus ? 'ok' : 'failure', statuscode, message: okStatus ? 'OK' : '' },
      data,
    },
  };
}
