import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { distEntry } from '../common/paths.js';
import { WsbenchError } from '../common/errors.js';

/** Extensions `--config` loads: JSON, JavaScript modules, TypeScript (bundled on the fly with esbuild). */
export const CONFIG_EXTENSIONS = ['.json', '.js', '.mjs', '.ts', '.mts'] as const;

const HINT = 'see docs/configuration.md: `export default defineConfig({ scenario: "cross-node-broadcast", options: { connections: 300 } })`';

function invalid(message: string, hint = HINT): WsbenchError {
  return new WsbenchError('WSB_CONFIG_INVALID', message, { hint });
}

function asObject(v: unknown, path: string, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalid(`config file ${path}: ${what} must be an object (got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v})`);
  }
  return v as Record<string, unknown>;
}

/** Reads a JSON config file (synchronously). Throws WSB_CONFIG_INVALID when unreadable or not an object. */
export function readJsonConfigFile(path: string): Record<string, unknown> {
  const ext = extname(path).toLowerCase();
  if (ext !== '.json' && ext !== '') {
    throw invalid(`config file ${path}: a ${ext} config is loaded asynchronously (loadConfigFile), not as JSON`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw invalid(`cannot read config file ${path}: ${(e as Error).message}`, 'check the --config path');
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw invalid(`config file ${path} is not a valid JSON object: ${(e as Error).message}`, 'the file is JSON: { "scenario": "cross-node-broadcast", "options": { "connections": 2000 }, "nodes": 3, "targets": { "latency-p99": 30 } }');
  }
  return asObject(v, path, 'the top level');
}

/**
 * `import { defineConfig } from 'wsbench'` in a config whose folder cannot resolve `wsbench` (a
 * project that runs wsbench through npx without installing it, or a config in a scratch folder):
 * the running wsbench's own entry stands in. Where the project has wsbench, its copy is used.
 */
function runningWsbench(dir: string): import('esbuild').Plugin {
  return {
    name: 'wsbench-running-package',
    setup(build) {
      build.onResolve({ filter: /^wsbench$/ }, () => {
        try {
          createRequire(join(dir, 'wsbench.config.cjs')).resolve('wsbench');
          return { path: 'wsbench', external: true };
        } catch {
          return { path: pathToFileURL(distEntry('index.js')).href, external: true };
        }
      });
    },
  };
}

/** Bundles a TypeScript config with esbuild into a temporary .mjs beside it (so its imports resolve from there), imports it, removes it. */
async function importTypeScript(abs: string): Promise<unknown> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (e) {
    throw invalid(`config file ${abs}: loading a TypeScript config needs esbuild, which cannot be loaded (${(e as Error).message})`, 'reinstall wsbench, or write the config as .mjs or .json');
  }
  let code: string;
  try {
    const out = await esbuild.build({ entryPoints: [abs], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', write: false, logLevel: 'silent', plugins: [runningWsbench(dirname(abs))] });
    code = out.outputFiles[0].text;
  } catch (e) {
    const errors = (e as { errors?: Array<{ text: string; location?: { line: number; column: number } | null }> }).errors;
    const first = errors?.[0];
    const where = first?.location ? ` (line ${first.location.line}, column ${first.location.column})` : '';
    throw invalid(`config file ${abs} does not compile: ${first ? first.text + where : (e as Error).message}`);
  }
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}-${randomBytes(4).toString('hex')}.mjs`);
  try {
    writeFileSync(tmp, code);
  } catch (e) {
    throw invalid(`config file ${abs}: cannot write its compiled form beside it (${(e as Error).message})`, 'put the config in a writable folder, or write it as .mjs or .json');
  }
  try {
    return await import(pathToFileURL(tmp).href);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

/**
 * Loads a config file: `.json`, `.js`/`.mjs` (its default export), `.ts`/`.mts` (bundled with
 * esbuild, then its default export). Throws WSB_CONFIG_INVALID when the file cannot be read,
 * does not compile, throws while loading, or does not export an object.
 */
export async function loadConfigFile(path: string): Promise<Record<string, unknown>> {
  const abs = resolve(path);
  const ext = extname(abs).toLowerCase();
  if (ext === '.json') return readJsonConfigFile(abs);
  if (!(CONFIG_EXTENSIONS as readonly string[]).includes(ext)) {
    throw invalid(`config file ${path}: unsupported extension "${ext}" (expected one of ${CONFIG_EXTENSIONS.join(', ')})`);
  }
  try {
    readFileSync(abs);
  } catch (e) {
    throw invalid(`cannot read config file ${path}: ${(e as Error).message}`, 'check the --config path');
  }
  let mod: { default?: unknown };
  try {
    mod = (ext === '.ts' || ext === '.mts' ? await importTypeScript(abs) : await import(pathToFileURL(abs).href)) as { default?: unknown };
  } catch (e) {
    if (e instanceof WsbenchError) throw e;
    throw invalid(`config file ${path} threw while loading: ${e instanceof Error ? e.message : String(e)}`, 'fix the error in the config file (it runs as a module when loaded)');
  }
  if (mod.default === undefined) throw invalid(`config file ${path} has no default export (expected \`export default defineConfig({...})\`)`);
  return asObject(mod.default, path, 'its default export');
}

/** The run picked from a config file: its scenario, its keys (shared keys merged with the named run's) and where they come from. */
export interface SelectedRun {
  scenario: string;
  values: Record<string, unknown>;
  /** For messages: `wsbench.config.ts` or `wsbench.config.ts (run "nightly")`. */
  source: string;
  /** The named run, if one was picked. */
  run?: string;
}

/** Shared keys, then the run's: `options` and `targets` merge key by key, the rest replace. */
function mergeRun(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base, ...over };
  for (const k of ['options', 'targets']) {
    const a = base[k];
    const b = over[k];
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) out[k] = { ...a, ...b };
  }
  return out;
}

