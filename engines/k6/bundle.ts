/**
 * Bundles a wsbench k6 script (engines/k6/scripts/<scenario>.ts) into one ES module k6 can run: esbuild
 * strips the types and inlines the script's own files (lib/), keeps every `k6` / `k6/*` import
 * external, renamed for the k6 at hand (k6ModuleAliases: `k6/websockets` becomes
 * `k6/experimental/websockets` before k6 v1.6, `k6/timers` becomes `k6/experimental/timers`
 * before v0.50), and refuses any other package import (k6 cannot load npm packages).
 */
import { build, type Plugin } from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WsbenchError } from '../../common/errors.js';
import { packageRoot } from '../../common/paths.js';

/**
 * JavaScript level of the bundle: k6's runtimes (goja, then sobek) run ES2017 and up; esbuild
 * lowers anything newer the scripts use (class fields, `??`, `?.`, `??=`).
 */
export const K6_BUNDLE_TARGET = 'es2017';

export function k6ScriptSource(scenario: string): string {
  return join(packageRoot(), 'engines', 'k6', 'scripts', `${scenario}.ts`);
}

function k6Modules(aliases: Record<string, string>, imports: Set<string>): Plugin {
  return {
    name: 'wsbench-k6-modules',
    setup(b) {
      b.onResolve({ filter: /^k6(\/|$)/ }, (args) => {
        const path = aliases[args.path] ?? args.path;
        imports.add(path);
        return { path, external: true };
      });
      b.onResolve({ filter: /^[^./]/ }, (args) => ({
        errors: [{ text: `k6 scripts may import only k6 modules and their own files, not "${args.path}"` }],
      }));
    },
  };
}

export interface BundledScript {
  path: string;
  /** k6 modules the bundle imports, after renaming. */
  imports: string[];
}

/** Bundles `engines/k6/scripts/<scenario>.ts` to `outFile` with the module names of this k6. */
export async function bundleK6Script(scenario: string, aliases: Record<string, string>, outFile: string, source = k6ScriptSource(scenario)): Promise<BundledScript> {
  if (!existsSync(source)) {
    throw new WsbenchError('WSB_INVALID_OPTION', `scenario ${scenario} has no k6 script (${source})`, { hint: 'run it with the Node engine (without --engine k6)' });
  }
  mkdirSync(dirname(outFile), { recursive: true });
  const imports = new Set<string>();
  try {
    await build({
      entryPoints: [source],
      outfile: outFile,
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: K6_BUNDLE_TARGET,
      sourcemap: false,
      minify: false,
      logLevel: 'silent',
      legalComments: 'none',
      banner: { js: `// wsbench k6 script ${scenario}, bundled by wsbench (engines/k6/bundle.ts) from ${source}` },
      plugins: [k6Modules(aliases, imports)],
    });
  } catch (e) {
    const errors = (e as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors;
    const detail = errors?.length ? errors.map((x) => `${x.location ? `${x.location.file}:${x.location.line}: ` : ''}${x.text}`).join('; ') : (e as Error).message;
    throw new WsbenchError('WSB_INTERNAL', `cannot bundle the k6 script ${source}: ${detail}`, { hint: 'this is a wsbench bug; run with --debug and report it', cause: e });
  }
  return { path: outFile, imports: [...imports].sort() };
}
