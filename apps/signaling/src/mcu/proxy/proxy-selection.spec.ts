import { continentsOf, isValidCountry } from './continents';
import { allowsIncoming, allowsOutgoing, sortByLoad, sortByUsage, sortForCountry, type Placeable } from './proxy-selection';
import { proxyWebSocketUrl, withAddress } from './proxy-url';

const p = (name: string, load: number, country = '', bandwidth?: Placeable['bandwidth']): Placeable & { name: string } => ({ name, load, country, bandwidth });
const names = (list: { name: string }[]) => list.map((x) => x.name);

describe('proxy placement order', () => {
  it('sorts by load, keeping the configured order for equal loads', () => {
    expect(names(sortByLoad([p('a', 5), p('b', 1), p('c', 5), p('d', 0)]))).toEqual(['d', 'b', 'a', 'c']);
  });

  it('puts the same country first, then the same or a mapped continent, then the rest', () => {
    const list = [p('us', 0, 'US'), p('jp', 1, 'JP'), p('fr', 2, 'FR'), p('none', 3), p('de', 4, 'DE')];
    expect(names(sortForCountry(list, 'DE', {}))).toEqual(['de', 'fr', 'us', 'jp', 'none']);
    expect(names(sortForCountry(list, 'KR', {}))).toEqual(['jp', 'us', 'fr', 'none', 'de']);
    expect(names(sortForCountry(list, 'ZA', {}))).toEqual(['us', 'jp', 'fr', 'none', 'de']);
    expect(names(sortForCountry(list, 'ZA', { AF: ['EU'] }))).toEqual(['fr', 'de', 'us', 'jp', 'none']);
    for (const unknown of [undefined, '', 'unknown-country', 'loopback', 'de']) expect(names(sortForCountry(list, unknown, {}))).toEqual(names(list));
  });

  it('respects bandwidth limits and orders the fallback by usage', () => {
    expect(allowsIncoming(p('x', 0))).toBe(true);
    expect(allowsIncoming(p('x', 0, '', { incoming: 99.9 }))).toBe(true);
    expect(allowsIncoming(p('x', 0, '', { incoming: 100 }))).toBe(false);
    expect(allowsOutgoing(p('x', 0, '', { incoming: 100 }))).toBe(true);
    expect(allowsOutgoing(p('x', 0, '', { outgoing: 150 }))).toBe(false);
    const list = [p('a', 0, '', { incoming: 150 }), p('b', 0), p('c', 0, '', { incoming: 110 }), p('d', 0, '', {})];
    expect(names(sortByUsage(list, 'incoming'))).toEqual(['d', 'c', 'a']);
  });

  it('knows continents of countries', () => {
    expect(continentsOf('DE')).toEqual(['EU']);
    expect(continentsOf('BR')).toEqual(['SA']);
    expect(continentsOf('XX')).toEqual([]);
    expect(isValidCountry('DE')).toBe(true);
    expect(isValidCountry('no-country')).toBe(false);
  });
});

describe('proxy URLs', () => {
  it('resolves `proxy` below the base and maps http(s) to ws(s)', () => {
    expect(proxyWebSocketUrl('https://host/').href).toBe('wss://host/proxy');
    expect(proxyWebSocketUrl('http://host:8080/base/').href).toBe('ws://host:8080/base/proxy');
    expect(proxyWebSocketUrl('http://host/base').href).toBe('ws://host/proxy');
    expect(proxyWebSocketUrl('ws://host/').href).toBe('ws://host/proxy');
    expect(() => proxyWebSocketUrl('ftp://host/')).toThrow('unsupported proxy URL scheme');
    expect(withAddress(proxyWebSocketUrl('https://host:9/'), '10.0.0.1').href).toBe('wss://10.0.0.1:9/proxy');
    expect(withAddress(proxyWebSocketUrl('https://host/'), '::1').href).toBe('wss://[::1]/proxy');
  });
});
