import { status, type ServiceError } from '@grpc/grpc-js';

/** Why a cluster call failed, independent of gRPC. */
export type ClusterErrorCode =
  | 'not_found'
  | 'invalid_argument'
  | 'deadline_exceeded'
  | 'unavailable'
  | 'cancelled'
  | 'unauthenticated'
  | 'resource_exhausted'
  | 'internal';

/**
 * A failed cluster call (client side) or a refusal to answer (server side: handlers throw it to
 * send that status). Callers branch on `code`, never on the message.
 */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
    /** The peer that failed (client side). */
    readonly target?: string,
    options?: ErrorOptions,
  ) {
    super(target === undefined ? message : `${target}: ${message}`, options);
  }

  /** Worth retrying on the same peer later (it was slow or away, not wrong). */
  get retryable(): boolean {
    return this.code === 'deadline_exceeded' || this.code === 'unavailable';
  }
}

const FROM_GRPC: Partial<Record<status, ClusterErrorCode>> = {
  [status.NOT_FOUND]: 'not_found',
  [status.INVALID_ARGUMENT]: 'invalid_argument',
  [status.DEADLINE_EXCEEDED]: 'deadline_exceeded',
  [status.UNAVAILABLE]: 'unavailable',
  [status.CANCELLED]: 'cancelled',
  [status.UNAUTHENTICATED]: 'unauthenticated',
  [status.RESOURCE_EXHAUSTED]: 'resource_exhausted',
};

const TO_GRPC: Record<ClusterErrorCode, status> = {
  not_found: status.NOT_FOUND,
  invalid_argument: status.INVALID_ARGUMENT,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  unavailable: status.UNAVAILABLE,
  cancelled: status.CANCELLED,
  unauthenticated: status.UNAUTHENTICATED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  internal: status.INTERNAL,
};

/** The one place gRPC errors become {@link ClusterError}s (client side). */
export function fromGrpcError(err: unknown, target: string): ClusterError {
  if (err instanceof ClusterError) return err;
  const code = (err as Partial<ServiceError> | undefined)?.code;
  const details = (err as Partial<ServiceError> | undefined)?.details ?? (err instanceof Error ? err.message : String(err));
  return new ClusterError((code !== undefined && FROM_GRPC[code]) || 'internal', details, target, { cause: err });
}

/** The status a server-side failure is answered with; unexpected errors are `INTERNAL`. */
export function toGrpcStatus(err: unknown): { code: status; details: string } {
  if (err instanceof ClusterError) return { code: TO_GRPC[err.code], details: err.message };
  return { code: status.INTERNAL, details: 'internal error' };
}
