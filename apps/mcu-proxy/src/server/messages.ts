/** Builders for proxy → signaling frames (fact sheet 5.6). */
import { PROXY_ERROR_MESSAGES } from '@talk-signaling/protocol';

export type ProxyErrorCode =
  | 'invalid_format'
  | 'hello_expected'
  | 'no_such_session'
  | 'auth_failed'
  | 'token_expired'
  | 'token_not_valid_yet'
  | 'unknown_client'
  | 'bad_request'
  | 'unsupported_payload'
  | 'shutdown_scheduled'
  | 'timeout'
  | 'unsupported_subscriber'
  | 'internal_error';

export function errorMessage(id: string | undefined, code: ProxyErrorCode, message: string): object {
  return id ? { id, type: 'error', error: { code, message } } : { type: 'error', error: { code, message } };
}

/** The error with upstream's fixed text for `code`. */
export function knownError(id: string | undefined, key: keyof typeof PROXY_ERROR_MESSAGES): object {
  const code: ProxyErrorCode =
    key === 'unsupported_command' || key === 'unsupported_message'
      ? 'bad_request'
      : key === 'timeout_publisher' || key === 'timeout_subscriber'
        ? 'timeout'
        : key;
  return errorMessage(id, code, PROXY_ERROR_MESSAGES[key]);
}

export function commandResponse(id: string | undefined, command: Record<string, unknown>): object {
  return id ? { id, type: 'command', command } : { type: 'command', command };
}

export function payloadResponse(id: string | undefined, type: string, clientId: string, payload: unknown): object {
  const body = { type, clientId, payload: payload ?? null };
  return id ? { id, type: 'payload', payload: body } : { type: 'payload', payload: body };
}

export function eventMessage(event: Record<string, unknown>): object {
  return { type: 'event', event };
}
