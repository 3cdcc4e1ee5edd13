import { z } from 'zod';
import { invalidFormat, signalingError } from '../errors';
import { normalizeHttpUrl } from '../normalize-url';
import { isJsonObject, optionalField } from '../optional-field';
import { parseWithSchema } from '../parse-with-schema';
import type { ParseResult } from '../parse-result';

/** Hello version 1.0: the ticket in `auth.params` is validated by Nextcloud. */
export const HELLO_VERSION_V1 = '1.0';
/** Hello version 2.0: `auth.params.token` is a JWT signed by Nextcloud. */
export const HELLO_VERSION_V2 = '2.0';
/** Supported hello versions. */
export type HelloVersion = typeof HELLO_VERSION_V1 | typeof HELLO_VERSION_V2;

/** `auth.params` of an internal client (SIP bridge, recording server). */
export interface InternalAuthParams {
  /** At least 32 characters for a valid login (checked by the app, not here); `""` when absent. */
  random: string;
  /** Lowercase hex HMAC-SHA256(internalsecret, random); `""` when absent. */
  token: string;
  /** Backend URL, normalised (default port stripped). */
  backend: string;
}

/** `auth.params` of a hello 2.0 client. */
export interface HelloV2AuthParams {
  token: string;
}

/** `auth` of a `client` hello. */
export interface HelloClientAuth {
  type: 'client';
  /** Normalised absolute http(s) URL (default port stripped). */
  url: string;
  /**
   * Version 1.0: the opaque ticket object, forwarded untouched to Nextcloud.
   * Version 2.0: validated to be {@link HelloV2AuthParams}.
   */
  params: unknown;
}

/**
 * `auth` of a `federation` hello (upstream 2.0.0): a signaling server connecting on behalf of
 * one of its sessions. `url` is the Nextcloud of the room (a backend of this server); the
 * hello 2.0 token was issued by that Nextcloud. Version 1.0 is accepted too, as upstream
 * does (the ticket then goes to Nextcloud like a client's).
 */
export interface HelloFederationAuth {
  type: 'federation';
  /** Normalised absolute http(s) URL (default port stripped). */
  url: string;
  /** As for {@link HelloClientAuth}. */
  params: unknown;
}

/** `auth` of an `internal` hello. */
export interface HelloInternalAuth {
  type: 'internal';
  /** Ignored by the server for internal clients; kept if sent. */
  url?: string;
  params: InternalAuthParams;
}

/** Validated `auth` of a non-resume hello. */
export type HelloAuth = HelloClientAuth | HelloFederationAuth | HelloInternalAuth;

/** `auth` as sent with a resume hello; not validated beyond JSON types. */
export interface HelloResumeAuth {
  type?: string;
  url?: string;
  params?: unknown;
}

/** Hello that resumes an existing session (`resumeid` non-empty). */
export interface HelloResumePayload {
  version: HelloVersion;
  resumeid: string;
  features?: string[];
  auth?: HelloResumeAuth;
}

/** Hello that creates a new session. `resumeid` is never set (an empty one is dropped). */
export interface HelloAuthPayload {
  version: HelloVersion;
  resumeid?: undefined;
  features?: string[];
  auth: HelloAuth;
}

/** The `hello` payload; narrow with `hello.resumeid !== undefined`. */
export type HelloClientPayload = HelloResumePayload | HelloAuthPayload;

/** `{"type":"hello","hello":{...}}`. */
export interface HelloClientMessage {
  id?: string;
  type: 'hello';
  hello: HelloClientPayload;
}

/** JSON-type level schema of the hello payload (everything optional, as the Go decoder sees it). */
export const HelloClientPayloadShape = z.object({
  version: optionalField(z.string()),
  resumeid: optionalField(z.string()),
  features: optionalField(z.array(z.string())),
  auth: optionalField(
    z.object({
      type: optionalField(z.string()),
      url: optionalField(z.string()),
      params: z.unknown().optional(),
    }),
  ),
});

const HelloV2ParamsSchema = z.object({ token: z.string().min(1) });

const InternalParamsSchema = z.object({
  random: optionalField(z.string()),
  token: optionalField(z.string()),
  backend: optionalField(z.string()),
});

/**
 * Validates a hello payload (fact sheet 1.4.1), in upstream order: JSON types, then version
 * (`invalid_hello_version`), then auth rules (`invalid_format`).
 *
 * JSON type mismatches fail without an id (upstream cannot decode the frame at all); semantic
 * failures carry `id` so the reply echoes it.
 */
export function parseHelloPayload(raw: unknown, id?: string): ParseResult<HelloClientPayload> {
  const shape = parseWithSchema(HelloClientPayloadShape, raw, 'hello');
  if (!shape.ok) return shape;
  const hello = shape.value;
  const fail = (reason: string): ParseResult<HelloClientPayload> => {
    const error = invalidFormat(reason);
    return id === undefined ? { ok: false, error } : { ok: false, error, id };
  };

  if (hello.version !== HELLO_VERSION_V1 && hello.version !== HELLO_VERSION_V2) {
    const error = signalingError('invalid_hello_version');
    error.reason = `hello.version: unsupported ${JSON.stringify(hello.version ?? null)}`;
    return id === undefined ? { ok: false, error } : { ok: false, error, id };
  }
  const version: HelloVersion = hello.version;

  if (hello.resumeid) {
    const value: HelloResumePayload = { version, resumeid: hello.resumeid };
    if (hello.features !== undefined) value.features = hello.features;
    if (hello.auth !== undefined) {
      const auth: HelloResumeAuth = {};
      if (hello.auth.type !== undefined) auth.type = hello.auth.type;
      if (hello.auth.url !== undefined) auth.url = hello.auth.url;
      if (hello.auth.params !== undefined) auth.params = hello.auth.params;
      value.auth = auth;
    }
    return { ok: true, value };
  }

  const rawAuth = hello.auth;
  if (rawAuth === undefined) return fail('hello.auth: required unless resuming');
  if (!isJsonObject(rawAuth.params)) return fail('hello.auth.params: expected object');

  let auth: HelloAuth;
  const authType = rawAuth.type || 'client';
  switch (authType) {
    case 'client':
    case 'federation': {
      if (!rawAuth.url) return fail(`hello.auth.url: required for ${authType} auth`);
      const url = normalizeHttpUrl(rawAuth.url);
      if (url === undefined) return fail('hello.auth.url: expected absolute http(s) URL');
      if (version === HELLO_VERSION_V2) {
        const params = HelloV2ParamsSchema.safeParse(rawAuth.params);
        if (!params.success) return fail('hello.auth.params.token: required non-empty string for hello 2.0');
      }
      auth = { type: authType, url, params: rawAuth.params };
      break;
    }
    case 'internal': {
      // Upstream decodes `params` only during validation, so type errors here keep the id.
      const params = parseWithSchema(InternalParamsSchema, rawAuth.params, 'hello.auth.params', id);
      if (!params.ok) return params;
      const { random = '', token = '', backend } = params.value;
      if (!backend) return fail('hello.auth.params.backend: required for internal auth');
      const normalized = normalizeHttpUrl(backend);
      if (normalized === undefined) return fail('hello.auth.params.backend: expected absolute http(s) URL');
      auth = { type: 'internal', params: { random, token, backend: normalized } };
      if (rawAuth.url !== undefined) auth.url = rawAuth.url;
      break;
    }
    default:
      return fail(`hello.auth.type: unsupported ${JSON.stringify(authType)}`);
  }

  const value: HelloAuthPayload = { version, auth };
  if (hello.features !== undefined) value.features = hello.features;
  return { ok: true, value };
}
