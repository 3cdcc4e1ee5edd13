import { turnCredentials } from './turn-credentials';

describe('turnCredentials', () => {
  it('matches a known coturn REST credential', () => {
    // Expiry 1700086400 = 1700000000 + 24 h; password from `printf '1700086400:bob' | openssl dgst -sha1 -hmac s3cret -binary | base64`.
    const c = turnCredentials({ secret: 's3cret', servers: ['turn:a'], username: 'bob', nowMs: 1_700_000_000_000 });
    expect(c).toEqual({ username: '1700086400:bob', password: 'hh5nfI3KpobvjZcuf5nGuIxPzLM=', ttl: 86400, uris: ['turn:a'] });
  });
});
