import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExactDelivery, expectSpreadOverThreeNodes } from './support/assert-run.js';
import { buildPlan } from '../../cli/plan.js';
import { run, type RunOutcome } from '../../runner/run.js';
import { eventsInto } from './support/run-events.js';
import { readReport } from '../../reports/write-report.js';
import { isAlive, pidsMatching } from './support/processes.js';

/** Every field path docs/report-format.md documents for report.json (its RunReport table). */
function documentedPaths(): string[] {
  const readme = readFileSync(new URL('../../docs/report-format.md', import.meta.url), 'utf8');
  const start = readme.indexOf('## RunReport fields');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const paths: string[] = [];
  for (const m of section.matchAll(/^\| `([^`]+)` \|/gm)) paths.push(m[1]);
  return paths;
}

function has(obj: unknown, path: string): boolean {
  // `a.b[]` → a.b is an array (checked on its first element if any); `<name>` / `*` → every key.
  const parts = path.replace(/\[\]/g, '.[]').split('.').filter(Boolean);
  const walk = (v: unknown, i: number): boolean => {
    if (i === parts.length) return v !== undefined;
    const p = parts[i];
    if (v === null || typeof v !== 'object') return false;
    if (p === '[]') return Array.isArray(v) && (v.length === 0 || walk(v[0], i + 1));
    if (p.startsWith('<') || p === '*') return Object.values(v).every((x) => walk(x, i + 1));
    if (p.endsWith('?')) return !(p.slice(0, -1) in v) || walk((v as Record<string, unknown>)[p.slice(0, -1)], i + 1);
    return p in v && walk((v as Record<string, unknown>)[p], i + 1);
  };
  return walk(obj, 0);
}

describe('cross-node-broadcast on the local driver (real redis-server, nginx, 3 nodes)', () => {
  let outcome: RunOutcome;
  let pids: () => number[] = () => [];
  let seenPids: number[] = [];
  let stderr = '';
  let out = '';

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'wsb-it-'));
    const plan = buildPlan('cross-node-broadcast', {
      connections: '300',
      rooms: '10',
      rate: '5',
      duration: '6',
      warmup: '1',
      drain: '2',
      out,
    });
    const err = new PassThrough();
    err.on('data', (c: Buffer) => (stderr += c.toString()));
    const controller = new AbortController();
    const poll = setInterval(() => (seenPids = [...new Set([...seenPids, ...pids()])]), 200);
    outcome = await run(plan, { onEvent: eventsInto(err), signal: controller.signal, onPids: (p) => (pids = p) });
    clearInterval(poll);
  }, 120_000);

  afterAll(async () => {
    for (const pid of seenPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('ran without a harness error', () => {
    expect(outcome.report.error, stderr).toBeUndefined();
    expect([0, 1]).toContain(outcome.exitCode);
    expect(outcome.exitCode).toBe(outcome.report.verdict === 'pass' ? 0 : 1);
  });

  it('spread connections over all 3 nodes, and the per-node counts sum to the total', () => {
    expectSpreadOverThreeNodes(outcome.report, 300);
    expect(outcome.report.counters.connections).toBe(300);
  });

  it('delivered every message across nodes exactly once and in order', () => {
    // 10 rooms × (300 − 10 publishers) / 10 = 29 members per room.
    expectExactDelivery(outcome.report, 29);
  });

  it('timed every measured delivery in merged HDR histograms, split same/cross node', () => {
    const m = outcome.report.metrics;
    expect(m.broadcast_latency_ms.count).toBe(m.broadcast_latency_same_node_ms.count + m.broadcast_latency_cross_node_ms.count);
    expect(m.broadcast_latency_cross_node_ms.count).toBeGreaterThan(m.broadcast_latency_same_node_ms.count);
    expect(m.broadcast_latency_ms.p50).toBeLessThanOrEqual(m.broadcast_latency_ms.p99);
    expect(m.connect_time_ms.count).toBe(300);
    expect(outcome.report.targets.map((t) => t.id)).toEqual(['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order']);
  });

  it('wrote a report.json with every field docs/report-format.md documents', async () => {
    const report = await readReport(outcome.reportPath);
    const paths = documentedPaths();
    expect(paths.length).toBeGreaterThan(40);
    const missing = paths.filter((p) => !has(report, p));
    expect(missing).toEqual([]);
  });

  it('left no process of the run behind', async () => {
    expect(seenPids.length).toBeGreaterThanOrEqual(6); // redis, 3 nodes, nginx, ≥1 worker
    expect(seenPids.filter(isAlive)).toEqual([]);
    // redis-server --dir and nginx -p name the run folder on their command lines.
    expect(await pidsMatching(out)).toEqual([]);
  });
});
