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
    expect(r.stdout).toMatch(/│ metrics\.broadcast_latency_ms\.p99\s+│ lower\s+│\s+8\.439 ms │\s+4 ms │\s+-52\.6% │\s+10% │ improved/);
    expect(r.stdout).toMatch(/^compare: OK — no regression beyond tolerance in 25 values; 1 improved, 24 within tolerance$/m);
  });

  it('exits 1 on a regression past tolerance, 0 when --metric raises that tolerance', async () => {
    const cur = real();
    cur.metrics.broadcast_latency_cross_node_ms.p99 = 9.151 * 1.3;
    const file = save('worse.json', cur);
    const r = await wsbench(['compare', base, file, '--max-regression', '20%']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('compare: REGRESSION — 1 of 25 values regressed: metrics.broadcast_latency_cross_node_ms.p99 (+30.0% > 20%)');
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

  it('lists a metric missing on one side and exits 0', async () => {
    const cur = real();
    delete (cur.metrics as Record<string, unknown>).connect_time_ms;
    const r = await wsbench(['compare', base, save('missing.json', cur)]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/missing \(not measured in current\)/g)).toHaveLength(5);
  });

  it('exits 2 with a coded error and a hint on bad input', async () => {
    const cases: Array<[string[], string]> = [
      [['compare', base, join(dir, 'nope.json')], 'error WSB_REPORT_INVALID'],
      [['compare', base, base, '--max-regression', 'lots'], 'error WSB_INVALID_OPTION: --max-regression: "lots" is not a percentage'],
      [['compare', base, save('other.json', { ...real(), scenario: { name: 'node-kill', describe: 'x' } })], 'error WSB_COMPARE_INVALID'],
      [['compare', base, save('same.json', real()), '--metric', 'bogus=5%'], 'error WSB_INVALID_OPTION: --metric bogus: no compared value is called that'],
      [['compare', base], 'error WSB_INVALID_OPTION: missing argument'],
    ];
    for (const [args, message] of cases) {
      const r = await wsbench(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toMatch(/^hint: /m);
    }
  });
});
