import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Reads `[mcu] token_key`: an RSA private key PEM (throws with the path on anything else). */
export function loadProxyTokenKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path));
  } catch (err) {
    throw new Error(`[mcu] token_key ${path}: could not read an RSA private key: ${(err as Error).message}`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`[mcu] token_key ${path}: not an RSA key (${key.asymmetricKeyType})`);
  return key;
}

const base64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');
const HEADER = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));

/**
 * A proxy token (fact sheet 5.6): RS256 JWT with `iss` = our token id, `iat` = now and `sub` =
 * empty for hellos or the publisher's proxy client id for remote subscribers. No `exp`: proxies
 * accept an `iat` up to 5 minutes old, so a token is made per use.
 */
export function createProxyToken(key: KeyObject, issuer: string, subject = '', now = Date.now()): string {
  const claims = base64url(JSON.stringify({ iat: Math.floor(now / 1000), iss: issuer, sub: subject }));
  const input = `${HEADER}.${claims}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}
