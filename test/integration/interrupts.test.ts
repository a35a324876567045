/**
 * A harness that never leaves a mess, through the real bin: SIGTERM behaves like the first Ctrl-C
 * (teardown, partial report marked interrupted, exit 2); a second Ctrl-C forces (exit 130, every
 * process of the run killed); after a `kill -9` of the CLI — during the load or while the cluster
 * is starting — `wsbench clean` removes every process of the run; and a report file is either
 * complete and valid or absent, whenever the writer is killed. Processes of a run are found in
 * /proc (support/run-processes.ts), not through the CLI's own bookkeeping.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readReport } from '../../reports/write-report.js';
import { wsbench } from './support/cli.js';
import { describePids, newTag, runProcesses, waitNoRunProcesses } from './support/run-processes.js';

const RUN = ['run', 'cross-node-broadcast', '--connections', '40', '--rooms', '4', '--warmup', '0', '--drain', '0'];

function tagged(): { out: string; tag: string; env: NodeJS.ProcessEnv } {
  const out = mkdtempSync(join(tmpdir(), 'wsb-int-'));
  const tag = newTag();
  return { out, tag, env: { ...process.env, WSB_TEST_TAG: tag } };
}

describe('interrupts', () => {
  it('SIGTERM: stops, tears everything down, writes a partial report marked interrupted, exits 2', async () => {
    const { out, tag, env } = tagged();
    let sent = false;
    const r = await wsbench([...RUN, '--duration', '60', '--out', out], {
      env,
      onStderr: (text, child) => {
        if (!sent && text.includes('cluster up')) {
          sent = true;
          // Once the load runs (workers started and connected).
          setTimeout(() => child.kill('SIGTERM'), 2000);
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SIGTERM: stopping… (tearing down, writing a partial report)');
    expect(r.stderr).toContain('error WSB_INTERRUPTED');
    const report = await readReport(join(out, 'report.json'));
    expect(report.verdict).toBe('interrupted');
    expect(report.error?.code).toBe('WSB_INTERRUPTED');
    expect(report.events.at(-1)).toMatchObject({ type: 'teardown', outcome: 'ok' });
    expect(describePids(runProcesses({ tag, dir: out }))).toEqual([]);
  });

  it('a second Ctrl-C forces: exit 130 and every process of the run killed (nginx workers too)', async () => {
    const { out, tag, env } = tagged();
    let stage = 0;
    const r = await wsbench([...RUN, '--duration', '60', '--out', out], {
      env,
      onStderr: (text, child) => {
        if (stage === 0 && text.includes('cluster up')) {
          stage = 1;
          setTimeout(() => child.kill('SIGINT'), 1500);
        }
        if (stage === 1 && text.includes('stopping…')) {
          stage = 2;
          child.kill('SIGINT');
        }
      },
    });
    expect(stage).toBe(2);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('forced: killing every process of the run');
    expect(describePids(await waitNoRunProcesses({ tag, dir: out }))).toEqual([]);
  });

  it('wsbench calibrate shares the handler: a second Ctrl-C kills every process of the case (nginx workers too), exit 130', async () => {
    const { out, tag, env } = tagged();
    let stage = 0;
    const r = await wsbench(['calibrate', '--cases', 'baseline', '--connections', '40', '--rooms', '4', '--warmup', '0', '--duration', '60', '--drain', '0', '--out', out], {
      env,
      onStderr: (text, child) => {
        if (stage === 0 && text.includes('cluster up')) {
          stage = 1;
          setTimeout(() => child.kill('SIGINT'), 1500);
        }
        if (stage === 1 && text.includes('stopping…')) {
          stage = 2;
          child.kill('SIGINT');
        }
      },
    });
    expect(stage).toBe(2);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('forced: killing every process of the run');
    expect(describePids(await waitNoRunProcesses({ tag, dir: out }))).toEqual([]);
  });

  it.each([
    ['during the load', 'cluster up', 2000],
    ['while the cluster starts', 'starting cluster', 150],
  ])('kill -9 of the CLI %s leaves what `wsbench clean` removes', async (_when, line, delayMs) => {
    const { out, tag, env } = tagged();
    let killed = false;
    const r = await wsbench([...RUN, '--duration', '60', '--out', out], {
      env,
      onStderr: (text, child) => {
        if (!killed && text.includes(line)) {
          killed = true;
          setTimeout(() => child.kill('SIGKILL'), delayMs);
        }
      },
    });
    expect(killed).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    if (line === 'cluster up') {
      // The run's processes outlive their CLI: there is something to clean.
      expect(runProcesses({ tag, dir: out }).length).toBeGreaterThan(0);
      expect(JSON.parse(readFileSync(join(out, 'pids.json'), 'utf8')).pids.length).toBeGreaterThan(0);
    }
    const c = await wsbench(['clean', out], { env: process.env });
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^clean: \d+ processes killed, 0 containers\/networks removed, 0 skipped, 0 failed$/m);
    expect(describePids(await waitNoRunProcesses({ tag, dir: out }))).toEqual([]);
  });
});

describe('report writing is atomic: report.json is complete and valid, or absent', () => {
  it('a writer killed (kill -9) at random moments never leaves a partial report.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-atomic-'));
    const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/report-default-run.json', import.meta.url)), 'utf8')) as Record<string, unknown>;
    // Big enough (≈ 8 MB) that a write takes a while; every round writes a new runId.
    (fixture.generator as { notes: string[] }).notes = Array.from({ length: 64 }, (_, i) => `padding ${i} ${'x'.repeat(128 * 1024)}`);
    const src = join(dir, 'report-source.json');
    writeFileSync(src, JSON.stringify(fixture));
    const script = join(dir, 'writer.mjs');
    const writeReport = fileURLToPath(new URL('../../dist/reports/write-report.js', import.meta.url));
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { writeReportAtomic } from ${JSON.stringify(writeReport)};
const base = JSON.parse(readFileSync(${JSON.stringify(src)}, 'utf8'));
process.stdout.write('ready\\n');
for (let i = 0; ; i++) {
  await writeReportAtomic(process.argv[2], { ...base, runId: 'round-' + i });
  process.stdout.write('written\\n');
}
`,
    );
    const target = join(dir, 'report.json');
    let complete = 0;
    let waited = 0;
    for (let round = 0; round < 15; round++) {
      const child = spawn(process.execPath, [script, target], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const seen = (word: string) => new Promise<void>((r) => {
        const check = () => (out.includes(word) ? r() : child.stdout!.once('data', (c: Buffer) => ((out += c.toString()), check())));
        check();
      });
      // Odd rounds are killed only after a write completed (a loaded machine may take over a second
      // for the first one), so a complete report.json must then exist, whatever the kill interrupts;
      // even rounds may be killed before any write completed (the file is then absent or the last round's).
      await seen(round % 2 === 1 ? 'written' : 'ready');
      if (round % 2 === 1) waited++;
      await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 600)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      if (round % 2 === 1) expect(existsSync(target), `round ${round}: a write had completed`).toBe(true);
      if (existsSync(target)) {
        const report = await readReport(target); // throws WSB_REPORT_INVALID on a partial file
        expect(report.runId).toMatch(/^round-\d+$/);
        complete++;
      }
      // Whatever else is there is a hidden temp file of the writer, never the report.
      for (const f of readdirSync(dir)) expect(f, f).toMatch(/^(report\.json|report-source\.json|writer\.mjs|\.report\.json\.\d+\.[0-9a-f]+\.tmp)$/);
    }
    expect(waited).toBe(7);
    expect(complete).toBeGreaterThanOrEqual(waited);
  });

  it('the CLI killed (kill -9) at random moments of short runs leaves report.json complete and valid, or absent', async () => {
    // A run that fails fast (its --lb-port is taken) and writes a report with verdict error.
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    let written = 0;
    try {
      for (let round = 0; round < 10; round++) {
        const { out, tag, env } = tagged();
        // Spread over the run's life (it takes about a second), the last ones after its end; the last
        // round's kill comes long after it (on a loaded machine the run may take over 2.5 s to fail).
        const delay = round === 9 ? 30_000 : 200 + round * 250 + Math.floor(Math.random() * 100);
        const r = await wsbench([...RUN, '--duration', '1', '--lb-port', String(port), '--out', out], {
          env,
          onSpawn: (child) => setTimeout(() => child.kill('SIGKILL'), delay),
        });
        expect([2, null]).toContain(r.code);
        if (existsSync(join(out, 'report.json'))) {
          const report = await readReport(join(out, 'report.json'));
          expect(report.error?.code).toBe('WSB_PORT_IN_USE');
          written++;
        }
        expect(describePids(runProcesses({ tag, dir: out }))).toEqual([]);
      }
    } finally {
      busy.close();
    }
    // The runs the kill came too late for wrote their report.
    expect(written).toBeGreaterThan(0);
  });
});
