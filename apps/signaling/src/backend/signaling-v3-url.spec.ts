import { signalingV3Rewriter, toSignalingV3Url } from './signaling-v3-url';

describe('toSignalingV3Url', () => {
  it.each([
    ['https://nc.example.com/ocs/v2.php/apps/spreed/api/v1/signaling/backend', 'https://nc.example.com/ocs/v2.php/apps/spreed/api/v3/signaling/backend'],
    ['https://nc.example.com/ocs/v2.php/apps/spreed/api/v2/signaling/backend', 'https://nc.example.com/ocs/v2.php/apps/spreed/api/v3/signaling/backend'],
    ['https://nc.example.com/ocs/v2.php/apps/spreed/api/v3/signaling/backend', 'https://nc.example.com/ocs/v2.php/apps/spreed/api/v3/signaling/backend'],
    ['http://127.0.0.1:8080/nc/ocs/v2.php/apps/spreed/api/v1/signaling/backend?x=1', 'http://127.0.0.1:8080/nc/ocs/v2.php/apps/spreed/api/v3/signaling/backend?x=1'],
    ['https://nc.example.com/ocs/v2.php/apps/spreed/api/v1/room', 'https://nc.example.com/ocs/v2.php/apps/spreed/api/v1/room'],
    ['https://nc.example.com/', 'https://nc.example.com/'],
  ])('%s -> %s', (url, expected) => {
    expect(toSignalingV3Url(url)).toBe(expected);
  });

  it('leaves the query alone', () => {
    const url = 'https://nc.example.com/x?next=/spreed/api/v1/signaling/';
    expect(toSignalingV3Url(url)).toBe(url);
  });
});

describe('signalingV3Rewriter', () => {
  const v1 = 'https://nc.example.com/ocs/v2.php/apps/spreed/api/v1/signaling/backend';
  const v3 = 'https://nc.example.com/ocs/v2.php/apps/spreed/api/v3/signaling/backend';

  it('rewrites only when the capabilities of the original URL list signaling-v3', async () => {
    const asked: string[] = [];
    let v3Supported = false;
    const rewrite = signalingV3Rewriter({
      hasSignalingV3: async (url) => {
        asked.push(url);
        return v3Supported;
      },
    });
    expect(await rewrite(v1)).toBe(v1);
    v3Supported = true;
    expect(await rewrite(v1)).toBe(v3);
    expect(asked).toEqual([v1, v1]);
  });

  it('skips the capabilities lookup when there is nothing to rewrite', async () => {
    const rewrite = signalingV3Rewriter({ hasSignalingV3: () => Promise.reject(new Error('must not be called')) });
    expect(await rewrite(v3)).toBe(v3);
    expect(await rewrite('https://nc.example.com/')).toBe('https://nc.example.com/');
  });
});
