import { isJsonObject } from '../optional-field';
import { unwrapOcs } from './ocs';

/** Nextcloud Talk capability feature that makes the server use `/api/v3/signaling/` URLs. */
export const CAPABILITY_SIGNALING_V3 = 'signaling-v3';
/** `config.signaling` key holding the hello 2.0 JWT public key. */
export const CONFIG_HELLO_V2_TOKEN_KEY = 'hello-v2-token-key';
/** `config.signaling` key holding the combined ping chunk limit. */
export const CONFIG_SESSION_PING_LIMIT = 'session-ping-limit';

/** What the server reads from the `spreed` capabilities (fact sheet 3.4). */
export interface Capabilities {
  /** `capabilities.spreed.features` (strings only). */
  features: string[];
  /** `capabilities.spreed.config` (opaque). */
  config: Record<string, unknown>;
  /** `config.signaling["hello-v2-token-key"]` when it is a string. */
  helloV2TokenKey?: string;
  /** `config.signaling["session-ping-limit"]` when it is a number (truncated to an integer). */
  sessionPingLimit?: number;
}

/**
 * Reads the capabilities from a decoded `GET …/cloud/capabilities` response (an OCS envelope;
 * an already unwrapped `data` object with a `capabilities` key is accepted too). Tolerant like
 * upstream: anything missing or of the wrong type is treated as absent, never an error.
 */
export function parseCapabilities(body: unknown): Capabilities {
  let data: unknown = body;
  const unwrapped = unwrapOcs(body);
  if (unwrapped.ok) data = unwrapped.value;
  const capabilities = isJsonObject(data) ? data['capabilities'] : undefined;
  const spreed = isJsonObject(capabilities) ? capabilities['spreed'] : undefined;
  const result: Capabilities = { features: [], config: {} };
  if (!isJsonObject(spreed)) return result;

  const features = spreed['features'];
  if (Array.isArray(features)) {
    result.features = features.filter((f): f is string => typeof f === 'string');
  }
  const config = spreed['config'];
  if (isJsonObject(config)) {
    result.config = config;
    const signaling = config['signaling'];
    if (isJsonObject(signaling)) {
      const key = signaling[CONFIG_HELLO_V2_TOKEN_KEY];
      if (typeof key === 'string' && key !== '') result.helloV2TokenKey = key;
      const limit = signaling[CONFIG_SESSION_PING_LIMIT];
      if (typeof limit === 'number' && Number.isFinite(limit)) result.sessionPingLimit = Math.trunc(limit);
    }
  }
  return result;
}
