/**
 * wsbench as an installed package: `npm pack` the project, install the tarball into a fresh
 * project (dependencies from the npm cache or registry), and run examples/library/run-broadcast.mjs
 * there — `import { run, defineConfig } from 'wsbench'` — against a small real cluster. The report
 * must account for every delivery, the example's exit code must follow the report, and no process
 * of the run may be left.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPORT_SCHEMA_PATH, validateReport } from '../../model/schema.js';
import { k6ScriptSource } from '../../engines/k6/bundle.js';
import { packageRoot } from '../../common/paths.js';
import type { RunReport } from '../../model/run-report.js';
import { describePids, newTag, waitNoRunProcesses } from './support/run-processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples', 'library', 'run-broadcast.mjs');

function sh(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

function node(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the packed package, installed into a project, run from code', () => {
  it('npm pack → npm install <tarball> → examples/library/run-broadcast.mjs: every delivery accounted, exit code from the report, nothing left', async () => {
    expect(existsSync(join(ROOT, 'dist', 'index.js')), 'build first: npx tsc -p tsconfig.json').toBe(true);
    const work = mkdtempSync(join(tmpdir(), 'wsb-pack-'));
    // --ignore-scripts: dist/ is already built (prepare would build it again).
    const packed = JSON.parse(sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = new Set(packed[0].files.map((f) => f.path));
    // What the runtime needs: the compiled code, the bin, the schema the report is checked against, the k6 scripts it bundles.
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'bin/wsbench.js', 'dist/cli/main.js', 'dist/load/worker.js', 'dist/reference-server/main.js', REPORT_SCHEMA_PATH, 'examples/library/run-broadcast.mjs', relative(packageRoot(), k6ScriptSource('cross-node-broadcast'))]) {
      expect(files.has(f), f).toBe(true);
    }
    expect([...files].filter((f) => /\.test\.|^dist\/bench\/|\.map$|^node_modules\//.test(f))).toEqual([]);

    const project = join(work, 'project');
    sh('mkdir', ['-p', project], work);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-wsbench', private: true, type: 'module' }));
    sh('npm', ['install', join(work, packed[0].filename), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], project);
    expect(existsSync(join(project, 'node_modules', 'wsbench', 'dist', 'index.js'))).toBe(true);
    copyFileSync(EXAMPLE, join(project, 'run-broadcast.mjs'));

    const out = join(work, 'out');
    const tag = newTag();
    const r = await node(['run-broadcast.mjs'], project, { ...process.env, WSBENCH_OUT: out, WSB_TEST_TAG: tag });
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    expect(validateReport(report)).toEqual([]);
    expect(report.tool.name).toBe('wsbench');
    expect(report.config).toMatchObject({ scenario: 'cross-node-broadcast', nodes: 2, options: { connections: 60, rooms: 2 } });
    expect(report.accounting.expected).toBeGreaterThan(0);
    expect(report.accounting.received).toBe(report.accounting.expected);
    expect(report.accounting.lost).toBe(0);
    expect(report.accounting.duplicated).toBe(0);
    // The example gates on the report: 0 when every target held, 1 when one missed.
    expect(r.code, r.stderr.slice(-2000)).toBe(report.verdict === 'pass' ? 0 : 1);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { verdict: string; expected: number; received: number; lost: number };
    expect(summary).toMatchObject({ verdict: report.verdict, expected: report.accounting.expected, received: report.accounting.received, lost: 0 });
    // The nodes and load workers ran from the installed package, not from this checkout.
    expect(r.stderr).toContain('cluster up: ');
    const pids = JSON.parse(readFileSync(join(out, 'pids.json'), 'utf8')) as { processes: Array<{ cmdline: string }> };
    const installed = join(project, 'node_modules', 'wsbench', 'dist');
    expect(pids.processes.filter((p) => p.cmdline.includes(join(installed, 'reference-server'))).length).toBe(2);
    expect(pids.processes.filter((p) => p.cmdline.includes(join(installed, 'load', 'worker.js'))).length).toBe(1);
    expect(pids.processes.filter((p) => p.cmdline.includes(ROOT)).map((p) => p.cmdline)).toEqual([]);
    expect(describePids(await waitNoRunProcesses({ tag, dir: out }))).toEqual([]);
  }, 600_000);
});
