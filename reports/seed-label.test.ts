import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SEED_TITLES, seedLabel, seedShort } from './seed-label.js';
import { SEED_TARGETS } from '../model/targets.js';

describe('seed labels', () => {
  it('every title is the first heading of its seed document (fixtures/seeds/)', () => {
    for (const [file, title] of Object.entries(SEED_TITLES)) {
      const firstLine = readFileSync(new URL(`../fixtures/seeds/${file}`, import.meta.url), 'utf8').split('\n')[0];
      expect(firstLine.startsWith('# ')).toBe(true);
      expect(firstLine).toContain(title);
    }
  });

  it('every target source has a title', () => {
    for (const t of Object.values(SEED_TARGETS)) expect(SEED_TITLES[t.source.seed], t.id).toBeDefined();
  });

  it('names a seed by number and title, and leaves another source as it is', () => {
    expect(seedLabel('004_ef208ec7b515aee1.txt')).toBe('seed 004 · WebSocket Implementation for Real-Time Communication');
    expect(seedShort('004_ef208ec7b515aee1.txt')).toBe('seed 004');
    expect(seedLabel('wsbench.config.ts')).toBe('wsbench.config.ts');
    expect(seedShort('wsbench.config.ts')).toBe('wsbench.config.ts');
  });
});
