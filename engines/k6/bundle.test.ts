import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../common/paths.js';
import { k6ModuleAliases, parseK6Version } from './binary.js';
import { bundleK6Script } from './bundle.js';
import { K6_ADAPTERS } from './scenarios.js';

const run = promisify(execFile);
const v = (s: string) => k6ModuleAliases(parseK6Version(`k6 ${s}`)!);

/** Every `import … from "x"` of an ES module, and any `require(` call. */
function importsOf(code: string): { from: string[]; requires: number } {
  const from = [...code.matchAll(/^\s*import\s[^;]*?from\s*["']([^"']+)["'];?/gm)].map((m) => m[1]);
  const bare = [...code.matchAll(/^\s*import\s*["']([^"']+)["'];?/gm)].map((m) => m[1]);
  return { from: [...from, ...bare].sort(), requires: (code.match(/\brequire\(/g) ?? []).length };
}

describe('the k6 scripts type-check against @types/k6', () => {
  it('tsc --noEmit -p engines/k6/scripts/tsconfig.json (k6 types only, no Node globals) reports no error', async () => {
    const root = packageRoot();
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '--noEmit', '-p', join(root, 'engines', 'k6', 'scripts', 'tsconfig.json')], { cwd: root }).then(
      (x) => ({ code: 0, out: x.stdout + x.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('bundling a k6 script with esbuild', () => {
  const out = mkdtempSync(join(tmpdir(), 'wsb-k6-bundle-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  for (const scenario of Object.keys(K6_ADAPTERS)) {
    it(`${scenario}: an ES module importing only k6 modules, websockets aliased for k6 v0.48 and for v1.6+`, async () => {
      const old = await bundleK6Script(scenario, v('v0.48.0'), join(out, `${scenario}-0.48.js`));
      const code = readFileSync(old.path, 'utf8');
      const imports = importsOf(code);
      expect(imports.requires).toBe(0);
      expect(imports.from.every((m) => m === 'k6' || m.startsWith('k6/'))).toBe(true);
      expect(imports.from).toContain('k6/experimental/websockets');
      expect(imports.from).toContain('k6/experimental/timers');
      expect(imports.from).not.toContain('k6/websockets');
      expect(old.imports).toEqual([...new Set(imports.from)].sort());
      expect(code).toMatch(/^export \{[^}]*\bhandleSummary\b/m);
      expect(code).toMatch(/\bas default\b/);
      expect(code).toMatch(/\boptions\b/);

      const modern = await bundleK6Script(scenario, v('v1.6.0'), join(out, `${scenario}-1.6.js`));
      const mi = importsOf(readFileSync(modern.path, 'utf8'));
      expect(mi.from).toContain('k6/websockets');
      expect(mi.from).toContain('k6/timers');
      expect(mi.from.filter((m) => m.startsWith('k6/experimental/'))).toEqual([]);
    });
  }

  it('lowers the TypeScript to JavaScript an ES2017 runtime parses (no class fields, no ?? or ?.)', async () => {
    const b = await bundleK6Script('cross-node-broadcast', v('v0.48.0'), join(out, 'lowered.js'));
    const code = readFileSync(b.path, 'utf8').replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/\?\?|\?\.\s*[\w([]/);
    expect(code).not.toMatch(/:\s*(string|number|boolean)\b[),;=]/); // no type annotations left
  });

  it('refuses a script importing a package k6 cannot load', async () => {
    const src = join(out, 'bad.ts');
    writeFileSync(src, "import { z } from 'zod';\nexport default function () { z.string(); }\n");
    await expect(bundleK6Script('bad', {}, join(out, 'bad.js'), src)).rejects.toMatchObject({
      code: 'WSB_INTERNAL',
      message: expect.stringContaining('k6 scripts may import only k6 modules and their own files, not "zod"'),
    });
  });

  it('refuses a scenario without a k6 script with WSB_INVALID_OPTION', async () => {
    await expect(bundleK6Script('no-such-scenario', {}, join(out, 'x.js'))).rejects.toMatchObject({ code: 'WSB_INVALID_OPTION' });
  });
});
