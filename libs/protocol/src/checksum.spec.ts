import {
  calculateChecksum,
  HEADER_BACKEND,
  HEADER_CHECKSUM,
  HEADER_FEATURES,
  HEADER_RANDOM,
  newRandom,
  validateChecksum,
} from './checksum';

// Documented example of fact sheet 2.1.
const BODY = '{"type":"auth","auth":{"version":"1.0","params":{"hello":"world"}}}';
const RANDOM = 'afb6b872ab03e3376b31bf0af601067222ff7990335ca02d327071b73c0119c6';
const SECRET = 'MySecretValue';
const CHECKSUM = '3c4a69ff328299803ac2879614b707c807b4758cf19450755c60656cac46e3bc';

describe('checksum', () => {
  it('reproduces the documented example', () => {
    expect(calculateChecksum(RANDOM, BODY, SECRET)).toBe(CHECKSUM);
  });

  it('accepts bytes for body and secret', () => {
    expect(calculateChecksum(RANDOM, Buffer.from(BODY), new TextEncoder().encode(SECRET))).toBe(CHECKSUM);
  });

  it('validates the documented example', () => {
    expect(validateChecksum(RANDOM, BODY, SECRET, CHECKSUM)).toBe(true);
    expect(validateChecksum(RANDOM, Buffer.from(BODY), SECRET, CHECKSUM)).toBe(true);
  });

  it('rejects wrong secret, body, random, length and uppercase hex', () => {
    expect(validateChecksum(RANDOM, BODY, 'other', CHECKSUM)).toBe(false);
    expect(validateChecksum(RANDOM, `${BODY} `, SECRET, CHECKSUM)).toBe(false);
    expect(validateChecksum(newRandom(), BODY, SECRET, CHECKSUM)).toBe(false);
    expect(validateChecksum(RANDOM, BODY, SECRET, CHECKSUM.slice(2))).toBe(false);
    expect(validateChecksum(RANDOM, BODY, SECRET, '')).toBe(false);
    expect(validateChecksum(RANDOM, BODY, SECRET, CHECKSUM.toUpperCase())).toBe(false);
    expect(validateChecksum(RANDOM, BODY, SECRET, `${CHECKSUM}00`)).toBe(false);
  });

  it('makes 64 lowercase hex random strings', () => {
    const a = newRandom();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(newRandom()).not.toBe(a);
  });

  it('names the headers like upstream', () => {
    expect([HEADER_RANDOM, HEADER_CHECKSUM, HEADER_BACKEND, HEADER_FEATURES]).toEqual([
      'Spreed-Signaling-Random',
      'Spreed-Signaling-Checksum',
      'Spreed-Signaling-Backend',
      'X-Spreed-Signaling-Features',
    ]);
  });
});
