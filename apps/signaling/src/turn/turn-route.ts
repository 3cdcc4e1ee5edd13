import { timingSafeEqual } from 'node:crypto';
import { sendJson, sendText, type HttpRoutes } from '../http/http-routes';
import { turnCredentials } from './turn-credentials';

export interface TurnSettings {
  /** `[turn] apikey` */
  apikey: string;
  /** `[turn] secret` */
  secret: string;
  /** `[turn] servers`; empty ⇒ the endpoint answers 404. */
  servers: readonly string[];
}

/**
 * `GET /turn/credentials?service=turn&key=<apikey>[&username=<name>]` (fact sheet 7.6). Janus
 * sends the key as `api=`, so that is accepted too. The status codes and texts are upstream's.
 */
export function addTurnRoute(routes: HttpRoutes, settings: TurnSettings): void {
  routes.add('GET', '/turn/credentials', (req, res) => {
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const key = query.get('key') || query.get('api') || '';
    if (query.get('service') !== 'turn' || key === '') return sendText(res, 400, 'Invalid service and/or key sent.');
    if (!sameKey(key, settings.apikey)) return sendText(res, 403, 'Not allowed to access this service.');
    if (settings.servers.length === 0) return sendText(res, 404, 'No TURN servers available.');
    sendJson(res, 200, turnCredentials({ secret: settings.secret, servers: settings.servers, username: query.get('username') ?? '' }));
  });
}

/** Constant-time comparison, so the key cannot be guessed byte by byte from response times. */
function sameKey(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && b.length > 0 && timingSafeEqual(a, b);
}
