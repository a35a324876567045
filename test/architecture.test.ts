/**
 * The import boundaries of docs/architecture.md, read from the code itself: every relative import
 * of every .ts file (tests excepted: a test may reach across layers to check them together) is
 * resolved to its folder and checked against the rules below. A failure names the file and the
 * import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP_DIRS = new Set(['node_modules', 'dist', 'fixtures', '.git', 'wsbench-results']);

interface SourceFile {
  /** Repo-relative, `/`-separated. */
  path: string;
  text: string;
}

interface Import {
  file: string;
  spec: string;
  /** Repo-relative target of a relative import; undefined for a package or a node: builtin. */
  target?: string;
}

function walk(dir: string, out: SourceFile[] = []): SourceFile[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(join(dir, e.name), out);
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
      const full = join(dir, e.name);
      out.push({ path: relative(ROOT, full).split(sep).join('/'), text: readFileSync(full, 'utf8') });
    }
  }
  return out;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

export function importsOf(f: SourceFile): Import[] {
  const out: Import[] = [];
  for (const m of f.text.matchAll(IMPORT)) {
    const spec = m[1];
    out.push(spec.startsWith('.') ? { file: f.path, spec, target: posix.normalize(posix.join(posix.dirname(f.path), spec)) } : { file: f.path, spec });
  }
  return out;
}

/** The top folder of a repo-relative path ('' for a file at the root). */
const top = (p: string) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : '');
const isTest = (p: string) => p.endsWith('.test.ts') || p.startsWith('test/');

type Rule = { name: string; bad: (from: string, to: string) => boolean };

/** from → to folders that must never meet (top-level folders of the repository). */
export const RULES: Rule[] = [
  { name: 'reports/ → load/', bad: (f, t) => f === 'reports' && t === 'load' },
  { name: 'load/ → reports/', bad: (f, t) => f === 'load' && t === 'reports' },
  { name: 'load/ → cluster/', bad: (f, t) => f === 'load' && t === 'cluster' },
  // The root index.ts is the package's entry, above the CLI; bin/ launches it.
  { name: 'below the CLI → cli/', bad: (f, t) => t === 'cli' && f !== 'cli' && f !== '' && f !== 'bin' },
  { name: 'model/ → anything but model/ and common/', bad: (f, t) => f === 'model' && t !== 'model' && t !== 'common' },
  { name: 'reference-server/ → harness code', bad: (f, t) => f === 'reference-server' && t !== 'reference-server' },
];

export function importViolations(files: SourceFile[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    if (isTest(f.path)) continue;
    for (const i of importsOf(f)) {
      if (i.target === undefined) continue;
      for (const r of RULES) if (r.bad(top(i.file), top(i.target))) out.push(`${r.name}: ${i.file} imports '${i.spec}'`);
    }
  }
  return out;
}

/** Folders whose code runs inside a caller's process: only cli/ talks to the terminal or ends the process. */
const QUIET = new Set(['runner', 'engines', 'cluster', 'scenarios', 'load', 'model', 'reports']);
/** Programs of their own (child-process entry points): they own their process. */
const ENTRY_POINTS = new Set(['load/worker.ts']);
const LOUD = [/\bprocess\.stdout\b/, /\bprocess\.exit\s*\(/];

export function terminalViolations(files: SourceFile[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    if (isTest(f.path) || !QUIET.has(top(f.path)) || ENTRY_POINTS.has(f.path)) continue;
    f.text.split('\n').forEach((line, n) => {
      if (line.trim().startsWith('//') || line.trim().startsWith('*')) return;
      for (const re of LOUD) if (re.test(line)) out.push(`${f.path}:${n + 1} uses ${re.source.replace(/\\[bs(]|\\s\*/g, '').replace(/\\\./g, '.')}: ${line.trim()}`);
    });
  }
  return out;
}

describe('architecture: import boundaries (docs/architecture.md)', () => {
  const files = walk(ROOT);

  it('reads the project: every layer has source files and relative imports', () => {
    const folders = new Set(files.map((f) => top(f.path)));
    for (const d of ['cli', 'runner', 'engines', 'cluster', 'scenarios', 'load', 'model', 'reports', 'calibrate', 'reference-server', 'common']) expect(folders, d).toContain(d);
    expect(files.flatMap(importsOf).filter((i) => i.target !== undefined).length).toBeGreaterThan(200);
  });

  it('no import crosses a forbidden boundary', () => {
    expect(importViolations(files)).toEqual([]);
  });

  it('below the CLI nothing writes to process.stdout or calls process.exit', () => {
    expect(terminalViolations(files)).toEqual([]);
  });

  it('the checks catch what they are for (each rule, named with the file and the import)', () => {
    const fake: SourceFile[] = [
      { path: 'reports/a.ts', text: "import { x } from '../load/histogram.js';" },
      { path: 'load/b.ts', text: "import type { R } from '../reports/run-report.js';\nimport { findBinary } from '../cluster/binaries.js';" },
      { path: 'runner/c.ts', text: "export { y } from '../cli/plan.js';" },
      { path: 'model/d.ts', text: "const m = await import('../scenarios/index.js');" },
      { path: 'reference-server/e.ts', text: "import '../common/errors.js';" },
      { path: 'cli/ok.ts', text: "import { run } from '../runner/run.js';\nimport { z } from 'zod';" },
      { path: 'model/ok.ts', text: "import { WsbenchError } from '../common/errors.js';\nimport { x } from './y.js';" },
      { path: 'cluster/test-only.test.ts', text: "import { buildPlan } from '../cli/plan.js';" },
    ];
    expect(importViolations(fake)).toEqual([
      "reports/ → load/: reports/a.ts imports '../load/histogram.js'",
      "load/ → reports/: load/b.ts imports '../reports/run-report.js'",
      "load/ → cluster/: load/b.ts imports '../cluster/binaries.js'",
      "below the CLI → cli/: runner/c.ts imports '../cli/plan.js'",
      "model/ → anything but model/ and common/: model/d.ts imports '../scenarios/index.js'",
      "reference-server/ → harness code: reference-server/e.ts imports '../common/errors.js'",
    ]);
    const loud = terminalViolations([
      { path: 'runner/x.ts', text: "process.stdout.write('hi');\n// process.exit(1) in a comment is fine\nprocess.exit(2);" },
      { path: 'cli/y.ts', text: 'process.exit(1);' },
    ]);
    expect(loud.map((l) => l.split(' uses ')[0])).toEqual(['runner/x.ts:1', 'runner/x.ts:3']);
  });
});
