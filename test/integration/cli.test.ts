import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAlive, pidsMatching } from './support/processes.js';

const BIN = fileURLToPath(new URL('../../bin/wsbench.js', import.meta.url));

function wsbench(args: string[], opts: { onStderr?: (chunk: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      opts.onStderr?.(stderr, child);
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('wsbench CLI (the real bin)', () => {
  it('rejects an unknown scenario with WSB_UNKNOWN_SCENARIO, a hint, and exit 2', async () => {
    const r = await wsbench(['run', 'no-such-scenario']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error WSB_UNKNOWN_SCENARIO: unknown scenario "no-such-scenario"');
    expect(r.stderr).toMatch(/hint: available: cross-node-broadcast/);
  });

  it('rejects a bad flag value with WSB_INVALID_OPTION naming the flag, and exit 2', async () => {
    const r = await wsbench(['run', 'cross-node-broadcast', '--connections', 'abc', '--rate', '-3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error WSB_INVALID_OPTION');
    expect(r.stderr).toMatch(/--connections: .*\(got "abc"\)/);
    expect(r.stderr).toMatch(/--rate: /);
  });

  it('rejects an unknown flag and an invalid --lb-policy with exit 2', async () => {
    const a = await wsbench(['run', 'cross-node-broadcast', '--frobnicate']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('error WSB_INVALID_OPTION: unknown flag');
    const b = await wsbench(['run', 'cross-node-broadcast', '--lb-policy', 'random']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('error WSB_INVALID_OPTION: invalid value');
  });

  it('rejects option combinations that cannot put a member of every room on every node', async () => {
    const r = await wsbench(['run', 'cross-node-broadcast', '--connections', '50', '--rooms', '40']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/every room needs a member on each of 3 nodes/);
  });

  it('rejects a malformed config file with WSB_CONFIG_INVALID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-cli-'));
    const cfg = join(dir, 'bad.json');
    (await import('node:fs')).writeFileSync(cfg, '{ "connections": 300, ');
    const r = await wsbench(['run', 'cross-node-broadcast', '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error WSB_CONFIG_INVALID');
  });

  it('lists the scenarios with their targets and seed sources', async () => {
    const r = await wsbench(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('cross-node-broadcast');
    expect(r.stdout).toContain('latency-p99');
    expect(r.stdout).toContain('seed 004 · WebSocket Implementation for Real-Time Communication');
    expect(r.stdout).not.toContain('004_ef208ec7b515aee1.txt');
  });

  it('runs a small scenario end to end: table on stdout, report on disk, exit code matches the verdict', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-cli-run-'));
    const r = await wsbench(['run', 'cross-node-broadcast', '--connections', '150', '--rooms', '5', '--duration', '3', '--warmup', '1', '--drain', '1', '--out', out]);
    expect(r.stderr).not.toContain('error WSB_');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { verdict: string; accounting: { lost: number } };
    expect(r.code).toBe(report.verdict === 'pass' ? 0 : 1);
    expect(r.stdout).toMatch(/verdict: (PASS|FAIL)/);
    expect(r.stdout).toContain('cross-node');
    expect(report.accounting.lost).toBe(0);
    expect(await pidsMatching(out)).toEqual([]);
  });

  it('on Ctrl-C stops, tears everything down, writes a partial report marked interrupted, exits 2', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-cli-int-'));
    let sent = false;
    const r = await wsbench(['run', 'cross-node-broadcast', '--connections', '150', '--rooms', '5', '--duration', '60', '--out', out], {
      onStderr: (text, child) => {
        // Interrupt once the cluster is up and load is running.
        if (!sent && /\[(warm-up|measuring)\]|phase/.test(text)) {
          sent = true;
          child.kill('SIGINT');
        }
        if (!sent && text.includes('cluster up')) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 3000);
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('stopping…');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { verdict: string; error?: { code: string } };
    expect(report.verdict).toBe('interrupted');
    expect(report.error?.code).toBe('WSB_INTERRUPTED');
    const pids = (JSON.parse(readFileSync(join(out, 'pids.json'), 'utf8')) as { pids: number[] }).pids;
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(join(out, 'report.json.tmp'))).toBe(false);
  });
});
