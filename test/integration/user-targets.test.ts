/**
 * The user's own targets through the real bin (a local cluster per run): a seed target
 * overridden, one switched off, one added on a report path. The exit code follows them (an added
 * target that must fail makes exit 1; the same run with it met exits 0), the source shown is the
 * config file in the console, the JSON, the HTML and the JUnit; `wsbench list --config` shows what
 * will be judged; `compare` reports a target switched off on one side only.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../model/run-report.js';
import { validateReport } from '../../model/schema.js';
import { wsbench } from './support/cli.js';
import { describePids, newTag, waitNoRunProcesses } from './support/run-processes.js';

let dir: string;
const SMALL = ['--nodes', '2', '--connections', '40', '--rooms', '4', '--rate', '1', '--duration', '2', '--warmup', '1', '--drain', '1'];

function configFile(name: string, targets: Record<string, unknown>): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ scenario: 'cross-node-broadcast', targets }, null, 2));
  return file;
}

async function runWith(config: string): Promise<{ code: number | null; stdout: string; out: string; report: RunReport }> {
  const out = mkdtempSync(join(tmpdir(), 'wsb-user-targets-out-'));
  const tag = newTag();
  const r = await wsbench(['run', 'cross-node-broadcast', '--config', config, ...SMALL, '--out', out], { env: { ...process.env, WSB_TEST_TAG: tag } });
  expect(describePids(await waitNoRunProcesses({ tag, dir: out }))).toEqual([]);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  expect(validateReport(report)).toEqual([]);
  return { code: r.code, stdout: r.stdout, out, report };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsb-user-targets-'));
});

describe('targets in the config: overridden, switched off, added', () => {
  let failing: Awaited<ReturnType<typeof runWith>>;
  let failingConfig: string;

  it('an added target that must fail makes exit 1; the overridden and switched-off ones are shown with the config as their source', async () => {
    failingConfig = configFile('failing.json', {
      // Both latency targets out of a loaded machine's reach: the added target alone decides the verdict.
      'latency-p99': { max: 60_000 },
      'cross-node-latency-p99': { max: 60_000 },
      'no-leak': false,
      'peak-a-million': { metric: 'counters.connections_peak', min: 1_000_000, unit: 'connections', description: 'a million connections held' },
    });
    failing = await runWith(failingConfig);
    const { code, stdout, out, report } = failing;
    const byId = Object.fromEntries(report.targets.map((t) => [t.id, t]));
    expect(byId['peak-a-million']).toMatchObject({ status: 'fail', actual: 40, op: '>=', value: 1_000_000, source: { config: failingConfig } });
    expect(byId['no-leak']).toMatchObject({ status: 'off', source: { config: failingConfig } });
    expect(byId['latency-p99']).toMatchObject({ value: 60_000, override: { seedValue: 50 }, source: { config: failingConfig } });
    expect(byId['latency-p99'].status).toBe('pass');
    expect(byId['no-duplicates'].source.config).toBeUndefined();
    // Every other target of this small run passes: the added one alone decides the verdict.
    expect(report.targets.filter((t) => t.status === 'fail').map((t) => t.id)).toEqual(['peak-a-million']);
    expect(report.verdict).toBe('fail');
    expect(code).toBe(1);
    expect(report.config.targets).toMatchObject({ 'no-leak': false, 'latency-p99': 60_000, 'peak-a-million': { metric: 'counters.connections_peak', min: 1_000_000 } });
    // Console: OFF, and the config file as the source.
    expect(stdout).toMatch(/OFF\s+│?\s*no-leak/);
    expect(stdout).toContain(`no-leak: set in ${failingConfig}; seed: "Test message delivery, ordering, and reliability"`);
    expect(stdout).toContain(`peak-a-million: set in ${failingConfig}`);
    // HTML and JUnit.
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain(`config: ${failingConfig} (switched off)`);
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    expect(junit).toContain(`<skipped message="switched off in ${failingConfig}"/>`);
    expect(junit).toMatch(/skipped="1"/);
    expect(junit).toContain(`source: config ${failingConfig}`);
  });

  it('the same run with the added target met exits 0; compare reports a target switched off in current only', async () => {
    const passingConfig = configFile('passing.json', {
      // Both latency targets out of a loaded machine's reach: the added target alone decides the verdict.
      'latency-p99': { max: 60_000 },
      'cross-node-latency-p99': { max: 60_000 },
      'peak-forty': { metric: 'counters.connections_peak', min: 40, unit: 'connections' },
    });
    const passing = await runWith(passingConfig);
    expect(passing.report.targets.find((t) => t.id === 'peak-forty')).toMatchObject({ status: 'pass', actual: 40 });
    expect(passing.report.verdict).toBe('pass');
    expect(passing.code).toBe(0);
    // The baseline judged no-leak; the failing run switched it off.
    const cmp = await wsbench(['compare', join(passing.out, 'report.json'), join(failing.out, 'report.json'), '--allow-different-options']);
    expect(cmp.code).toBe(1);
    expect(cmp.stdout).toContain(`target(s) the baseline judged are switched off in current: no-leak (${failingConfig})`);
  });
});

describe('wsbench list --config', () => {
  it('shows per run each target with its op, threshold and source; a bad target path is WSB_CONFIG_INVALID with the nearest paths (exit 2)', async () => {
    const file = join(dir, 'runs.json');
    writeFileSync(
      file,
      JSON.stringify({
        runs: {
          ci: { scenario: 'cross-node-broadcast', targets: { 'latency-p99': 80, 'no-loss': false, 'my-connect-p99': { metric: 'metrics.connect_time_ms.p99', max: 3000, unit: 'ms' } } },
          kill: { scenario: 'node-kill', targets: { 'reconnect-all': { max: 8000 } } },
        },
      }),
    );
    const r = await wsbench(['list', '--config', file]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('ci (cross-node-broadcast)');
    expect(lines.find((l) => l.trim().startsWith('latency-p99'))).toMatch(new RegExp(`metrics\\.broadcast_latency_ms\\.p99 <= 80 ms \\(seed: 50\\)\\s+set in ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(run "ci"\\)`));
    expect(lines.find((l) => l.trim().startsWith('no-loss'))).toMatch(/off \(not judged\)\s+set in .* \(run "ci"\); seed: "Test message delivery, ordering, and reliability"/);
    expect(lines.find((l) => l.trim().startsWith('no-duplicates'))).toMatch(/accounting\.duplicated == 0\s+"Test message delivery, ordering, and reliability" \(seed 004/);
    expect(lines.find((l) => l.trim().startsWith('my-connect-p99'))).toMatch(/metrics\.connect_time_ms\.p99 <= 3000 ms\s+set in .* \(run "ci"\)$/);
    expect(lines).toContain('kill (node-kill)');
    expect(lines.find((l) => l.trim().startsWith('reconnect-all'))).toMatch(/counters\.reconnect_all_back_ms <= 8000 ms \(seed: 5000\)\s+set in .* \(run "kill"\)/);
    const only = await wsbench(['list', '--config', file, 'kill']);
    expect(only.stdout.split('\n')[0]).toBe('kill (node-kill)');
    expect(only.stdout).not.toContain('ci (cross-node-broadcast)');

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ scenario: 'cross-node-broadcast', targets: { 'my-connect-p99': { metric: 'metrics.connect_ms.p99', max: 3000 } } }));
    const b = await wsbench(['list', '--config', bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("error WSB_CONFIG_INVALID");
    expect(b.stderr).toContain("targets.my-connect-p99: metric: 'metrics.connect_ms.p99' is not a number in the report; nearest paths: metrics.connect_time_ms.p99");
  });
});
