import { SessionIdCodec } from './session-id-codec';

describe('SessionIdCodec', () => {
  const data = { sid: 42, created: 1_700_000_000_123, backendId: 'backend-1', node: 'a1b2c3d4' };

  it.each([
    ['without block key', ''],
    ['with a 16-byte block key', '0123456789abcdef'],
    ['with a 32-byte block key', '0123456789abcdef0123456789abcdef'],
  ])('round-trips %s', (_name, blockKey) => {
    const codec = new SessionIdCodec('hash-key-of-thirty-two-bytes!!!!', blockKey);
    const privateId = codec.encode('private-session', data);
    const publicId = codec.encode('public-session', data);
    expect(privateId).not.toEqual(publicId);
    expect(privateId).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(codec.decode('private-session', privateId)).toEqual(data);
    expect(codec.decode('public-session', publicId)).toEqual(data);
  });

  it('refuses an id of the other kind (a public id is no resume id)', () => {
    const codec = new SessionIdCodec('hash', '');
    const publicId = codec.encode('public-session', data);
    expect(codec.decode('private-session', publicId)).toBeUndefined();
  });

  it('refuses ids made with other keys, tampered ids and garbage', () => {
    const codec = new SessionIdCodec('hash', '0123456789abcdef');
    const other = new SessionIdCodec('other-hash', '0123456789abcdef');
    const id = codec.encode('private-session', data);
    expect(other.decode('private-session', id)).toBeUndefined();
    const flipped = Buffer.from(id, 'base64url');
    flipped[flipped.length - 1]! ^= 1;
    expect(codec.decode('private-session', flipped.toString('base64url'))).toBeUndefined();
    expect(codec.decode('private-session', 'not-an-id')).toBeUndefined();
    expect(codec.decode('private-session', '')).toBeUndefined();
    expect(codec.decode('private-session', `${id}=`)).toBeUndefined();
  });

  it('gives two encodings of the same data different ids when encrypting', () => {
    const codec = new SessionIdCodec('hash', '0123456789abcdef');
    expect(codec.encode('public-session', data)).not.toEqual(codec.encode('public-session', data));
  });

  it('rejects block keys of the wrong size', () => {
    expect(() => new SessionIdCodec('hash', 'short')).toThrow(/16, 24 or 32/);
  });
});
