import type { SignalingError } from './errors';

/**
 * Outcome of validating untrusted input. Parsers in this library never throw for bad input;
 * they return `ok: false` with a catalogue error. `id` carries the request id of a client
 * message whenever one could be read, so the caller can echo it in the error reply.
 */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: SignalingError; id?: string };

/** Shorthand for a successful {@link ParseResult}. */
export function parseOk<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

/** Shorthand for a failed {@link ParseResult}; `id` is only set when given. */
export function parseFail<T = never>(error: SignalingError, id?: string): ParseResult<T> {
  return id === undefined ? { ok: false, error } : { ok: false, error, id };
}
