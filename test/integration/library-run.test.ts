/**
 * The library's run(config) in process, as a user calls it: events reach onEvent, aborting the
 * signal once the cluster is up stops the run gracefully (verdict `interrupted`, a report with the
 * effective config written, every process gone), and nothing is printed on stdout.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, defineConfig, type RunEvent } from '../../index.js';
import { describePids, newTag, waitNoRunProcesses } from './support/run-processes.js';

const previousTag = process.env.WSB_TEST_TAG;
afterAll(() => {
  if (previousTag === undefined) delete process.env.WSB_TEST_TAG;
  else process.env.WSB_TEST_TAG = previousTag;
});

describe('run(config) from code', () => {
  it('reports events, stops on abort with a partial report, leaves nothing running, prints nothing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-library-run-'));
    const tag = newTag();
    process.env.WSB_TEST_TAG = tag; // every child inherits it
    const controller = new AbortController();
    const events: RunEvent[] = [];
    let stdout = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      stdout += String(chunk);
      return write(chunk, ...rest);
    }) as typeof process.stdout.write;
    let report;
    try {
      report = await run(
        defineConfig({ scenario: 'cross-node-broadcast', nodes: 2, options: { connections: 40, rooms: 2, duration: 30, warmup: 0, drain: 0, workers: 1 }, out }),
        {
          signal: controller.signal,
          onEvent: (e) => {
            events.push(e);
            if (e.type === 'log' && e.message.startsWith('cluster up: ')) controller.abort();
          },
        },
      );
    } finally {
      process.stdout.write = write;
    }
    expect(report.verdict).toBe('interrupted');
    expect(report.error?.code).toBe('WSB_INTERRUPTED');
    expect(report.config).toMatchObject({ scenario: 'cross-node-broadcast', nodes: 2, out });
    const logs = events.filter((e): e is Extract<RunEvent, { type: 'log' }> => e.type === 'log').map((e) => e.message);
    expect(logs.some((l) => l.startsWith('cluster up: '))).toBe(true);
    expect(logs.some((l) => l.startsWith('tearing down'))).toBe(true);
    expect(stdout).toBe('');
    expect(existsSync(join(out, 'report.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).verdict).toBe('interrupted');
    expect(describePids(await waitNoRunProcesses({ tag, dir: out }))).toEqual([]);
  });
});
