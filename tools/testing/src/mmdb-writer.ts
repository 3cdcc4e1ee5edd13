import { isIP } from 'node:net';

/**
 * A minimal MaxMind DB (format 2.0) writer for tests: a few networks, each with a JSON-like
 * record, in an IPv6 tree with 24-bit records (IPv4 networks live at `::a.b.c.d`, where readers
 * look IPv4 addresses up). Written from the public format specification
 * (https://maxmind.github.io/MaxMind-DB/) so tests need neither a download nor a Perl toolchain.
 * Overlapping networks are rejected; only what the tests need is encoded.
 */

/** A record value: strings, non-negative integers, doubles, booleans, arrays and maps. */
export type MmdbValue = string | number | boolean | MmdbValue[] | { [key: string]: MmdbValue };

export interface MmdbNetwork {
  /** `a.b.c.d/len` or `v6::/len` (a bare address means a single host). */
  network: string;
  data: MmdbValue;
}

export interface MmdbOptions {
  /** `database_type` metadata; default `GeoLite2-Country`. */
  databaseType?: string;
  /** `build_epoch` metadata (seconds); default now. */
  buildEpoch?: number;
}

/** The MaxMind DB file for `networks`. */
export function writeMmdb(networks: readonly MmdbNetwork[], opts: MmdbOptions = {}): Buffer {
  const root: TreeNode = { children: [undefined, undefined] };
  const data = new DataSection();
  for (const { network, data: value } of networks) insert(root, networkBits(network), data.add(value));

  // Number the nodes breadth-first; the root is node 0.
  const order: TreeNode[] = [root];
  for (let i = 0; i < order.length; i++) {
    for (const child of order[i]!.children) if (typeof child === 'object') order.push(child);
  }
  const index = new Map(order.map((node, i) => [node, i]));
  const nodeCount = order.length;
  if (nodeCount + 16 + data.size >= 2 ** 24) throw new Error('mmdb-writer: too large for 24-bit records');
  const tree = Buffer.alloc(nodeCount * 6);
  order.forEach((node, i) => {
    node.children.forEach((child, side) => {
      // A record names a node, "no data" (= node count), or data at (value − node count − 16).
      const value = child === undefined ? nodeCount : typeof child === 'object' ? index.get(child)! : nodeCount + 16 + child;
      tree.writeUIntBE(value, i * 6 + side * 3, 3);
    });
  });

  const metadata = encode({
    node_count: nodeCount,
    record_size: { uint16: 24 },
    ip_version: { uint16: 6 },
    database_type: opts.databaseType ?? 'GeoLite2-Country',
    languages: ['en'],
    binary_format_major_version: { uint16: 2 },
    binary_format_minor_version: { uint16: 0 },
    build_epoch: { uint64: opts.buildEpoch ?? Math.floor(Date.now() / 1000) },
    description: { en: 'talk-signaling test database' },
  } as unknown as MmdbValue);
  return Buffer.concat([tree, Buffer.alloc(16), data.bytes(), METADATA_MARKER, metadata]);
}

const METADATA_MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');

interface TreeNode {
  /** Child per bit: a node, a data offset, or nothing. */
  children: [TreeNode | number | undefined, TreeNode | number | undefined];
}

function insert(root: TreeNode, bits: number[], dataOffset: number): void {
  if (bits.length === 0) throw new Error('mmdb-writer: a /0 network is not supported');
  let node = root;
  for (let depth = 0; depth < bits.length - 1; depth++) {
    const child = node.children[bits[depth]!];
    if (typeof child === 'number') throw new Error('mmdb-writer: overlapping networks');
    if (child === undefined) {
      const next: TreeNode = { children: [undefined, undefined] };
      node.children[bits[depth]!] = next;
      node = next;
    } else node = child;
  }
  if (node.children[bits.at(-1)!] !== undefined) throw new Error('mmdb-writer: overlapping networks');
  node.children[bits.at(-1)!] = dataOffset;
}

/** The first `prefix` bits of the network's 128-bit (IPv4: `::a.b.c.d`) address. */
function networkBits(network: string): number[] {
  const [address, len] = network.split('/') as [string, string | undefined];
  const family = isIP(address);
  if (family === 0) throw new Error(`mmdb-writer: not an address: ${address}`);
  const bytes = family === 4 ? [...Array(12).fill(0), ...address.split('.').map(Number)] : ipv6Bytes(address);
  const prefix = (family === 4 ? 96 : 0) + (len === undefined ? (family === 4 ? 32 : 128) : Number(len));
  const bits: number[] = [];
  for (let i = 0; i < prefix; i++) bits.push((bytes[i >> 3]! >> (7 - (i & 7))) & 1);
  return bits;
}

function ipv6Bytes(address: string): number[] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** The data section: each value encoded once (its offset is what the tree points at). */
class DataSection {
  readonly #chunks: Buffer[] = [];
  readonly #offsets = new Map<string, number>();
  size = 0;

  add(value: MmdbValue): number {
    const key = JSON.stringify(value);
    const known = this.#offsets.get(key);
    if (known !== undefined) return known;
    const bytes = encode(value);
    const offset = this.size;
    this.#chunks.push(bytes);
    this.size += bytes.length;
    this.#offsets.set(key, offset);
    return offset;
  }

  bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

// Data types of the format (1–7 fit the control byte; 8 and up are "extended").
const enum Type {
  Utf8 = 2,
  Double = 3,
  Uint16 = 5,
  Uint32 = 6,
  Map = 7,
  Uint64 = 9,
  Array = 11,
  Boolean = 14,
}

/** Encodes a value; `{uint16: n}` / `{uint64: n}` force those integer types (metadata). */
function encode(value: MmdbValue): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(Type.Utf8, bytes.length), bytes]);
  }
  if (typeof value === 'boolean') return control(Type.Boolean, value ? 1 : 0);
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value < 2 ** 32) return unsigned(Type.Uint32, value);
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(value);
    return Buffer.concat([control(Type.Double, 8), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([control(Type.Array, value.length), ...value.map(encode)]);
  const entries = Object.entries(value);
  if (entries.length === 1 && (entries[0]![0] === 'uint16' || entries[0]![0] === 'uint64') && typeof entries[0]![1] === 'number') {
    return unsigned(entries[0]![0] === 'uint16' ? Type.Uint16 : Type.Uint64, entries[0]![1]);
  }
  return Buffer.concat([control(Type.Map, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}

function unsigned(type: Type, value: number): Buffer {
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
}

/** Control byte (type in the top 3 bits, size in the low 5), extended type byte, size bytes. */
function control(type: Type, size: number): Buffer {
  const out: number[] = [];
  let sizeBits: number;
  const extra: number[] = [];
  if (size < 29) sizeBits = size;
  else if (size < 29 + 256) {
    sizeBits = 29;
    extra.push(size - 29);
  } else if (size < 285 + 65536) {
    sizeBits = 30;
    extra.push((size - 285) >> 8, (size - 285) & 0xff);
  } else {
    sizeBits = 31;
    const rest = size - 65821;
    extra.push((rest >> 16) & 0xff, (rest >> 8) & 0xff, rest & 0xff);
  }
  if (type <= 7) out.push((type << 5) | sizeBits);
  else out.push(sizeBits, type - 7);
  return Buffer.from([...out, ...extra]);
}
