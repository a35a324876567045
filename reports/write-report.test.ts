import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readReport, writeReportAtomic } from './write-report.js';
import type { RunReport } from '../model/run-report.js';
import { WsbenchError } from '../common/errors.js';

const sample = (): RunReport => JSON.parse(readFileSync(new URL('../fixtures/sample-report.json', import.meta.url), 'utf8'));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsbench-report-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectInvalid(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WsbenchError);
  expect((e as WsbenchError).code).toBe('WSB_REPORT_INVALID');
  expect((e as WsbenchError).message).toMatch(pattern);
}

describe('writeReportAtomic / readReport', () => {
  it('round-trips a report, creating the folder', async () => {
    const path = join(dir, 'a', 'b', 'report.json');
    const r = sample();
    await writeReportAtomic(path, r);
    expect(await readReport(path)).toEqual(r);
    expect((await readFile(path, 'utf8')).endsWith('}\n')).toBe(true);
  });

  it('leaves no temp file behind, and replaces an existing report', async () => {
    const path = join(dir, 'report.json');
    await writeReportAtomic(path, sample());
    const second = { ...sample(), runId: 'second' };
    await writeReportAtomic(path, second);
    expect(await readdir(dir)).toEqual(['report.json']);
    expect((await readReport(path)).runId).toBe('second');
  });

  it('fails with WSB_REPORT_WRITE_FAILED and no temp file when the target cannot be written', async () => {
    const path = join(dir, 'report.json');
    await mkdir(path); // a directory where the file should go: rename fails
    const e = await writeReportAtomic(path, sample()).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(WsbenchError);
    expect((e as WsbenchError).code).toBe('WSB_REPORT_WRITE_FAILED');
    expect((e as WsbenchError).message).toContain(path);
    expect(await readdir(dir)).toEqual(['report.json']);
  });

  it('fails when the folder cannot be created', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const e = await writeReportAtomic(join(dir, 'file', 'report.json'), sample()).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((e as WsbenchError).code).toBe('WSB_REPORT_WRITE_FAILED');
  });

  it('rejects a truncated file', async () => {
    const path = join(dir, 'report.json');
    await writeReportAtomic(path, sample());
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, Math.floor(text.length / 2)));
    await expectInvalid(readReport(path), /not valid JSON/);
  });

  it('rejects another schemaVersion', async () => {
    const path = join(dir, 'report.json');
    await writeFile(path, JSON.stringify({ ...sample(), schemaVersion: 999 }));
    await expectInvalid(readReport(path), /schemaVersion is 999, this wsbench reads 1/);
  });

  it('rejects a report missing a required key, naming it', async () => {
    const path = join(dir, 'report.json');
    const { accounting: _drop, ...rest } = sample();
    await writeFile(path, JSON.stringify(rest));
    await expectInvalid(readReport(path), /accounting: is missing/);
  });

  it('rejects a report whose field has the wrong type, naming it by path, and writes nothing invalid', async () => {
    const path = join(dir, 'report.json');
    const bad = sample() as unknown as { metrics: Record<string, Record<string, unknown>> };
    bad.metrics.broadcast_latency_ms.p99 = 'fast';
    await writeFile(path, JSON.stringify(bad));
    await expectInvalid(readReport(path), /metrics\.broadcast_latency_ms\.p99: must be number/);
    const out = join(dir, 'out', 'report.json');
    await expectInvalid(writeReportAtomic(out, bad as unknown as RunReport), /metrics\.broadcast_latency_ms\.p99: must be number/);
    expect(await readdir(dir)).toEqual(['report.json']);
  });

  it('rejects a missing file and a non-object', async () => {
    await expectInvalid(readReport(join(dir, 'nope.json')), /ENOENT/);
    const path = join(dir, 'arr.json');
    await writeFile(path, '[1,2]');
    await expectInvalid(readReport(path), /not a JSON object/);
  });
});
