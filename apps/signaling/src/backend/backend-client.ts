import http from 'node:http';
import https from 'node:https';
import { Gauge, type Registry } from 'prom-client';
import {
  calculateChecksum,
  HEADER_CHECKSUM,
  HEADER_FEATURES,
  HEADER_RANDOM,
  isThrottledOcsError,
  newRandom,
  parseJsonLimited,
  SignalingError,
  unwrapOcs,
} from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import type { Backend } from './backend';

/** A request to Nextcloud failed before a usable answer arrived (network, timeout, bad envelope). */
export class BackendRequestError extends Error {
  override readonly name = 'BackendRequestError';
  constructor(
    message: string,
    /** Stable reason for logs and metrics. */
    readonly reason: 'timeout' | 'network' | 'http' | 'content_type' | 'json' | 'ocs' | 'redirect',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** Nextcloud answered with OCS status 429 (brute-force protection): callers should back off. */
  get throttled(): boolean {
    return this.cause instanceof SignalingError && isThrottledOcsError(this.cause);
  }
}

export interface BackendClientOptions {
  /** Request timeout in ms (`[backend] timeout`). */
  timeoutMs: number;
  /** Concurrent requests per host (`[backend] connectionsperhost`). */
  connectionsPerHost: number;
  /** Skip TLS certificate checks (`[backend] skipverify`). */
  skipVerify: boolean;
  userAgent: string;
  /** Current client-type feature list, sent as `X-Spreed-Signaling-Features`. */
  features: () => string[];
  log: Logger;
  registry: Registry;
  /** Rewrites each POST URL before sending (the v3 rewrite of section 3.1); identity when absent. */
  rewriteUrl?: (url: string) => Promise<string>;
}

const MAX_REDIRECTS = 10;
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024; // a misbehaving Nextcloud must not exhaust memory

/**
 * Performs the checksummed JSON POSTs of section 3.1 against Nextcloud and unwraps the OCS
 * envelope. Concurrency per host is bounded by keep-alive agents (`maxSockets`), so requests
 * beyond the limit queue instead of opening more connections.
 */
export class BackendClient {
  readonly #opts: BackendClientOptions;
  readonly #httpAgent: http.Agent;
  readonly #httpsAgent: https.Agent;
  readonly #inUse: Gauge<'host'>;

  constructor(opts: BackendClientOptions) {
    this.#opts = opts;
    const agentOpts = { keepAlive: true, maxSockets: opts.connectionsPerHost, maxFreeSockets: opts.connectionsPerHost };
    this.#httpAgent = new http.Agent(agentOpts);
    this.#httpsAgent = new https.Agent({ ...agentOpts, rejectUnauthorized: !opts.skipVerify });
    this.#inUse = new Gauge({
      name: 'signaling_http_client_pool_connections',
      help: 'The current number of connections in the http client pool',
      labelNames: ['host'] as const,
      registers: [opts.registry],
    });
  }

  /** POSTs `body` (checksummed with the backend's secret) and returns the OCS `data`. */
  async postJson(url: string, backend: Backend, body: unknown): Promise<unknown> {
    if (this.#opts.rewriteUrl) url = await this.#opts.rewriteUrl(url);
    const text = JSON.stringify(body);
    const random = newRandom();
    const headers = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'OCS-APIRequest': 'true',
      'User-Agent': this.#opts.userAgent,
      [HEADER_FEATURES]: this.#opts.features().join(', '),
      [HEADER_RANDOM]: random,
      [HEADER_CHECKSUM]: calculateChecksum(random, text, backend.secret),
    };
    const response = await this.#request('POST', new URL(url), headers, text);
    return this.#decodeOcs(response);
  }

  /** GET with OCS headers and no checksum (capabilities), returning the OCS `data`. */
  async getJson(url: string): Promise<unknown> {
    const headers = { Accept: 'application/json', 'OCS-APIRequest': 'true', 'User-Agent': this.#opts.userAgent };
    const response = await this.#request('GET', new URL(url), headers, undefined);
    return this.#decodeOcs(response);
  }

  close(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }

  #decodeOcs(response: { contentType: string; body: string }): unknown {
    if (!response.contentType.startsWith('application/json')) {
      throw new BackendRequestError(`unsupported_content_type: ${response.contentType || 'none'}`, 'content_type');
    }
    const parsed = parseJsonLimited(response.body);
    if (!parsed.ok) throw new BackendRequestError(`could not decode response body as JSON (${parsed.reason})`, 'json');
    const result = unwrapOcs(parsed.value);
    if (!result.ok) throw new BackendRequestError(result.error.message, 'ocs', { cause: result.error });
    return result.value;
  }

  async #request(
    method: 'GET' | 'POST',
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ contentType: string; body: string }> {
    const origin = url.origin;
    for (let redirects = 0; ; redirects++) {
      const res = await this.#once(method, url, headers, body);
      if (res.location === undefined) return res;
      if (redirects >= MAX_REDIRECTS) throw new BackendRequestError('stopped after 10 redirects', 'redirect');
      const next = new URL(res.location, url);
      // Following a redirect elsewhere would send the checksummed body to a stranger.
      if (next.origin !== origin) throw new BackendRequestError('not redirecting to different host', 'redirect');
      url = next;
    }
  }

  #once(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ contentType: string; body: string; location?: string }> {
    const isHttps = url.protocol === 'https:';
    const mod = isHttps ? https : http;
    const host = url.host;
    return new Promise((resolve, reject) => {
      this.#inUse.inc({ host });
      let settled = false;
      const finish = (err: Error | undefined, value?: { contentType: string; body: string; location?: string }) => {
        if (settled) return;
        settled = true;
        this.#inUse.dec({ host });
        if (err) reject(err);
        else resolve(value!);
      };
      const req = mod.request(
        url,
        {
          method,
          agent: isHttps ? this.#httpsAgent : this.#httpAgent,
          headers: body === undefined ? headers : { ...headers, 'Content-Length': Buffer.byteLength(body) },
          timeout: this.#opts.timeoutMs,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400 && res.headers.location && [301, 302, 303, 307, 308].includes(status)) {
            res.resume();
            finish(undefined, { contentType: '', body: '', location: res.headers.location });
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(new BackendRequestError('response too large', 'http'));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () =>
            finish(undefined, {
              contentType: String(res.headers['content-type'] ?? ''),
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', (err) => finish(new BackendRequestError(err.message, 'network')));
        },
      );
      // The timeout option only covers socket inactivity; bound the whole exchange too.
      const deadline = setTimeout(() => req.destroy(new BackendRequestError(`timeout after ${this.#opts.timeoutMs} ms`, 'timeout')), this.#opts.timeoutMs);
      req.on('timeout', () => req.destroy(new BackendRequestError(`timeout after ${this.#opts.timeoutMs} ms`, 'timeout')));
      req.on('error', (err) => {
        clearTimeout(deadline);
        finish(err instanceof BackendRequestError ? err : new BackendRequestError(err.message, 'network'));
      });
      req.on('close', () => clearTimeout(deadline));
      req.end(body);
    });
  }
}
