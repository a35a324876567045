import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

describe('the public API (index.ts)', () => {
  it('exports what a user composes, and nothing internal', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'CONFIG_DEFAULTS',
        'ExternalDriver',
        'LocalDriver',
        'REFERENCE_PROFILES',
        'SCENARIOS',
        'WsbenchError',
        'compareReports',
        'createDockerDriver',
        'defineConfig',
        'defineScenario',
        'exitCodeFor',
        'isWsbenchError',
        'loadConfigFile',
        'readReport',
        'renderComparison',
        'renderConsole',
        'renderHtml',
        'renderJunit',
        'run',
        'validateReport',
      ].sort(),
    );
  });

  it('run() refuses a config without a scenario before starting anything (WSB_CONFIG_INVALID)', async () => {
    await expect(api.run({} as never)).rejects.toMatchObject({ code: 'WSB_CONFIG_INVALID' });
    await expect(api.run({ scenario: 'cross-node-broadcast', nodez: 2 } as never)).rejects.toMatchObject({ code: 'WSB_CONFIG_INVALID', message: expect.stringContaining('nodez: unknown key') });
  });

  it('no source file imports the package entry (index.ts): it is for users, and tests of the public API', () => {
    const entry = join(ROOT, 'index.js');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        if (['node_modules', 'dist', '.git', 'wsbench-results'].includes(name)) continue;
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|mts|js|mjs)$/.test(name) && !/\.test\.ts$/.test(name)) {
          for (const m of readFileSync(p, 'utf8').matchAll(/from\s+['"](\.{1,2}\/[^'"]*)['"]/g)) if (resolve(dirname(p), m[1]) === entry) offenders.push(`${p}: ${m[1]}`);
        }
      }
    };
    walk(ROOT);
    expect(offenders).toEqual([]);
  });
});
