/**
 * The run core (runner/run.ts) as a library user meets it: a program that calls `run()` and writes
 * nothing itself until the end sees no output from wsbench at all — every log line, progress
 * snapshot and cluster event arrives through `onEvent` — and the outcome matches the report on disk.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../model/run-events.js';
import type { RunReport } from '../../model/run-report.js';
import { isAlive } from './support/processes.js';

const dist = (p: string) => JSON.stringify(fileURLToPath(new URL(`../../dist/${p}`, import.meta.url)));

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('run() from code: prints nothing, tells everything through onEvent', () => {
  let r: ChildResult;
  let out = '';
  let result: { events: RunEvent[]; exitCode: number; reportPath: string; written: string[]; verdict: string; pids: number[] };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-run-core-'));
    out = join(dir, 'run');
    const script = join(dir, 'library-user.mjs');
    writeFileSync(
      script,
      `import { run } from ${dist('runner/run.js')};
import { buildPlan } from ${dist('cli/plan.js')};
const plan = buildPlan('cross-node-broadcast', { connections: '120', rooms: '4', rate: '5', warmup: '1', duration: '3', drain: '1', out: ${JSON.stringify(out)} });
const events = [];
let pids = () => [];
const seen = new Set();
const poll = setInterval(() => pids().forEach((p) => seen.add(p)), 100);
const o = await run(plan, { onEvent: (e) => events.push(e), onPids: (p) => (pids = p) });
clearInterval(poll);
process.stdout.write(JSON.stringify({ events, exitCode: o.exitCode, reportPath: o.reportPath, written: o.written, verdict: o.report.verdict, pids: [...seen] }) + '\\n');
`,
    );
    r = await new Promise<ChildResult>((resolve) => {
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    result = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
  }, 180_000);

  it('wrote nothing to stdout or stderr but what the program printed itself', () => {
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.code).toBe(0);
  });

  it('the log lines arrive in the order of the run: start, cluster up, teardown', () => {
    const logs = result.events.filter((e): e is Extract<RunEvent, { type: 'log' }> => e.type === 'log').map((e) => e.message);
    const at = (re: RegExp) => logs.findIndex((l) => re.test(l));
    expect(at(/^wsbench .* · cross-node-broadcast · run /)).toBe(0);
    expect(at(/^starting cluster: redis-server, 3 socketio nodes/)).toBeGreaterThan(0);
    expect(at(/^cluster up: http:\/\/127\.0\.0\.1:\d+ → node-1 :\d+, node-2 :\d+, node-3 :\d+/)).toBeGreaterThan(at(/^starting cluster/));
    expect(logs.at(-1)).toBe('tearing down…');
  });

  it("the report's events are the events emitted, in order, and progress snapshots came meanwhile", () => {
    const report = JSON.parse(readFileSync(result.reportPath, 'utf8')) as RunReport;
    const emitted = result.events.filter((e): e is Extract<RunEvent, { type: 'event' }> => e.type === 'event').map((e) => e.event);
    expect(emitted).toEqual(report.events);
    expect(emitted.map((e) => `${e.type}:${e.outcome ?? ''}`)).toEqual(expect.arrayContaining(['cluster:', 'cluster:ok', 'teardown:ok']));
    expect(result.events.filter((e) => e.type === 'progress').length).toBeGreaterThan(0);
    expect(result.exitCode).toBe({ pass: 0, fail: 1 }[report.verdict as 'pass' | 'fail']);
    expect(result.verdict).toBe(report.verdict);
    expect(result.written).toEqual(['report.html', 'junit.xml']);
  });

  it('left no process of the run behind', () => {
    expect(result.pids.length).toBeGreaterThan(4);
    expect(result.pids.filter(isAlive)).toEqual([]);
  });
});
