import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The test page: no markup of its own, just the bundled client script. */
const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>talk-signaling e2e</title></head>
<body><script src="/client.js"></script></body></html>
`;

export interface PageServer {
  /** `http://127.0.0.1:P/` (a secure context, so getUserMedia is available). */
  url: string;
  close(): Promise<void>;
}

/** Serves `/` (or `/index.html`) and `/client.js` (read from `clientJs`) on 127.0.0.1. */
export async function startPageServer(clientJs: string): Promise<PageServer> {
  const script = await readFile(clientJs, 'utf8');
  const server: Server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname === '/' || pathname === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(INDEX_HTML);
    } else if (pathname === '/client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
