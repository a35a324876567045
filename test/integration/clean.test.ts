import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { descendants, processIdentity } from '../../cluster/process-identity.js';
import type { PidsRecord } from '../../cluster/clean.js';
import { isAlive } from './support/processes.js';

const BIN = fileURLToPath(new URL('../../bin/wsbench.js', import.meta.url));

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

const started: ChildProcess[] = [];
function start(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: 'ignore' });
  started.push(c);
  return c;
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}

afterAll(() => {
  for (const c of started) if (c.pid && isAlive(c.pid)) c.kill('SIGKILL');
});

describe('wsbench clean (local driver: pids.json)', () => {
  it("kills a killed run's recorded processes and their children, but never a pid that now runs another program", async () => {
    const results = mkdtempSync(join(tmpdir(), 'wsb-clean-local-'));
    const runDir = join(results, 'run-a');
    mkdirSync(runDir);
    const owner = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => owner.once('exit', r));

    const server = start('sleep', ['300']);
    const parent = start('sh', ['-c', 'sleep 301 & wait']);
    const reused = start('sleep', ['302']);
    await until(() => descendants(parent.pid!).length === 1 && processIdentity(server.pid!) !== undefined && processIdentity(reused.pid!) !== undefined);
    const grandchild = descendants(parent.pid!)[0];
    const id = (pid: number) => {
      const p = processIdentity(pid)!;
      return { pid, startTime: p.startTime, cmdline: p.cmdline };
    };
    const record: PidsRecord = {
      runId: 'run-a',
      cli: owner.pid!,
      cliStartTime: 1,
      driver: 'local',
      pids: [server.pid!, parent.pid!, reused.pid!],
      // `reused` stands for a pid the kernel gave to another program after the run died.
      processes: [id(server.pid!), id(parent.pid!), { ...id(reused.pid!), startTime: id(reused.pid!).startTime - 1 }],
    };
    writeFileSync(join(runDir, 'pids.json'), JSON.stringify(record));

    const r = await wsbench(['clean', results]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`killed  run-a: pid ${server.pid}`);
    expect(r.stdout).toContain(`killed  run-a: pid ${grandchild.pid}`);
    await until(() => processIdentity(server.pid!) === undefined && processIdentity(parent.pid!) === undefined);
    expect(processIdentity(grandchild.pid)).toBeUndefined();
    expect(processIdentity(reused.pid!)?.cmdline).toBe('sleep 302');
  });

  it('leaves a run alone while its wsbench process still runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-clean-live-'));
    const server = start('sleep', ['303']);
    await until(() => processIdentity(server.pid!) !== undefined);
    const me = processIdentity(process.pid)!;
    const p = processIdentity(server.pid!)!;
    const record: PidsRecord = { runId: 'run-live', cli: process.pid, cliStartTime: me.startTime, driver: 'local', pids: [p.pid], processes: [{ pid: p.pid, startTime: p.startTime, cmdline: p.cmdline }] };
    writeFileSync(join(dir, 'pids.json'), JSON.stringify(record));
    const r = await wsbench(['clean', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`skipped run-live: still running (wsbench pid ${process.pid})`);
    expect(processIdentity(server.pid!)?.cmdline).toBe('sleep 303');
  });

  it('removes the temp file of a report write a kill interrupted, and keeps a complete report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-clean-tmp-'));
    const record: PidsRecord = { runId: 'run-tmp', cli: 999_999, cliStartTime: 1, driver: 'local', pids: [], processes: [] };
    writeFileSync(join(dir, 'pids.json'), JSON.stringify(record));
    writeFileSync(join(dir, '.report.json.4242.deadbeef.tmp'), '{"schemaVersion": 1, "tru');
    writeFileSync(join(dir, 'report.json'), '{}');
    const r = await wsbench(['clean', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('.report.json.4242.deadbeef.tmp');
    expect(existsSync(join(dir, '.report.json.4242.deadbeef.tmp'))).toBe(false);
    expect(existsSync(join(dir, 'report.json'))).toBe(true);
  });
});
