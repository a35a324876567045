/**
 * `wsbench report` and `wsbench compare` through the real bin (autocannon's CLI tests): exit codes,
 * stdout and stderr, files written. No cluster is started.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../model/run-report.js';
import { buildPlan } from '../../cli/plan.js';

const BIN = fileURLToPath(new URL('../../bin/wsbench.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wsb-report-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function wsbench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const real = (): RunReport => JSON.parse(readFileSync(join(FIXTURES, 'report-default-run.json'), 'utf8'));

function save(name: string, r: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(r, null, 2));
  return p;
}

describe('wsbench report', () => {
  it('re-renders a saved report: the table on stdout, HTML and JUnit files, exit code of the verdict', async () => {
    const html = join(dir, 'out', 'r.html');
    const junit = join(dir, 'out', 'r.xml');
    const r = await wsbench(['report', join(FIXTURES, 'report-default-run.json'), '--html', html, '--junit', junit]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('verdict: PASS (5/5 targets met)');
    expect(r.stderr).toContain(`html: ${html}`);
    expect(readFileSync(html, 'utf8')).toContain('id="verdict">PASS<');
    expect(readFileSync(junit, 'utf8')).toContain('<testsuite name="cross-node-broadcast" tests="5" failures="0" errors="0"');
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['r.html', 'r.xml']); // no temp files left

    const failed = await wsbench(['report', join(FIXTURES, 'sample-report.json'), '--json']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout).verdict).toBe('fail');
  });

  it('rejects a report that does not match the schema with WSB_REPORT_INVALID, naming the field, exit 2', async () => {
    const bad = real() as unknown as { accounting: Record<string, unknown> };
    bad.accounting.lost = 'none';
    const r = await wsbench(['report', save('bad.json', bad), '--html', join(dir, 'never.html')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error WSB_REPORT_INVALID: .*bad\.json is not a readable wsbench report: accounting\.lost: must be integer/m);
    expect(r.stderr).toContain('hint: ');
    expect(existsSync(join(dir, 'never.html'))).toBe(false);
  });
});

describe('wsbench compare (the real bin)', () => {
  const base = join(FIXTURES, 'report-default-run.json');

  it('exits 0 on an improvement and prints the table', async () => {
    const cur = real();
    cur.metrics.broadcast_latency_ms.p99 = 4;
    const r = await wsbench(['compare', base, save('better.json', cur)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/│ metrics\.broadcast_latency_ms\.p99\s+│ lower\s+│\s+8\.439 ms │\s+4 ms │\s+-52\.6% │\s+10%, floor 1 ms │ improved \(-52\.6%\)/);
    expect(r.stdout).toMatch(/^compare: OK — no regression beyond tolerance in 27 values; 1 improved, 26 within tolerance$/m);
  });

  it('exits 1 on a regression past tolerance, 0 when --metric raises that tolerance', async () => {
    const cur = real();
    cur.metrics.broadcast_latency_cross_node_ms.p99 = 9.151 * 1.3;
    const file = save('worse.json', cur);
    const r = await wsbench(['compare', base, file, '--max-regression', '20%']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('compare: REGRESSION — 1 of 27 values regressed: metrics.broadcast_latency_cross_node_ms.p99 (+30.0% > 20%)');
    const tolerant = await wsbench(['compare', base, file, '--max-regression', '20%', '--metric', 'broadcast_latency_cross_node_ms.p99=40%']);
    expect(tolerant.code).toBe(0);
  });

  it('exits 1 when lost deliveries go from 0 to any number; --json carries the same verdict', async () => {
    const cur = real();
    cur.accounting.lost = 2;
    const r = await wsbench(['compare', base, save('lossy.json', cur), '--max-regression', '500%', '--json']);
    expect(r.code).toBe(1);
    const cmp = JSON.parse(r.stdout) as { regressed: boolean; deltas: Array<{ metric: string; status: string }> };
    expect(cmp.regressed).toBe(true);
    expect(cmp.deltas.filter((d) => d.status === 'regression').map((d) => d.metric)).toEqual(['accounting.lost']);
  });

  it('exits 1 on a hollow current report (latency metrics removed); 0 with --allow-missing', async () => {
    const cur = real();
    delete (cur.metrics as Record<string, unknown>).broadcast_latency_ms;
    delete (cur.metrics as Record<string, unknown>).broadcast_latency_cross_node_ms;
    const file = save('hollow.json', cur);
    const r = await wsbench(['compare', base, file]);
    expect(r.code).toBe(1);
    expect(r.stdout.match(/REGRESSION \(not measured in current: a gate does not pass what was not measured\)/g)).toHaveLength(10);
    expect(r.stdout).toMatch(/^compare: REGRESSION — 10 of 27 values regressed: metrics\.broadcast_latency_ms\.p50 \(not measured in current/m);
    const allowed = await wsbench(['compare', base, file, '--allow-missing']);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout.match(/missing \(not measured in current \(allowed by --allow-missing\)\)/g)).toHaveLength(10);
  });

  it('exits 1 on a current verdict fail whose values equal the baseline', async () => {
    const cur = real();
    cur.verdict = 'fail';
    cur.targets[2] = { ...cur.targets[2], status: 'unknown', actual: null };
    const r = await wsbench(['compare', base, save('failed.json', cur)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("check verdict: FAIL — the current run's verdict is fail (no-loss unknown)");
    expect(r.stdout).toMatch(/^compare: FAIL — the current run's verdict is fail \(no-loss unknown\); 0 improved, 27 within tolerance$/m);
  });

  it('exits 1 on a chaos report whose during-fault window regressed', async () => {
    const chaos = (): RunReport => {
      const r = JSON.parse(readFileSync(join(FIXTURES, 'sample-report-chaos.json'), 'utf8')) as RunReport;
      r.verdict = 'pass';
      for (const t of r.targets) t.status = 'pass';
      return r;
    };
    const baseFile = save('chaos-base.json', chaos());
    expect((await wsbench(['compare', baseFile, save('chaos-same.json', chaos())])).code).toBe(0);
    const cur = chaos();
    cur.windows!['during-kill-node'].broadcast_latency_ms.p99 *= 3;
    const r = await wsbench(['compare', baseFile, save('chaos-worse.json', cur)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/compare: REGRESSION — 1 of \d+ values regressed: windows\.during-kill-node\.broadcast_latency_ms\.p99 \(\+200% > 10%\)/);
  });

  it('exits 1 on a different workload, 0 with --allow-different-options', async () => {
    const cur = real();
    cur.options.rate = 16;
    const file = save('other-rate.json', cur);
    const r = await wsbench(['compare', base, file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('check options: FAIL — the workload differs: rate 8 → 16 (pass --allow-different-options to compare anyway)');
    expect((await wsbench(['compare', base, file, '--allow-different-options'])).code).toBe(0);
    // The committed CI baseline is a default run: a current report of the default run's options is the same workload.
    const fresh = real();
    fresh.options = buildPlan('cross-node-broadcast', {}).options;
    const same = await wsbench(['compare', fileURLToPath(new URL('../../examples/ci/baseline.json', import.meta.url)), save('fresh.json', fresh)]);
    // (Its figures are another run's: only the workload check is asserted here; examples/ci/ci-example.test.ts checks the workflow against the baseline.)
    expect(same.stdout).toContain('check options: ok — same workload options and cluster');
    expect(same.stdout).not.toContain('check options: FAIL');
  });

  it("takes its tolerances from a config file's `compare` section; flags override it; a bad section is WSB_CONFIG_INVALID", async () => {
    const cur = real();
    cur.metrics.broadcast_latency_cross_node_ms.p99 = 9.151 * 1.3;
    cur.accounting.deliveryRatio = 0.995;
    const file = save('worse-config.json', cur);
    const config = join(dir, 'wsbench.config.ts');
    writeFileSync(config, `const p99: number = 40;\nexport default { scenario: 'cross-node-broadcast', compare: { maxRegression: 20, ratioTolerance: 1, metrics: { 'broadcast_latency_cross_node_ms.p99': p99 } } };\n`);
    // Without the config: the p99 (+30 % > 10 %) and the ratio (−0.5 pp > 0.1 pp) regress.
    const plain = await wsbench(['compare', base, file]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain('2 of 27 values regressed');
    const r = await wsbench(['compare', base, file, '--config', config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/│ metrics\.broadcast_latency_cross_node_ms\.p99 +│ lower +│ +9\.151 ms │ +11\.90 ms │ +\+30\.0% │ +40%, floor 1 ms │ ok/);
    expect(r.stdout).toMatch(/│ accounting\.deliveryRatio +│ higher +│ +100% │ +99\.50% │ -0\.50 pp │ +1 pp │ ok/);
    // A flag overrides the file's key.
    const flagged = await wsbench(['compare', base, file, '--config', config, '--metric', 'broadcast_latency_cross_node_ms.p99=5%']);
    expect(flagged.code).toBe(1);
    expect(flagged.stdout).toContain('1 of 27 values regressed: metrics.broadcast_latency_cross_node_ms.p99 (+30.0% > 5%)');
    // The same file runs: `wsbench run --config` accepts the section (and checks it).
    const dry = await wsbench(['run', 'cross-node-broadcast', '--config', config, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const bad = join(dir, 'bad-compare.json');
    writeFileSync(bad, JSON.stringify({ compare: { maxRegression: '20%', metrics: { bogus: 5 }, tolerance: 3 } }));
    const e = await wsbench(['compare', base, file, '--config', bad]);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain('error WSB_CONFIG_INVALID: invalid compare section in');
    expect(e.stderr).toContain('compare: unknown key(s) tolerance');
    expect(e.stderr).toContain('compare.maxRegression: expected a number (got "20%")');
    const unknownMetric = join(dir, 'unknown-metric.json');
    writeFileSync(unknownMetric, JSON.stringify({ compare: { metrics: { bogus: 5 } } }));
    const u = await wsbench(['compare', base, file, '--config', unknownMetric]);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain(`error WSB_CONFIG_INVALID: ${unknownMetric}: compare.metrics.bogus: no compared value is called that`);
    const none = join(dir, 'no-compare.json');
    writeFileSync(none, JSON.stringify({ nodes: 3 }));
    const n = await wsbench(['compare', base, file, '--config', none]);
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('has no `compare` section (keys: nodes)');
    const runBad = await wsbench(['run', 'cross-node-broadcast', '--config', bad, '--dry-run']);
    expect(runBad.code).toBe(2);
    expect(runBad.stderr).toContain('compare.maxRegression: expected a number (got "20%")');
  });

  it('exits 2 with a coded error and a hint on bad input', async () => {
    const cases: Array<[string[], string]> = [
      [['compare', base, join(dir, 'nope.json')], 'error WSB_REPORT_INVALID'],
      [['compare', base, base, '--max-regression', 'lots'], 'error WSB_INVALID_OPTION: --max-regression: "lots" is not a percentage'],
      [['compare', base, save('other.json', { ...real(), scenario: { name: 'node-kill', describe: 'x' } })], 'error WSB_COMPARE_INVALID'],
      [['compare', base, save('same.json', real()), '--metric', 'bogus=5%'], 'error WSB_INVALID_OPTION: --metric bogus: no compared value is called that'],
      [['compare', base], 'error WSB_INVALID_OPTION: missing argument'],
      [['compare', base, save('floor.json', real()), '--latency-floor', 'soon'], 'error WSB_INVALID_OPTION: --latency-floor: "soon" is not a number of milliseconds'],
    ];
    for (const [args, message] of cases) {
      const r = await wsbench(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toMatch(/^hint: /m);
    }
  });
});
