import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a session id carries; any node holding the same keys can read it back. */
export interface SessionIdData {
  /** Per-process counter, never 0; unique only together with `node` and `created`. */
  sid: number;
  /** Creation time, ms since the epoch. */
  created: number;
  /** Id of the backend (Nextcloud) the session authenticated against. */
  backendId: string;
  /** 4-byte tag of the issuing node (hex), so a cluster knows whom to ask. */
  node: string;
}

export type SessionIdKind = 'private-session' | 'public-session';

const FORMAT_VERSION = 1;
const MAC_BYTES = 16; // 128-bit truncated HMAC-SHA256: unforgeable, keeps ids short
const IV_BYTES = 16;
const HEADER_BYTES = 1 + 8 + 8 + 4; // version, sid, created, node

/**
 * Encodes and decodes the opaque session ids handed to clients.
 *
 * Layout (base64url, no padding): `mac(16) | body`, where body is the payload, AES-CTR
 * encrypted with a fresh IV when a block key is configured (`iv(16) | ciphertext`). The MAC
 * covers the id kind, so a public id can never be replayed as a private (resume) id, and
 * deriving one from the other needs the hash key. The MAC comes first so that ids start with
 * random-looking bytes: Talk clients compare public ids to decide who calls whom.
 */
export class SessionIdCodec {
  readonly #hashKey: Buffer;
  readonly #blockKey: Buffer | undefined;
  readonly #cipher: string | undefined;

  constructor(hashKey: string, blockKey: string) {
    if (hashKey.length === 0) throw new Error('session hash key must not be empty');
    this.#hashKey = Buffer.from(hashKey, 'utf8');
    if (blockKey.length > 0) {
      const key = Buffer.from(blockKey, 'utf8');
      if (![16, 24, 32].includes(key.length)) throw new Error('session block key must be 16, 24 or 32 bytes');
      this.#blockKey = key;
      this.#cipher = `aes-${key.length * 8}-ctr`;
    }
  }

  encode(kind: SessionIdKind, data: SessionIdData): string {
    const backend = Buffer.from(data.backendId, 'utf8');
    const payload = Buffer.allocUnsafe(HEADER_BYTES + backend.length);
    payload.writeUInt8(FORMAT_VERSION, 0);
    payload.writeBigUInt64BE(BigInt(data.sid), 1);
    payload.writeDoubleBE(data.created, 9);
    payload.write(data.node, 17, 4, 'hex');
    backend.copy(payload, HEADER_BYTES);
    const body = this.#encrypt(payload);
    const mac = this.#mac(kind, body);
    return Buffer.concat([mac, body]).toString('base64url');
  }

  /** Returns undefined for anything that is not an intact id of this kind made with our keys. */
  decode(kind: SessionIdKind, id: string): SessionIdData | undefined {
    if (id.length < 24 || id.length > 1024) return undefined;
    const raw = Buffer.from(id, 'base64url');
    if (raw.length < MAC_BYTES + HEADER_BYTES || raw.toString('base64url') !== id) return undefined;
    const mac = raw.subarray(0, MAC_BYTES);
    const body = raw.subarray(MAC_BYTES);
    if (!timingSafeEqual(mac, this.#mac(kind, body))) return undefined;
    const payload = this.#decrypt(body);
    if (payload === undefined || payload.length < HEADER_BYTES || payload.readUInt8(0) !== FORMAT_VERSION) return undefined;
    return {
      sid: Number(payload.readBigUInt64BE(1)),
      created: payload.readDoubleBE(9),
      node: payload.toString('hex', 17, 21),
      backendId: payload.toString('utf8', HEADER_BYTES),
    };
  }

  #mac(kind: SessionIdKind, body: Buffer): Buffer {
    return createHmac('sha256', this.#hashKey).update(kind).update('|').update(body).digest().subarray(0, MAC_BYTES);
  }

  #encrypt(payload: Buffer): Buffer {
    if (this.#blockKey === undefined) return payload;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(this.#cipher!, this.#blockKey, iv);
    return Buffer.concat([iv, cipher.update(payload), cipher.final()]);
  }

  #decrypt(body: Buffer): Buffer | undefined {
    if (this.#blockKey === undefined) return body;
    if (body.length <= IV_BYTES) return undefined;
    const decipher = createDecipheriv(this.#cipher!, this.#blockKey, body.subarray(0, IV_BYTES));
    return Buffer.concat([decipher.update(body.subarray(IV_BYTES)), decipher.final()]);
  }
}
