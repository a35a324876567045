/**
 * `wsbench run … --engine k6` through the real bin. The end-to-end test needs a real k6 binary
 * (`K6_BIN` or `k6` on PATH) and reports itself as skipped, with the reason, where there is none;
 * k6 is not installable on every machine (it is neither on npm nor in Debian).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveK6Path } from '../../engines/k6/binary.js';
import { isAlive, pidsMatching } from './support/processes.js';

const BIN = fileURLToPath(new URL('../../bin/wsbench.js', import.meta.url));

function wsbench(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const k6 = resolveK6Path(undefined, process.env).path;

describe('wsbench run --engine k6 (the real bin)', () => {
  it('with no k6 (--k6 /nonexistent): WSB_K6_NOT_FOUND with how to install it, exit 2, and no cluster process started', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-k6-missing-'));
    const r = await wsbench(['run', 'cross-node-broadcast', '--engine', 'k6', '--k6', '/nonexistent', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error WSB_K6_NOT_FOUND: k6 not found (--k6 /nonexistent: no such executable file)');
    expect(r.stderr).toMatch(/hint: install k6 .*github\.com\/grafana\/k6\/releases/);
    expect(r.stderr).not.toContain('starting cluster');
    // k6 is looked for before the cluster starts: no redis-server / nginx / node was ever spawned for this run.
    expect(existsSync(join(out, 'pids.json'))).toBe(false);
    expect(existsSync(join(out, 'logs')) ? readdirSync(join(out, 'logs')) : []).toEqual([]);
    expect(await pidsMatching(out)).toEqual([]);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { verdict: string; error?: { code: string }; topology: { redis: string } };
    expect(report.verdict).toBe('error');
    expect(report.error?.code).toBe('WSB_K6_NOT_FOUND');
    expect(report.topology.redis).toBe('not started');
    rmSync(out, { recursive: true, force: true });
  });

  it('refuses a scenario without a k6 script, --k6 without --engine k6, and an unknown engine (exit 2, nothing started)', async () => {
    const a = await wsbench(['run', 'node-kill', '--engine', 'k6']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('error WSB_INVALID_OPTION');
    expect(a.stderr).toContain('--engine k6: node-kill has no k6 script (k6 scripts: cross-node-broadcast, connection-capacity, reconnection-storm)');
    const b = await wsbench(['run', 'cross-node-broadcast', '--k6', '/usr/bin/k6']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--k6: only applies with --engine k6');
    const c = await wsbench(['run', 'cross-node-broadcast', '--engine', 'jmeter']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('error WSB_INVALID_OPTION: invalid value');
  });

  it.skipIf(!k6)(
    k6
      ? `runs cross-node-broadcast under a real k6 (${k6}) against the real local cluster: k6's latency and counters in the report, targets judged`
      : 'runs cross-node-broadcast under a real k6 (skipped: k6 not on PATH and K6_BIN not set)',
    async () => {
      const out = mkdtempSync(join(tmpdir(), 'wsb-k6-real-'));
      const r = await wsbench(
        ['run', 'cross-node-broadcast', '--engine', 'k6', '--k6', k6!, '--connections', '150', '--rooms', '5', '--duration', '3', '--warmup', '1', '--drain', '1', '--out', out],
      );
      expect(r.stderr).not.toContain('error WSB_');
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
        verdict: string;
        metrics: Record<string, { count: number; p99: number }>;
        counters: Record<string, number>;
        accounting: { expected: number; received: number };
        targets: Array<{ id: string; status: string }>;
        generator: { notes: string[] };
      };
      expect(report.metrics.broadcast_latency_ms.count).toBeGreaterThan(0);
      expect(report.metrics.connect_time_ms.count).toBe(150);
      expect(report.counters.connections).toBe(150);
      expect(report.counters.messages_published).toBeGreaterThan(0);
      expect(report.accounting.expected).toBeGreaterThan(0);
      expect(report.targets.map((t) => t.id)).toEqual(['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order', 'no-leak']);
      expect(report.targets.every((t) => t.status === 'pass' || t.status === 'fail' || t.status === 'unknown')).toBe(true);
      expect(report.generator.notes.some((n) => n.includes('whole milliseconds'))).toBe(true);
      expect(r.code).toBe(report.verdict === 'pass' ? 0 : 1);
      expect(existsSync(join(out, 'k6', 'handle-summary.json'))).toBe(true);
      const pids = (JSON.parse(readFileSync(join(out, 'pids.json'), 'utf8')) as { pids: Array<number | { pid: number }> }).pids.map((p) => (typeof p === 'number' ? p : p.pid));
      expect(pids.filter(isAlive)).toEqual([]);
      expect(await pidsMatching(out)).toEqual([]);
    },
  );
});
