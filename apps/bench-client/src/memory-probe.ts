// The server's memory as it reports it on `/metrics` (resident set and JS/Go heap), with the
// process's /proc entry as the fallback for RSS. Works against our server (prom-client's default
// process metrics) and the Go one (client_golang's process and Go collectors).
import { readFileSync } from 'node:fs';
import { parseRssKiB } from './server-probe';

export interface MemorySample {
  /** Milliseconds since the soak started. */
  atMs: number;
  rssMiB: number;
  /** Heap in use; undefined when the server does not report it. */
  heapMiB?: number;
}

const MiB = 1024 * 1024;
/** A scrape must not hang the soak: metrics come from a local server. */
const SCRAPE_TIMEOUT_MS = 5_000;

/** Heap gauges, in order of preference: Node's used heap, then Go's in-use heap spans. */
const HEAP_METRICS = ['nodejs_heap_size_used_bytes', 'go_memstats_heap_inuse_bytes'];
const RSS_METRIC = 'process_resident_memory_bytes';

/** The value of an unlabelled gauge in Prometheus text format, or undefined. */
export function gaugeValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{\\})? ([0-9.eE+-]+)`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
}

export class MemoryProbe {
  readonly #metricsUrl: string;
  readonly #pid: number | undefined;

  /** `addr`: host:port of the server's HTTP listener (its `/metrics` must allow this client). */
  constructor(addr: string, pid?: number) {
    this.#metricsUrl = `http://${addr}/metrics`;
    this.#pid = pid;
  }

  /** One sample; undefined when neither `/metrics` nor /proc gave an RSS. */
  async sample(atMs: number): Promise<MemorySample | undefined> {
    let text = '';
    try {
      const res = await fetch(this.#metricsUrl, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
      if (res.ok) text = await res.text();
    } catch {
      // metrics not reachable: fall back to /proc below
    }
    let rss = gaugeValue(text, RSS_METRIC);
    if (rss === undefined && this.#pid !== undefined) {
      try {
        rss = parseRssKiB(readFileSync(`/proc/${this.#pid}/status`, 'utf8')) * 1024;
      } catch {
        // process gone
      }
    }
    if (rss === undefined) return undefined;
    let heap: number | undefined;
    for (const name of HEAP_METRICS) {
      heap = gaugeValue(text, name);
      if (heap !== undefined) break;
    }
    return { atMs, rssMiB: rss / MiB, ...(heap !== undefined ? { heapMiB: heap / MiB } : {}) };
  }
}
