import { Reader } from 'maxmind';
import { writeMmdb } from './mmdb-writer';

describe('writeMmdb', () => {
  const db = writeMmdb(
    [
      { network: '192.0.2.0/24', data: { country: { iso_code: 'DE' }, continent: { code: 'EU' } } },
      { network: '198.51.100.7', data: { country: { iso_code: 'US' } } },
      { network: '2001:db8::/32', data: { country: { iso_code: 'JP' }, flags: [true, false], ratio: 0.5 } },
      { network: '203.0.113.0/25', data: { country: { iso_code: 'DE' }, continent: { code: 'EU' } } },
      { network: '10.0.0.0/8', data: { long: 'x'.repeat(300) } },
    ],
    { buildEpoch: 1_700_000_000 },
  );
  const reader = new Reader<Record<string, unknown>>(db);

  it('is read by the maxmind reader, IPv4 and IPv6', () => {
    expect(reader.get('192.0.2.200')).toEqual({ country: { iso_code: 'DE' }, continent: { code: 'EU' } });
    expect(reader.get('203.0.113.1')).toEqual({ country: { iso_code: 'DE' }, continent: { code: 'EU' } });
    expect(reader.get('198.51.100.7')).toEqual({ country: { iso_code: 'US' } });
    expect(reader.get('2001:db8:1::5')).toEqual({ country: { iso_code: 'JP' }, flags: [true, false], ratio: 0.5 });
    expect((reader.get('10.1.2.3') as { long: string }).long).toHaveLength(300);
  });

  it('has no record outside the networks', () => {
    expect(reader.get('198.51.100.8')).toBeNull();
    expect(reader.get('203.0.113.200')).toBeNull();
    expect(reader.get('2001:db9::1')).toBeNull();
  });

  it('writes the metadata readers check', () => {
    expect(reader.metadata).toMatchObject({ ipVersion: 6, recordSize: 24, databaseType: 'GeoLite2-Country', binaryFormatMajorVersion: 2 });
    expect(reader.metadata.buildEpoch.getTime()).toBe(1_700_000_000_000);
  });

  it('refuses overlapping networks', () => {
    expect(() => writeMmdb([{ network: '192.0.2.0/24', data: 'a' }, { network: '192.0.2.1', data: 'b' }])).toThrow('overlapping');
  });
});
