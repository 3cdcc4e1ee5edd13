import type { IncomingMessage } from 'node:http';
import {
  HEADER_BACKEND,
  HEADER_CHECKSUM,
  HEADER_RANDOM,
  parseBackendRoomRequest,
  parseJsonLimited,
  validateChecksum,
  type BackendRoomRequest,
} from '@talk-signaling/protocol';
import { clientIp, type IpAllowList, type Logger } from '@talk-signaling/runtime';
import type { Backend } from '../backend/backend';
import type { BackendRegistry } from '../backend/backend-registry';
import type { Throttler } from '../throttle/throttler';
import { sendText, type HttpRoutes } from './http-routes';

/** Nextcloud's requests are small; anything larger is refused before reading (upstream 256 KiB). */
export const MAX_BACKEND_BODY_BYTES = 256 * 1024;

/** The answer to one backend request: HTTP status and JSON body. */
export interface BackendApiResult {
  status: number;
  body: unknown;
}

/** Carries out a validated request for a room of a backend. */
export type BackendRoomRequestProcessor = (
  backend: Backend,
  roomId: string,
  request: BackendRoomRequest,
  backendHeader: string | undefined,
) => Promise<BackendApiResult>;

/**
 * `POST /api/v1/room/{roomid}` (fact sheet 2.2): the checks in upstream's order — length,
 * content type, checksum headers, brute-force block, backend selection, checksum, JSON — then
 * the request goes to the processor. Errors are plain text, as Go's `http.Error` writes them.
 */
export function addBackendApiRoutes(
  routes: HttpRoutes,
  deps: {
    backends: BackendRegistry;
    throttler: Throttler;
    trustedProxies: IpAllowList;
    process: BackendRoomRequestProcessor;
    log: Logger;
  },
): void {
  routes.add('POST', '/api/v1/room/{roomid}', async (req, res, params) => {
    const length = req.headers['content-length'];
    if (length === undefined) return sendText(res, 411, 'Length required');
    if (Number(length) > MAX_BACKEND_BODY_BYTES) return sendText(res, 413, 'Request entity too large');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return sendText(res, 400, 'Unsupported Content-Type');
    }
    const random = header(req, HEADER_RANDOM);
    const checksum = header(req, HEADER_CHECKSUM);
    if (!random || !checksum) return sendText(res, 403, 'Authentication check failed');
    let body: Buffer;
    try {
      body = await readBody(req, MAX_BACKEND_BODY_BYTES);
    } catch {
      return sendText(res, 400, 'Could not read body');
    }
    const ip = clientIp(req, deps.trustedProxies);
    const throttle = deps.throttler.check(ip, 'BackendRoomAuth');
    if (throttle.blocked) return sendText(res, 429, 'Too many requests');

    const backendHeader = header(req, HEADER_BACKEND);
    let backend: Backend | undefined;
    if (backendHeader) {
      backend = deps.backends.lookup(backendHeader);
    } else {
      // Old Talk versions send no backend header: the compat backend, else whichever secret fits.
      backend = deps.backends.compatBackend() ?? deps.backends.all().find((b) => validateChecksum(random, body, b.secret, checksum));
    }
    if (!backend || !validateChecksum(random, body, backend.secret, checksum)) {
      await throttle.failed();
      return sendText(res, 403, 'Authentication check failed');
    }
    // Too deep counts as undecodable, as for Go's decoder.
    const json = parseJsonLimited(body);
    if (!json.ok) return sendText(res, 400, 'Could not read body');
    const parsed = parseBackendRoomRequest(json.value);
    if (!parsed.ok) {
      const text = parsed.error.code === 'unsupported_request_type' ? parsed.error.message : 'Could not read body';
      return sendText(res, 400, text);
    }
    if (parsed.value.type === 'transient') return sendText(res, 400, 'Unsupported request type: transient');
    let result: BackendApiResult;
    try {
      result = await deps.process(backend, params['roomid']!, parsed.value, backendHeader);
    } catch (err) {
      deps.log.error({ err, room: params['roomid'], type: parsed.value.type }, 'backend request failed');
      return sendText(res, 500, 'Error while processing');
    }
    const text = JSON.stringify(result.body);
    res.writeHead(result.status, {
      'Content-Type': 'application/json; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

