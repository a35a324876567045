/**
 * wsbench's own image (the project's Dockerfile: what `render node-job` and the merge Job run)
 * holds only what its final stage copies. The image cannot be built on the test machines (their
 * Docker engine reaches no registry: render/dockerfile.test.ts), so this lays out the final stage's
 * files exactly as its COPY lines name them — this checkout's dist/ and node_modules standing in for
 * the build and deps stages — and runs the real bin from there, as a pod would: `wsbench merge`
 * (which validates the report it writes against the schema file, read at run time), `render
 * node-job` and `render k6-operator` (which bundles the k6 script from engines/k6/scripts).
 * A file the CLI reads at run time but the image lacks fails here (exit 2, ENOENT).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../common/paths.js';
import { validateReport } from '../../model/schema.js';
import type { RunReport } from '../../model/run-report.js';

const root = packageRoot();
const image = mkdtempSync(join(tmpdir(), 'wsb-image-'));
const work = mkdtempSync(join(tmpdir(), 'wsb-image-work-'));

/** The final stage's COPY lines (after its FROM), as [sources, destination, --from stage]. */
function finalCopies(): Array<{ from?: string; srcs: string[]; dest: string }> {
  const lines = readFileSync(join(root, 'Dockerfile'), 'utf8').split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));
  const last = lines.map((l, i) => (/^FROM\s/i.test(l) ? i : -1)).filter((i) => i >= 0).pop()!;
  return lines
    .slice(last + 1)
    .filter((l) => /^COPY\s/i.test(l))
    .map((l) => {
      const words = l.split(/\s+/).slice(1);
      const from = words[0].startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
      const dest = words.pop()!;
      return { ...(from ? { from } : {}), srcs: words, dest };
    });
}

function bin(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(image, 'bin', 'wsbench.js'), ...args], { cwd: work, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  for (const c of finalCopies()) {
    if (c.from === 'deps') {
      // `npm ci --omit=dev` in the deps stage: this checkout's node_modules stands in (a superset).
      symlinkSync(join(root, 'node_modules'), join(image, c.dest), 'dir');
      continue;
    }
    // The build stage's /wsbench/<x> is this checkout's compiled <x>.
    const srcs = c.from === 'build' ? c.srcs.map((s) => s.replace(/^\/wsbench\//, '')) : c.srcs;
    for (const s of srcs) {
      const to = c.dest.endsWith('/') ? join(image, c.dest, basename(s)) : join(image, c.dest);
      mkdirSync(join(to, '..'), { recursive: true });
      cpSync(join(root, s), to, { recursive: true });
    }
  }
});

afterAll(() => {
  rmSync(image, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe("the image's files (the Dockerfile's final stage) run the CLI a pod runs", () => {
  it('holds the bin, dist/ and the package root markers', () => {
    for (const f of ['bin/wsbench.js', 'dist/cli/main.js', 'package.json', 'tsconfig.json']) expect(existsSync(join(image, f)), f).toBe(true);
  });

  it('`wsbench merge` of two partials writes a report that validates (the merge Job of a node-job)', () => {
    const fixture = JSON.parse(readFileSync(join(root, 'fixtures', 'report-default-run.json'), 'utf8')) as RunReport;
    const files = [1, 2].map((index) => {
      const f = join(work, `partial-${index}.json`);
      writeFileSync(f, JSON.stringify({ ...fixture, runId: `${fixture.runId}-${index}`, shard: { index, count: 2, planId: 'image-plan', rooms: 1, connections: 30, members: 29 }, timelineHistograms: [] }));
      return f;
    });
    const r = bin(['merge', ...files, '--out', join(work, 'merged')]);
    expect(r.stderr).not.toContain('ENOENT');
    expect([0, 1], r.stderr).toContain(r.code);
    const report = JSON.parse(readFileSync(join(work, 'merged', 'report.json'), 'utf8')) as RunReport & { mergedFrom: { shards: unknown[] } };
    expect(validateReport(report)).toEqual([]);
    expect(report.mergedFrom.shards).toHaveLength(2);
    expect(report.accounting.expected).toBe(2 * fixture.accounting.expected);
  });

  it('`wsbench render node-job` and `render k6-operator` (the k6 script bundled from the image) print their manifests', () => {
    const job = bin(['render', 'node-job', 'cross-node-broadcast', '--parallelism', '2', '--image', 'registry.example/wsbench:0.1.0']);
    expect(job.code, job.stderr).toBe(0);
    expect(job.stdout).toContain('completionMode: Indexed');
    const k6 = bin(['render', 'k6-operator', 'cross-node-broadcast', '--parallelism', '2', '--k6-version', '0.48.0', '--image', 'registry.example/wsbench:0.1.0']);
    expect(k6.code, k6.stderr).toBe(0);
    expect(k6.stdout).toContain('kind: TestRun');
    expect(k6.stdout).toContain('idInTest');
  });
});
