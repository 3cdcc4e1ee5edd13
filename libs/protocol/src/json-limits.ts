/**
 * Limits on JSON that enters from outside (client frames, backend API bodies, bus messages,
 * federation peers, Nextcloud answers), applied once where the text is decoded.
 *
 * Why a depth limit: V8's `JSON.parse` decodes any depth, but `JSON.stringify` (and every other
 * recursive walk) throws `RangeError: Maximum call stack size exceeded` from about 4,000 levels
 * on Node 20. A value accepted at parse time and stringified later (transient data, relayed
 * messages, the bus) would throw far from where it came in. Go's decoder refuses deep input at
 * parse time (`encoding/json`: 10,000 levels); ours has to stay well below V8's stack, so the
 * limit is lower. No Talk client nests deeper than a dozen levels.
 */

/**
 * Deepest nesting of arrays/objects accepted (the top-level value counts as level 1). 100
 * leaves room below the bus's own limit (`libs/nats-bus`, 128) for the few levels the server
 * adds when it wraps a client's data for another node, so what one node accepts every node
 * delivers.
 */
export const MAX_JSON_DEPTH = 100;

export interface JsonLimits {
  /** Deepest nesting accepted; default {@link MAX_JSON_DEPTH}. */
  maxDepth?: number;
  /** Longest input accepted, in bytes for buffers and UTF-16 code units for strings; default none. */
  maxLength?: number;
}

/** Why decoding failed: the input is too long, too deep, or not JSON. */
export type JsonFailure = { ok: false; kind: 'too-long' | 'too-deep' | 'syntax'; reason: string };

const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Whether `text` nests arrays/objects deeper than `maxDepth`, counting brackets outside
 * strings. No allocation; string contents are skipped with `indexOf` (native, fast), so a frame
 * that is mostly one SDP string costs about a tenth of its `JSON.parse`. Buffers are scanned as
 * bytes (`[`, `]`, `{`, `}`, `"` and `\` never occur inside a UTF-8 multi-byte sequence).
 *
 * A valid JSON text of depth d is at least 2d characters long, so shorter input is not
 * scanned at all: most client frames cost nothing here. Malformed input (unbalanced brackets,
 * an unterminated string) is left to the parser, which rejects it without recursion.
 */
export function jsonNestsDeeperThan(text: string | Uint8Array, maxDepth: number): boolean {
  if (text.length <= 2 * maxDepth) return false;
  return typeof text === 'string' ? stringNestsDeeper(text, maxDepth) : bytesNestDeeper(text, maxDepth);
}

function stringNestsDeeper(text: string, maxDepth: number): boolean {
  const length = text.length;
  let depth = 0;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i++);
    if (c === QUOTE) {
      // Skip the string: find a quote preceded by an even number of backslashes.
      const from = i;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote < 0) return false;
        let b = quote - 1;
        while (b >= from && text.charCodeAt(b) === BACKSLASH) b--;
        i = quote + 1;
        if (((quote - 1 - b) & 1) === 0) break;
      }
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
  return false;
}

function bytesNestDeeper(text: Uint8Array, maxDepth: number): boolean {
  const length = text.length;
  let depth = 0;
  let i = 0;
  while (i < length) {
    const c = text[i++];
    if (c === QUOTE) {
      const from = i;
      for (;;) {
        const quote = text.indexOf(QUOTE, i);
        if (quote < 0) return false;
        let b = quote - 1;
        while (b >= from && text[b] === BACKSLASH) b--;
        i = quote + 1;
        if (((quote - 1 - b) & 1) === 0) break;
      }
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
  return false;
}

/**
 * `JSON.parse` behind the limits: never throws, and a value it returns can be stringified and
 * walked safely. Buffers are decoded as UTF-8.
 */
export function parseJsonLimited(text: string | Buffer, limits: JsonLimits = {}): { ok: true; value: unknown } | JsonFailure {
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  if (limits.maxLength !== undefined && text.length > limits.maxLength) {
    return { ok: false, kind: 'too-long', reason: `JSON text longer than ${limits.maxLength}` };
  }
  if (jsonNestsDeeperThan(text, maxDepth)) {
    return { ok: false, kind: 'too-deep', reason: `JSON nested deeper than ${maxDepth} levels` };
  }
  try {
    return { ok: true, value: JSON.parse(typeof text === 'string' ? text : text.toString('utf8')) };
  } catch (err) {
    return { ok: false, kind: 'syntax', reason: `invalid JSON: ${(err as Error).message}` };
  }
}