/**
 * Picks what `wsbench run <name> --config <file>` runs: the named run `<name>` when the file has
 * `runs` holding it (its `scenario` key names the scenario), else the file's keys with `<name>` as
 * the scenario. Throws WSB_CONFIG_INVALID for a name that is neither a run nor (when the file has
 * runs) a scenario, a run without a scenario, or a file whose `scenario` differs from `<name>`.
 */
export function selectRun(file: Record<string, unknown>, name: string, path: string, scenarios: readonly string[]): SelectedRun {
  const { runs, ...base } = file;
  if (runs !== undefined) {
    const all = asObject(runs, path, '`runs`');
    if (Object.hasOwn(all, name)) {
      const run = asObject(all[name], path, `runs.${name}`);
      const values = mergeRun(base, run);
      if (typeof values.scenario !== 'string' || !scenarios.includes(values.scenario)) {
        throw invalid(`config file ${path}: runs.${name}.scenario: expected a scenario name (one of ${scenarios.join(', ')}), got ${JSON.stringify(values.scenario)}`);
      }
      return { scenario: values.scenario, values, source: `${path} (run "${name}")`, run: name };
    }
    if (!scenarios.includes(name)) {
      const names = Object.keys(all);
      throw invalid(`config file ${path} has no run named "${name}" (runs: ${names.length ? names.join(', ') : 'none'}), and "${name}" is not a scenario either`, `\`wsbench run <run name> --config ${path}\`, with a run name from ${path}'s \`runs\`, or a scenario: ${scenarios.join(', ')}`);
    }
  }
  if (base.scenario !== undefined && base.scenario !== name) {
    throw invalid(`config file ${path}: scenario: the file names ${JSON.stringify(base.scenario)} but the command runs "${name}"`, `drop \`scenario\` from ${path}, or run \`wsbench run ${typeof base.scenario === 'string' ? base.scenario : '<scenario>'} --config ${path}\``);
  }
  return { scenario: name, values: base, source: path };
}
