const BLOCK = 512;

/**
 * The first regular file of a tar archive whose name ends with `suffix` (MaxMind ships
 * `GeoLite2-Country_<date>/GeoLite2-Country.mmdb` in a tar.gz), or undefined. Reads ustar and
 * old-style headers; GNU long names and pax headers are skipped over (MaxMind's names are short).
 */
export function findTarMember(archive: Buffer, suffix: string): Buffer | undefined {
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return undefined; // end-of-archive marker
    const size = parseInt(cString(header, 124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) throw new Error('tar: invalid member size');
    const type = String.fromCharCode(header[156]!);
    const prefix = cString(header, 257, 6) === 'ustar' ? cString(header, 345, 155) : '';
    const name = prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100);
    const start = offset + BLOCK;
    if (start + size > archive.length) throw new Error('tar: truncated archive');
    if ((type === '0' || type === '\0') && name.endsWith(suffix)) return archive.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return undefined;
}

function cString(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}
