import {
  parseBackendClientResponse,
  SignalingError,
  signalingError,
  type BackendClientResponse,
  type KnownErrorCode,
} from '@talk-signaling/protocol';
import type { Backend } from './backend';
import { BackendRequestError, type BackendClient } from './backend-client';

/**
 * One signaling request to Nextcloud whose answer decides what the client is told (hello 1.0,
 * room join): the answer of the expected type, or a `SignalingError` for the client — Nextcloud's
 * own error object passed through, `wrongType` for any other answer, `internal_error` when the
 * request itself failed.
 */
export async function askNextcloud<T extends BackendClientResponse['type']>(
  client: Pick<BackendClient, 'postJson'>,
  url: string,
  backend: Backend,
  body: unknown,
  expected: T,
  wrongType: KnownErrorCode,
): Promise<Extract<BackendClientResponse, { type: T }>> {
  let data: unknown;
  try {
    data = await client.postJson(url, backend, body);
  } catch (err) {
    if (err instanceof BackendRequestError) throw new SignalingError('internal_error', err.message);
    throw err;
  }
  const response = parseBackendClientResponse(data);
  if (!response.ok) throw signalingError(wrongType);
  const value = response.value;
  if (value.type === 'error') throw new SignalingError(value.error.code, value.error.message, value.error.details);
  if (value.type !== expected) throw signalingError(wrongType);
  return value as Extract<BackendClientResponse, { type: T }>;
}
