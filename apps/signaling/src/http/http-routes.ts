import type { IncomingMessage, ServerResponse } from 'node:http';

/** One HTTP endpoint; returns nothing, writes the response itself. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => void | Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: RouteHandler;
}

/**
 * A tiny method + path router: a handful of fixed endpoints does not justify a framework, and
 * this keeps the hot `/spreed` upgrade path free of middleware.
 */
export class HttpRoutes {
  readonly #routes: Route[] = [];

  /** `path` may contain `{name}` segments, e.g. `/api/v1/room/{roomid}`. */
  add(method: string, path: string, handler: RouteHandler): void {
    const keys: string[] = [];
    const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}|\{(\w+)\}/g, (_m, a: string, b: string) => {
      keys.push(a ?? b);
      return '([^/]+)';
    });
    this.#routes.push({ method, pattern: new RegExp(`^${source}$`), keys, handler });
  }

  /** The handler for a request, `'method'` when only the method is wrong, or undefined. */
  match(method: string, pathname: string): { handler: RouteHandler; params: Record<string, string> } | 'method' | undefined {
    let pathMatched = false;
    for (const route of this.#routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, i) => {
        params[key] = decodeURIComponent(m[i + 1]!);
      });
      return { handler: route.handler, params };
    }
    return pathMatched ? 'method' : undefined;
  }
}

/** JSON response with upstream's headers for API answers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, pretty = false): void {
  const text = pretty ? `${JSON.stringify(body, null, 2)}\n` : `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Plain-text error, as Go's `http.Error` writes it. */
export function sendText(res: ServerResponse, status: number, text: string): void {
  const body = `${text}\n`;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}
