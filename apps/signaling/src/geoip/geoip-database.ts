import { readFile, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { Reader, type CountryResponse } from 'maxmind';
import { Backoff, type Logger } from '@talk-signaling/runtime';
import type { CountryDatabase } from './country-lookup';
import { findTarMember } from './tar-member';

/** Upstream refreshes the database once a day ... */
export const GEOIP_REFRESH_MS = 24 * 60 * 60 * 1000;
/** ... and retries a failed update after 1 s, doubling up to 5 min. */
export const GEOIP_RETRY = { initialMs: 1_000, maxMs: 5 * 60 * 1000 };
/** Largest download or database accepted (GeoLite2-Country is ~10 MB, City databases < 100 MB). */
const MAX_DATABASE_BYTES = 256 * 1024 * 1024;
/** A download that takes longer than this is abandoned (and retried). */
const DOWNLOAD_TIMEOUT_MS = 60_000;

/** `[geoip] license` → MaxMind's download URL for GeoLite2-Country (as upstream). */
export function maxmindDownloadUrl(license: string): string {
  return `https://download.maxmind.com/app/geoip_download?edition_id=GeoLite2-Country&license_key=${encodeURIComponent(license)}&suffix=tar.gz`;
}

export interface GeoipDatabaseOptions {
  /** `[geoip] url`: `file://<path>`, a plain path, or an http(s) URL. */
  source: string;
  log: Logger;
  /** Interval of refreshes after a success (tests shorten it). */
  refreshMs?: number;
  /** Retry delays after a failed update (tests shorten them). */
  retry?: { initialMs: number; maxMs: number };
}

/** What the self-check and the logs show about the loaded database. */
export interface GeoipDatabaseInfo {
  source: string;
  type: string;
  builtAt: Date;
}

/**
 * A MaxMind (MMDB) country database, loaded from a file (re-read only when its mtime changes)
 * or downloaded (`If-Modified-Since`; `.gz`, `.tar`/`.tar.gz` with the first `*.mmdb` member, or a
 * plain `.mmdb`), refreshed on a schedule. A failed update keeps the previous database.
 */
export class GeoipDatabase implements CountryDatabase {
  readonly #opts: GeoipDatabaseOptions;
  readonly #isUrl: boolean;
  readonly #path: string;
  readonly #backoff: Backoff;
  #reader: Reader<CountryResponse> | undefined;
  #info: GeoipDatabaseInfo | undefined;
  #lastModified = '';
  #mtimeMs = -1;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastError: string | undefined;

  constructor(opts: GeoipDatabaseOptions) {
    this.#opts = opts;
    this.#isUrl = /^https?:\/\//i.test(opts.source);
    this.#path = opts.source.replace(/^file:\/\//, '');
    const retry = opts.retry ?? GEOIP_RETRY;
    this.#backoff = new Backoff({ initial: retry.initialMs, max: retry.maxMs });
  }

  /** The loaded database, undefined until the first successful update. */
  get info(): GeoipDatabaseInfo | undefined {
    return this.#info;
  }

  /** The message of the last failed update, cleared by a success. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  country(ip: string): string | undefined {
    try {
      return this.#reader?.get(ip)?.country?.iso_code;
    } catch {
      // A database with a corrupt record must not break a client's hello.
      return undefined;
    }
  }

  /** Loads the database if it changed; throws (keeping the old one) when it cannot. */
  async update(): Promise<'loaded' | 'unchanged'> {
    try {
      const result = this.#isUrl ? await this.#download() : await this.#readFile();
      this.#lastError = undefined;
      return result;
    } catch (err) {
      this.#lastError = (err as Error).message;
      throw err;
    }
  }

  /**
   * Updates now, then every `refreshMs`; failed updates are retried with backoff. As upstream, a
   * database file that cannot be read at start-up is fatal (this rejects), while a download is
   * tried in the background (countries are `unknown-country` until it arrives).
   */
  async start(): Promise<void> {
    this.#stopped = false;
    if (this.#isUrl) {
      void this.#tick();
      return;
    }
    await this.update();
    this.#schedule(this.#opts.refreshMs ?? GEOIP_REFRESH_MS);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #tick(): Promise<void> {
    let delay: number;
    try {
      await this.update();
      this.#backoff.reset();
      delay = this.#opts.refreshMs ?? GEOIP_REFRESH_MS;
    } catch (err) {
      delay = this.#backoff.next();
      this.#opts.log.warn({ err: (err as Error).message, source: this.#safeSource(), retryMs: delay }, 'GeoIP database update failed');
    }
    this.#schedule(delay);
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick(), delay);
    this.#timer.unref();
  }

  async #readFile(): Promise<'loaded' | 'unchanged'> {
    const info = await stat(this.#path);
    if (info.mtimeMs === this.#mtimeMs && this.#reader) return 'unchanged';
    if (info.size > MAX_DATABASE_BYTES) throw new Error(`${this.#path}: larger than ${MAX_DATABASE_BYTES} bytes`);
    this.#install(unpack(await readFile(this.#path)));
    this.#mtimeMs = info.mtimeMs;
    return 'loaded';
  }

  async #download(): Promise<'loaded' | 'unchanged'> {
    const headers: Record<string, string> = this.#lastModified ? { 'If-Modified-Since': this.#lastModified } : {};
    const res = await fetch(this.#opts.source, { headers, signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (res.status === 304 && this.#reader) {
      await res.body?.cancel();
      this.#opts.log.debug({ source: this.#safeSource() }, 'GeoIP database has not changed');
      return 'unchanged';
    }
    if (res.status < 200 || res.status > 299) {
      await res.body?.cancel();
      throw new Error(`downloading the GeoIP database answered HTTP ${res.status}`);
    }
    this.#install(unpack(await readCapped(res, MAX_DATABASE_BYTES)));
    this.#lastModified = res.headers.get('last-modified') ?? '';
    return 'loaded';
  }

  #install(data: Buffer): void {
    const reader = new Reader<CountryResponse>(data);
    // Walk the tree once: a truncated or corrupt file fails here, not at a client's hello.
    reader.get('1.1.1.1');
    reader.get('2001:db8::1');
    this.#reader = reader;
    this.#info = { source: this.#safeSource(), type: reader.metadata.databaseType, builtAt: reader.metadata.buildEpoch };
    this.#opts.log.info({ ...this.#info }, 'GeoIP database loaded');
  }

  /** The source without a license key (it is a secret). */
  #safeSource(): string {
    return this.#opts.source.replace(/license_key=[^&]*/, 'license_key=***');
  }
}

/** gzip → tar → `*.mmdb`, whatever of that applies (recognised by content, not by name). */
function unpack(data: Buffer): Buffer {
  let out = data;
  if (out[0] === 0x1f && out[1] === 0x8b) out = gunzipSync(out, { maxOutputLength: MAX_DATABASE_BYTES });
  if (out.length > 262 && out.subarray(257, 262).toString('latin1') === 'ustar') {
    const member = findTarMember(out, '.mmdb');
    if (!member) throw new Error('no *.mmdb file in the downloaded archive');
    out = member;
  }
  if (out.length === 0) throw new Error('empty GeoIP database');
  return out;
}

/** The response body, refusing more than `max` bytes. */
async function readCapped(res: Response, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > max) throw new Error(`GeoIP download larger than ${max} bytes`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    total += (chunk as Uint8Array).length;
    if (total > max) throw new Error(`GeoIP download larger than ${max} bytes`);
    chunks.push(chunk as Uint8Array);
  }
  return Buffer.concat(chunks);
}
