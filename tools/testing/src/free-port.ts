import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on `host` (default 127.0.0.1): the OS picks it for a
 * throwaway listener. Racy by nature; starters that cannot pick their own port retry on bind
 * failure (Go `etcd/test.NewServerForTest`).
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
