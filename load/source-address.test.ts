import { describe, expect, it } from 'vitest';
import { sourceAddressFor, THIRD_OCTETS } from './source-address.js';

describe('sourceAddressFor', () => {
  it('varies the third octet first, because nginx ip_hash hashes only the first three octets', () => {
    expect(sourceAddressFor(0)).toBe('127.0.1.1');
    expect(sourceAddressFor(1)).toBe('127.0.2.1');
    expect(sourceAddressFor(THIRD_OCTETS - 1)).toBe(`127.0.${THIRD_OCTETS}.1`);
    expect(sourceAddressFor(THIRD_OCTETS)).toBe('127.0.1.2');
  });

  it('stays inside 127.0.0.0/8 with valid octets and keeps each address under the per-pair port range', () => {
    const counts = new Map<string, number>();
    const bad: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const a = sourceAddressFor(i);
      const [o1, o2, o3, o4] = a.split('.').map(Number);
      if (o1 !== 127 || o2 !== 0 || o3 < 1 || o3 > 254 || o4 < 1 || o4 > 254) bad.push(a);
      counts.set(a, (counts.get(a) ?? 0) + 1);
    }
    expect(bad).toEqual([]);
    expect(Math.max(...counts.values())).toBeLessThan(28_232);
  });
});
