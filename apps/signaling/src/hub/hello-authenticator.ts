import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignalingError, signalingError, type HelloAuthPayload } from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import type { Backend } from '../backend/backend';
import { askNextcloud } from '../backend/ask-nextcloud';
import type { BackendClient } from '../backend/backend-client';
import type { BackendRegistry } from '../backend/backend-registry';
import type { HelloV2Verifier } from '../backend/hello-v2-verifier';
import type { Throttler } from '../throttle/throttler';
import type { ClientType } from '../session/client-session';

/** Who a successful hello authenticated. */
export interface AuthResult {
  backend: Backend;
  backendUrl: string;
  clientType: ClientType;
  userId: string;
  user: unknown;
}

export interface HelloAuthenticatorDeps {
  backends: BackendRegistry;
  backendClient: BackendClient;
  throttler: Throttler;
  /** `[clients] internalsecret`; empty disables internal clients. */
  internalSecret: string;
  helloV2?: HelloV2Verifier;
  /**
   * Whether the Nextcloud at a hello `auth.url` has the `federation-v2` capability; federation
   * hellos are refused (`invalid_client_type`) when this is not provided.
   */
  federationSupported?: (url: string) => Promise<boolean>;
  log: Logger;
}

const BACKEND_PATH = 'ocs/v2.php/apps/spreed/api/v1/signaling/backend';
const MIN_INTERNAL_RANDOM = 32;

/**
 * The URL for room/ping/session requests (section 3.2): the announced URL when it already
 * points into OCS, else the standard signaling backend path below it.
 */
export function sessionBackendUrl(url: string): string {
  if (url.includes('/ocs/v2.php/')) return url;
  return `${url.endsWith('/') ? url : `${url}/`}${BACKEND_PATH}`;
}

/**
 * Authenticates a new (non-resume) hello: asks Nextcloud for v1 tickets, verifies v2 tokens,
 * checks internal clients' HMAC. Throws `SignalingError` with the client-visible code.
 */
export class HelloAuthenticator {
  readonly #deps: HelloAuthenticatorDeps;

  constructor(deps: HelloAuthenticatorDeps) {
    this.#deps = deps;
  }

  async authenticate(hello: HelloAuthPayload, ip: string): Promise<AuthResult> {
    const auth = hello.auth;
    if (auth.type === 'internal') return this.#internal(auth.params, ip);
    const backend = this.#deps.backends.lookup(auth.url);
    if (!backend) throw signalingError('invalid_backend');
    const backendUrl = sessionBackendUrl(auth.url);
    const clientType = auth.type;
    if (clientType === 'federation') {
      // Upstream checks the capability for 2.0 only (a 1.0 federation hello is a ticket login).
      if (!this.#deps.federationSupported) throw signalingError('invalid_client_type');
      if (hello.version === '2.0' && !(await this.#deps.federationSupported(auth.url))) throw signalingError('federation_unsupported');
    }
    if (hello.version === '2.0') {
      const verifier = this.#deps.helloV2;
      if (!verifier) throw signalingError('invalid_hello_version');
      const token = (auth.params as { token: string }).token;
      const { userId, user } = await verifier.verify(auth.url, backend, token);
      return { backend, backendUrl, clientType, userId, user };
    }
    return { ...(await this.#ticket(auth.url, backend, auth.params)), backendUrl, clientType };
  }

  /** Hello 1.0: Nextcloud validates the ticket (`auth` request, section 3.3.1). */
  async #ticket(url: string, backend: Backend, params: unknown): Promise<{ backend: Backend; userId: string; user: unknown }> {
    const body = { type: 'auth', auth: { version: '1.0', params } };
    const answer = await askNextcloud(this.#deps.backendClient, url, backend, body, 'auth', 'auth_failed').catch((err: unknown) => {
      if (err instanceof SignalingError && err.code === 'internal_error') {
        this.#deps.log.warn({ backend: backend.id, err: err.message }, 'auth request to Nextcloud failed');
      }
      throw err;
    });
    return { backend, userId: answer.auth.userid ?? '', user: answer.auth.user };
  }

  /** Internal clients prove knowledge of `[clients] internalsecret` (section 1.4.4). */
  async #internal(params: { random: string; token: string; backend: string }, ip: string): Promise<AuthResult> {
    const secret = this.#deps.internalSecret;
    if (!secret) throw signalingError('invalid_client_type');
    const throttle = this.#deps.throttler.check(ip, 'HelloInternal');
    if (throttle.blocked) throw signalingError('too_many_requests');
    if (params.random.length < MIN_INTERNAL_RANDOM || !tokenMatches(secret, params.random, params.token)) {
      await throttle.failed();
      throw signalingError('invalid_token');
    }
    const backend = this.#deps.backends.lookup(params.backend);
    if (!backend) {
      await throttle.failed();
      throw signalingError('invalid_backend');
    }
    return { backend, backendUrl: sessionBackendUrl(params.backend), clientType: 'internal', userId: '', user: undefined };
  }
}

function tokenMatches(secret: string, random: string, token: string): boolean {
  const expected = Buffer.from(createHmac('sha256', secret).update(random).digest('hex'));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
