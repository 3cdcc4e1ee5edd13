import { generateKeyPairSync, type KeyObject } from 'node:crypto';

/** Signing algorithms Talk uses for hello v2 tokens. */
export type HelloV2Algorithm = 'RS256' | 'ES256' | 'EdDSA';

/** A key pair plus the public key in the form Talk publishes as `hello-v2-token-key`. */
export interface HelloV2Keys {
  alg: HelloV2Algorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PEM (SPKI) for RSA/ECDSA; raw base64 of the 32-byte key for Ed25519, as Talk does. */
  published: string;
}

/** Generates a fresh key pair for `alg`. */
export function generateHelloV2Keys(alg: HelloV2Algorithm): HelloV2Keys {
  switch (alg) {
    case 'RS256': {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return { alg, privateKey, publicKey, published: pem(publicKey) };
    }
    case 'ES256': {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return { alg, privateKey, publicKey, published: pem(publicKey) };
    }
    case 'EdDSA': {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const jwk = publicKey.export({ format: 'jwk' });
      // The JWK `x` member is the raw 32-byte public key, base64url encoded.
      const raw = Buffer.from(String(jwk.x), 'base64url');
      return { alg, privateKey, publicKey, published: raw.toString('base64') };
    }
  }
}

function pem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}
