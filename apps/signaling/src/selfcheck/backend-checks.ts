import { randomBytes } from 'node:crypto';
import type { Backend } from '../backend/backend';
import { BackendRequestError } from '../backend/backend-client';
import type { CheckResult } from './self-check';

/** Where Talk's signaling backend API lives below a Nextcloud base URL. */
const TALK_BACKEND_PATH = 'ocs/v2.php/apps/spreed/api/v1/signaling/backend';

export interface BackendPoster {
  postJson(url: string, backend: Backend, body: unknown): Promise<unknown>;
}

/**
 * For every URL of every configured backend: does Nextcloud answer, and does it accept our
 * checksum? A room ping for a room that does not exist is harmless: Talk checks the checksum
 * first (`invalid_request` when the secrets differ), then answers that the room is unknown.
 */
export async function checkBackends(backends: readonly Backend[], client: BackendPoster): Promise<CheckResult[]> {
  if (backends.length === 0) {
    return [{ name: 'backends', status: 'error', detail: 'no backend is configured', hint: 'list your Nextcloud in [backend] backends with a section holding its url and secret (or use backendtype = etcd)' }];
  }
  const checks: Promise<CheckResult>[] = [];
  for (const backend of backends) {
    if (backend.compat) {
      checks.push(
        Promise.resolve({
          name: `backend ${backend.id}`,
          status: 'warning',
          detail: 'allowall / allowed: any (listed) host is accepted with [backend] secret, so no URL can be checked',
          hint: 'prefer [backend] backends with one section per Nextcloud (url, secret)',
        }),
      );
      continue;
    }
    for (const url of backend.urls) checks.push(checkOne(backend, url, client));
  }
  return Promise.all(checks);
}

async function checkOne(backend: Backend, url: string, client: BackendPoster): Promise<CheckResult> {
  const name = `backend ${backend.id} (${url})`;
  const body = { type: 'ping', ping: { version: '1.0', roomid: `selfcheck-${randomBytes(8).toString('hex')}`, entries: [] } };
  let answer: unknown;
  try {
    answer = await client.postJson(`${url}${TALK_BACKEND_PATH}`, backend, body);
  } catch (err) {
    const reason = err instanceof BackendRequestError ? err.reason : 'network';
    const detail = `Nextcloud does not answer: ${(err as Error).message}`;
    if (reason === 'http' || reason === 'content_type' || reason === 'ocs' || reason === 'json') {
      return { name, status: 'error', detail, hint: `the URL answers, but not as Nextcloud Talk's signaling API: check the url of [${backend.id}] (the Nextcloud base URL) and that the Talk app is enabled` };
    }
    return { name, status: 'error', detail, hint: `check the url of [${backend.id}], DNS and the network from this host to Nextcloud; for a self-signed certificate set [backend] skipverify = true or trust its CA` };
  }
  const error = (answer as { type?: string; error?: { code?: string; message?: string } } | undefined)?.error;
  if ((answer as { type?: string } | undefined)?.type === 'error' && error?.code === 'invalid_request') {
    return {
      name,
      status: 'error',
      detail: `Nextcloud rejects our checksum (${error.message ?? 'invalid_request'})`,
      hint: `the secret of [${backend.id}] must be exactly the "Shared secret" entered for this signaling server in Nextcloud's Talk admin settings`,
    };
  }
  return { name, status: 'ok', detail: 'Nextcloud answers and accepts our checksum' };
}
