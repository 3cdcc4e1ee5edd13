// The bench client's own "auth backend" (upstream client/main.go): an HTTP server standing in
// for Nextcloud so that a signaling server with `[backend] allowall = true` can validate hellos
// without a real Nextcloud. Unlike upstream, which listens on the first non-loopback interface,
// it listens on 127.0.0.1 only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HEADER_CHECKSUM, HEADER_RANDOM, validateChecksum } from '@talk-signaling/protocol';

/** User id answered when the hello carries no `params.userid` (upstream's only answer). */
export const SAMPLE_USER = 'sample-user';

/** Largest request body accepted (backend requests are small). */
const MAX_BODY_BYTES = 1 << 20; // 1 MiB

export interface AuthBackendStats {
  /** Requests answered, by request type (`auth`, `room`, `ping`, `session`, `capabilities`). */
  requests: Record<string, number>;
  /** Requests whose checksum did not match the secret. */
  badChecksums: number;
}

/**
 * Answers every checksummed POST like Nextcloud Talk would (OCS envelope): `auth` with the
 * user id from the hello params (or `sample-user`), `room` joins and leaves for any room,
 * `ping` and `session`; GET (capabilities) with an empty Talk capability set.
 */
export class AuthBackend {
  readonly #secret: string;
  readonly #server: Server;
  readonly stats: AuthBackendStats = { requests: {}, badChecksums: 0 };
  #url = '';

  private constructor(secret: string) {
    this.#secret = secret;
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 60_000;
  }

  /** Starts listening on 127.0.0.1 (port 0 = any free port). */
  static async start(secret: string, port = 0): Promise<AuthBackend> {
    const backend = new AuthBackend(secret);
    await new Promise<void>((resolve, reject) => {
      backend.#server.once('error', reject);
      backend.#server.listen(port, '127.0.0.1', () => resolve());
    });
    const { port: actual } = backend.#server.address() as AddressInfo;
    backend.#url = `http://127.0.0.1:${actual}/auth`;
    return backend;
  }

  /** The URL clients send as `auth.url` (upstream: `http://<ip>:<port>/auth`). */
  get url(): string {
    return this.#url;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #count(type: string): void {
    this.stats.requests[type] = (this.stats.requests[type] ?? 0) + 1;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST') {
      this.#count('capabilities');
      reply(res, { version: { major: 28, minor: 0, micro: 0, string: '28.0.0' }, capabilities: { spreed: { features: [], config: { signaling: {} } } } });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const random = header(req, HEADER_RANDOM);
      const checksum = header(req, HEADER_CHECKSUM);
      if (random === '' || checksum === '' || !validateChecksum(random, body, this.#secret, checksum)) {
        this.stats.badChecksums++;
        reply(res, { type: 'error', error: { code: 'invalid_request', message: 'The request could not be authenticated.' } });
        return;
      }
      let message: Record<string, Record<string, unknown> | undefined>;
      try {
        message = JSON.parse(body.toString('utf8')) as typeof message;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const type = typeof message['type'] === 'string' ? (message['type'] as unknown as string) : '';
      this.#count(type);
      reply(res, answer(type, message));
    });
  }
}

function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name.toLowerCase()];
  return typeof v === 'string' ? v : '';
}

/** The response body (OCS `data`) for one backend request. */
export function answer(type: string, message: Record<string, Record<string, unknown> | undefined>): unknown {
  switch (type) {
    case 'auth': {
      const params = (message['auth']?.['params'] ?? {}) as Record<string, unknown>;
      const userid = typeof params['userid'] === 'string' && params['userid'] !== '' ? params['userid'] : SAMPLE_USER;
      return { type: 'auth', auth: { version: '1.0', userid, user: { displayname: userid } } };
    }
    case 'room': {
      const roomid = typeof message['room']?.['roomid'] === 'string' ? message['room']['roomid'] : '';
      return { type: 'room', room: { version: '1.0', roomid, properties: { name: roomid, type: 3 } } };
    }
    case 'ping':
      return { type: 'room', room: { version: '1.0' } };
    case 'session':
      return { type: 'session', session: { version: '1.0', roomid: message['session']?.['roomid'] ?? '' } };
    default:
      return { type: 'error', error: { code: 'unknown_type', message: `The given type ${type} is not supported.` } };
  }
}

/** Writes an OCS envelope (`meta` ok / 200 / OK) around `data`. */
function reply(res: ServerResponse, data: unknown): void {
  const body = JSON.stringify({ ocs: { meta: { status: 'ok', statuscode: 200, message: 'OK' }, data } });
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
